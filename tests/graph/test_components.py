"""As-of component sizes (igraph) against a direct split of each application's graph."""

from __future__ import annotations

import igraph
import numpy as np

from zhongtai.graph.components import asof_component_sizes


def _direct(
    applicants: int,
    link_applicant: np.ndarray,
    link_identifier: np.ndarray,
    link_us: np.ndarray,
    applicant: int,
    at: int,
) -> int:
    """The definition itself: split the graph of the links dated at or before `at`."""
    kept = link_us <= at
    edges = np.column_stack([link_applicant[kept], link_identifier[kept] + applicants])
    graph = igraph.Graph(n=applicants + int(link_identifier.max()) + 1, edges=edges)
    membership = np.asarray(graph.connected_components().membership)
    return int((membership[:applicants] == membership[applicant]).sum())


def test_sizes_equal_the_definition_on_random_graphs() -> None:
    rng = np.random.default_rng(7)
    for _ in range(100):
        applicants, identifiers = int(rng.integers(1, 25)), int(rng.integers(1, 25))
        links, queries = int(rng.integers(1, 50)), int(rng.integers(1, 30))
        link_applicant = rng.integers(0, applicants, links)
        link_identifier = rng.integers(0, identifiers, links)
        link_us = rng.integers(0, 15, links)
        query_applicant = rng.integers(0, applicants, queries)
        query_us = rng.integers(-1, 16, queries)

        sizes = asof_component_sizes(
            link_applicant, link_identifier, link_us, query_applicant, query_us
        )

        expected = [
            _direct(applicants, link_applicant, link_identifier, link_us, int(a), int(t))
            for a, t in zip(query_applicant, query_us, strict=True)
        ]
        assert sizes.tolist() == expected


def test_no_links_means_alone() -> None:
    empty = np.array([], dtype=np.int64)
    sizes = asof_component_sizes(empty, empty, empty, np.array([0, 1]), np.array([5, 6]))
    assert sizes.tolist() == [1, 1]
