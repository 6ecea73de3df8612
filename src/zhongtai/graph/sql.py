"""The graph features, defined once as SQL that runs unchanged on DuckDB and Spark SQL.

The graph is bipartite: applicants on one side, identifier values (a device, a phone, a
/24 IP range, an address) on the other, one edge per link an application made, dated by
that application. Every feature of an application is computed on the graph *as of* its
``applied_at``: only edges with ``linked_at <= applied_at`` exist (ties count), so an edge
made later never changes an earlier application's features.

- ``component_size``: applicants in the applicant's connected component (1 when alone).
- ``neighbour_count``: other applicants sharing at least one identifier value with any of
  the applicant's links so far.
- ``{device,phone,ip_range}_sharers_{7,30}d``: other applicants linked to *this
  application's* values of that type within ``[applied_at - N days, applied_at]``.
- ``neighbour_default_share``: share of neighbours with a first-payment default known
  before the application's day (``first_payment_default_date < date(applied_at)``).
- ``neighbour_blacklist_share``: share of neighbours on a ``black`` list entry active at
  ``applied_at`` (added at or before it, not yet expired).
- ``ring_score = (shared types / 4) × (1 − 1 / component_size)``, in ``[0, 1)``: the
  identifier types of this application (device, phone, IP range, address) that another
  applicant already links to, times how far from alone the component is. A fraud ring
  shares several kinds of identifier inside a dense group and scores high; a family that
  shares only an address scores at most 1/4 × (1 − 1/size).

Portability: the engines differ on time arithmetic, so each one first prepares its inputs
with times as integers (``*_us``: microseconds since the epoch of the naive UTC timestamp;
``*_day``: days since 1970-01-01) as four relations:

- ``graph_links(application_id, applicant_id, identifier_type, identifier_value, linked_us)``
- ``graph_applications(application_id, applicant_id, applied_at, applied_us, applied_day)``
- ``graph_defaults(applicant_id, is_first_payment_default, default_day)``
- ``graph_list_entries(list_type, applicant_id, added_us, expires_us)``

From there, every step
is plain SQL both engines parse alike; the only engine-specific step left is the as-of
component size (igraph on the default path, iterative joins on Spark), which each engine
provides as ``graph_component_sizes(application_id, component_size)``.

Identifiers linked to a single applicant ever cannot connect anyone, so the steps work on
the *shared* identifiers only: a small fraction of the links.
"""

from __future__ import annotations

IDENTIFIER_TYPES: tuple[str, ...] = ("device", "phone", "ip_range", "address")
SHARER_TYPES: tuple[str, ...] = ("device", "phone", "ip_range")
WINDOW_DAYS: tuple[int, ...] = (7, 30)
MICROSECONDS_PER_DAY = 86_400 * 1_000_000

# The marts' columns each input needs, to name what is missing before any SQL runs.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "identifier_edges": (
        "application_id",
        "applicant_id",
        "identifier_type",
        "identifier_value",
        "linked_at",
    ),
    "application_features": ("application_id", "applicant_id", "applied_at"),
    "loan_performance_labels": (
        "applicant_id",
        "is_first_payment_default",
        "first_payment_default_date",
    ),
    "list_entries": ("list_type", "applicant_id", "added_at", "expires_at"),
}

FEATURE_COLUMNS: tuple[str, ...] = (
    "application_id",
    "applicant_id",
    "applied_at",
    "component_size",
    "neighbour_count",
    *(f"{kind}_sharers_{days}d" for kind in SHARER_TYPES for days in WINDOW_DAYS),
    "neighbour_default_share",
    "neighbour_blacklist_share",
    "ring_score",
)


def check_columns(name: str, columns: list[str] | tuple[str, ...]) -> None:
    """Refuse an input that lacks a column the features need, naming input and columns."""
    missing = [column for column in REQUIRED_COLUMNS[name] if column not in columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {', '.join(missing)}; "
            f"the graph features need {', '.join(REQUIRED_COLUMNS[name])}"
        )


_SAME_IDENTIFIER = (
    "{a}.identifier_type = {b}.identifier_type and {a}.identifier_value = {b}.identifier_value"
)


def _same_identifier(a: str, b: str) -> str:
    return _SAME_IDENTIFIER.format(a=a, b=b)


# First link of each applicant to each identifier that two or more applicants share:
# the graph of the component sizes and of the neighbours.
SHARED_LINKS = f"""
with first_links as (
    select applicant_id, identifier_type, identifier_value, min(linked_us) as linked_us
    from graph_links
    group by applicant_id, identifier_type, identifier_value
),

shared_identifiers as (
    select identifier_type, identifier_value
    from first_links
    group by identifier_type, identifier_value
    having count(*) > 1
)

select f.applicant_id, f.identifier_type, f.identifier_value, f.linked_us
from first_links as f
inner join shared_identifiers as s on {_same_identifier("f", "s")}
"""

# Every dated link to a shared identifier: what the windows count.
SHARED_EDGES = f"""
with shared_identifiers as (
    select distinct identifier_type, identifier_value
    from graph_shared_links
)

select l.application_id, l.applicant_id, l.identifier_type, l.identifier_value, l.linked_us
from graph_links as l
inner join shared_identifiers as s on {_same_identifier("l", "s")}
"""

# Two applicants become neighbours when both have linked to a common identifier.
NEIGHBOUR_PAIRS = f"""
select
    a.applicant_id,
    b.applicant_id as neighbour_id,
    min(greatest(a.linked_us, b.linked_us)) as linked_us
from graph_shared_links as a
inner join graph_shared_links as b
    on {_same_identifier("a", "b")} and a.applicant_id <> b.applicant_id
group by a.applicant_id, b.applicant_id
"""

NEIGHBOUR_STATS = """
with application_neighbours as (
    select ap.application_id, ap.applied_us, ap.applied_day, p.neighbour_id
    from graph_applications as ap
    inner join graph_neighbour_pairs as p
        on p.applicant_id = ap.applicant_id and p.linked_us <= ap.applied_us
),

defaulted as (
    select distinct n.application_id, n.neighbour_id
    from application_neighbours as n
    inner join graph_defaults as d
        on d.applicant_id = n.neighbour_id
        and d.is_first_payment_default = true
        and d.default_day < n.applied_day
),

blacklisted as (
    select distinct n.application_id, n.neighbour_id
    from application_neighbours as n
    inner join graph_list_entries as e
        on e.applicant_id = n.neighbour_id
        and e.list_type = 'black'
        and e.added_us <= n.applied_us
        and (e.expires_us is null or e.expires_us > n.applied_us)
)

select
    n.application_id,
    count(*) as neighbour_count,
    count(d.neighbour_id) as defaulted_count,
    count(b.neighbour_id) as blacklisted_count
from application_neighbours as n
left join defaulted as d
    on d.application_id = n.application_id and d.neighbour_id = n.neighbour_id
left join blacklisted as b
    on b.application_id = n.application_id and b.neighbour_id = n.neighbour_id
group by n.application_id
"""


def _sharers_column(kind: str, days: int) -> str:
    return (
        f"count(distinct case when own.identifier_type = '{kind}' "
        f"and other.linked_us >= ap.applied_us - {days * MICROSECONDS_PER_DAY} "
        f"then other.applicant_id end) as {kind}_sharers_{days}d"
    )


_SHARERS_COLUMNS = ",\n    ".join(
    _sharers_column(kind, days) for kind in SHARER_TYPES for days in WINDOW_DAYS
)

# Who else links to this application's own identifiers, as of it and within the windows.
SHARER_STATS = f"""
select
    own.application_id,
    {_SHARERS_COLUMNS},
    count(distinct own.identifier_type) as shared_types_count
from graph_shared_edges as own
inner join graph_applications as ap on ap.application_id = own.application_id
inner join graph_shared_edges as other
    on {_same_identifier("other", "own")}
    and other.applicant_id <> ap.applicant_id
    and other.linked_us <= ap.applied_us
group by own.application_id
"""


def _share(numerator: str) -> str:
    return (
        "case when coalesce(n.neighbour_count, 0) = 0 then cast(0 as double) "
        f"else cast(n.{numerator} as double) / cast(n.neighbour_count as double) end"
    )


_SHARER_OUTPUTS = ",\n    ".join(
    f"coalesce(s.{kind}_sharers_{days}d, 0) as {kind}_sharers_{days}d"
    for kind in SHARER_TYPES
    for days in WINDOW_DAYS
)

FEATURES = f"""
select
    ap.application_id,
    ap.applicant_id,
    ap.applied_at,
    coalesce(c.component_size, 1) as component_size,
    coalesce(n.neighbour_count, 0) as neighbour_count,
    {_SHARER_OUTPUTS},
    {_share("defaulted_count")} as neighbour_default_share,
    {_share("blacklisted_count")} as neighbour_blacklist_share,
    cast(coalesce(s.shared_types_count, 0) as double) / {len(IDENTIFIER_TYPES)}
        * (1 - 1 / cast(coalesce(c.component_size, 1) as double)) as ring_score
from graph_applications as ap
left join graph_component_sizes as c on c.application_id = ap.application_id
left join graph_neighbour_stats as n on n.application_id = ap.application_id
left join graph_sharer_stats as s on s.application_id = ap.application_id
"""

# The steps each engine materialises in order, before its component sizes and FEATURES.
STEPS: tuple[tuple[str, str], ...] = (
    ("graph_shared_links", SHARED_LINKS),
    ("graph_shared_edges", SHARED_EDGES),
    ("graph_neighbour_pairs", NEIGHBOUR_PAIRS),
    ("graph_neighbour_stats", NEIGHBOUR_STATS),
    ("graph_sharer_stats", SHARER_STATS),
)
