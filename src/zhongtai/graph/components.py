"""As-of connected component sizes with igraph: the size an applicant's component had then.

Edges are only ever added, so an application's as-of component lies inside its
applicant's final component, and within that component the edges existing at time t are
a prefix of its links sorted by time. So:

1. igraph splits the final graph once into components;
2. each component's links are sorted by time, and each application maps to k, the number
   of its component's links dated at or before it (k = all: the final component; k = 0:
   alone);
3. the remaining (component, k) prefixes are replayed with igraph in rounds: round r takes
   the r-th smallest k of every component that has one. Prefixes of different components
   share no vertex, so one igraph call splits a whole round. The number of rounds is the
   largest number of distinct k in one component (tens: components are small), and no
   Python loop runs per component, which keeps a million applicants to seconds.
"""

from __future__ import annotations

import logging

import igraph
import numpy as np
from numpy.typing import NDArray

Int64Array = NDArray[np.int64]

log = logging.getLogger(__name__)


def asof_component_sizes(
    link_applicant: Int64Array,
    link_identifier: Int64Array,
    link_us: Int64Array,
    query_applicant: Int64Array,
    query_us: Int64Array,
) -> Int64Array:
    """Applicants in each query applicant's component, using links dated at or before it.

    Links are (applicant number, identifier number, time); queries are (applicant number,
    time). Numbers are dense from 0; times are integers (e.g. epoch microseconds).
    """
    if not link_applicant.shape == link_identifier.shape == link_us.shape:
        raise ValueError("link_applicant, link_identifier and link_us must have one length")
    if query_applicant.shape != query_us.shape:
        raise ValueError("query_applicant and query_us must have one length")
    sizes = np.ones(query_applicant.size, dtype=np.int64)
    if link_applicant.size == 0 or query_applicant.size == 0:
        return sizes
    applicants = int(max(link_applicant.max(), query_applicant.max())) + 1
    vertices = applicants + int(link_identifier.max()) + 1
    edges = np.column_stack([link_applicant, link_identifier + applicants])
    membership = _membership(vertices, edges)
    final_sizes = np.bincount(membership[:applicants])

    # Links sorted by (component, time); each query's k among its component's links.
    link_component = membership[link_applicant]
    times, time_rank = np.unique(np.concatenate([link_us, query_us]), return_inverse=True)
    link_key = link_component * (times.size + 1) + time_rank[: link_us.size]
    order = np.argsort(link_key, kind="stable")
    link_key = link_key[order]
    edges = edges[order]
    query_component = membership[query_applicant]
    query_key = query_component * (times.size + 1) + time_rank[link_us.size :]
    component_start = np.searchsorted(link_key, query_component * (times.size + 1))
    component_links = np.bincount(link_component, minlength=vertices)[query_component]
    k = np.searchsorted(link_key, query_key, side="right") - component_start

    final = k == component_links
    sizes[final] = final_sizes[membership[query_applicant[final]]]
    partial = np.flatnonzero((k > 0) & ~final)
    if partial.size == 0:
        return sizes

    # Distinct (component, k) prefixes to replay, numbered into rounds per component.
    prefixes, prefix_of_query = np.unique(
        np.column_stack([query_component[partial], k[partial]]), axis=0, return_inverse=True
    )
    prefix_start = np.searchsorted(link_key, prefixes[:, 0] * (times.size + 1))
    first_of_component = np.r_[True, prefixes[1:, 0] != prefixes[:-1, 0]]
    group_start = np.maximum.accumulate(np.where(first_of_component, np.arange(len(prefixes)), 0))
    prefix_round = np.arange(len(prefixes)) - group_start
    rounds = int(prefix_round.max()) + 1
    log.info(
        "%d applications in %d components; replaying %d as-of prefixes in %d rounds",
        query_applicant.size,
        np.unique(query_component).size,
        len(prefixes),
        rounds,
    )
    query_round = prefix_round[prefix_of_query.ravel()]
    for round_number in range(rounds):
        replayed = np.flatnonzero(prefix_round == round_number)
        lengths = prefixes[replayed, 1]
        # The links of each replayed prefix: positions start .. start + length - 1.
        positions = np.repeat(prefix_start[replayed] - np.cumsum(lengths) + lengths, lengths)
        positions += np.arange(positions.size)
        round_membership = _membership(vertices, edges[positions])
        round_sizes = np.bincount(round_membership[:applicants])
        queries = partial[query_round == round_number]
        sizes[queries] = round_sizes[round_membership[query_applicant[queries]]]
    return sizes


def _membership(vertices: int, edges: Int64Array) -> Int64Array:
    graph = igraph.Graph(n=vertices, edges=edges)
    return np.asarray(graph.connected_components().membership, dtype=np.int64)
