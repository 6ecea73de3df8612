"""Graph features on the default path: DuckDB runs the portable SQL, igraph the components.

The definitions are in `zhongtai.graph.sql`. `graph_features` is the pure entry point
(Arrow tables in, Arrow table out); `features_on` does the work on a DuckDB connection
where the four marts are relations, so that `zhongtai.graph.build` can point them at the
Parquet files and let DuckDB stream them instead of loading them into Python.
"""

from __future__ import annotations

import logging
import time

import duckdb
import numpy as np
import pyarrow as pa

from zhongtai.graph.components import asof_component_sizes
from zhongtai.graph.sql import FEATURE_COLUMNS, FEATURES, REQUIRED_COLUMNS, STEPS, check_columns

log = logging.getLogger(__name__)


def _arrow_type(column: str) -> pa.DataType:
    if column in ("application_id", "applicant_id"):
        return pa.string()
    if column == "applied_at":
        return pa.timestamp("us")  # Feast's DuckDB offline store refuses nanoseconds
    if column.endswith(("_share", "_score")):
        return pa.float64()
    return pa.int64()  # sizes and counts


GRAPH_FEATURES_SCHEMA = pa.schema([pa.field(c, _arrow_type(c)) for c in FEATURE_COLUMNS])

_EPOCH_DAY = "date_diff('day', date '1970-01-01', cast({column} as date))"

# DuckDB's preparation: the marts' times as integers (see zhongtai.graph.sql).
_PREPARE: tuple[tuple[str, str, str], ...] = (
    (
        "view",
        "graph_links",
        """
        select application_id, applicant_id, identifier_type, identifier_value,
            epoch_us(cast(linked_at as timestamp)) as linked_us
        from identifier_edges
        """,
    ),
    (
        "table",
        "graph_applications",
        f"""
        select application_id, applicant_id, cast(applied_at as timestamp) as applied_at,
            epoch_us(cast(applied_at as timestamp)) as applied_us,
            {_EPOCH_DAY.format(column="applied_at")} as applied_day
        from application_features
        """,
    ),
    (
        "table",
        "graph_defaults",
        f"""
        select applicant_id, is_first_payment_default,
            {_EPOCH_DAY.format(column="first_payment_default_date")} as default_day
        from loan_performance_labels
        where is_first_payment_default
        """,
    ),
    (
        "table",
        "graph_list_entries",
        """
        select list_type, applicant_id,
            epoch_us(cast(added_at as timestamp)) as added_us,
            epoch_us(cast(expires_at as timestamp)) as expires_us
        from list_entries
        where list_type = 'black' and applicant_id is not null
        """,
    ),
)


def graph_features(
    edges: pa.Table, applications: pa.Table, labels: pa.Table, lists: pa.Table
) -> pa.Table:
    """One row of graph features per application (`GRAPH_FEATURES_SCHEMA`).

    The inputs are the marts ``identifier_edges``, ``application_features``,
    ``loan_performance_labels`` and ``list_entries`` (at least their `REQUIRED_COLUMNS`).
    """
    connection = duckdb.connect()
    try:
        for name, table in zip(REQUIRED_COLUMNS, (edges, applications, labels, lists), strict=True):
            connection.register(name, table)
        return features_on(connection)
    finally:
        connection.close()


def features_on(connection: duckdb.DuckDBPyConnection) -> pa.Table:
    """The features of the marts that `connection` holds as relations named after them."""
    for name in REQUIRED_COLUMNS:
        check_columns(name, connection.table(name).columns)
    for kind, name, query in _PREPARE:
        _timed(connection, f"create or replace temp {kind} {name} as {query}", name)
    for name, query in STEPS:
        _timed(connection, f"create or replace temp table {name} as {query}", name)
    _component_sizes(connection)
    started = time.perf_counter()
    result = connection.sql(f"select * from ({FEATURES}) order by application_id")
    features = result.to_arrow_table().cast(GRAPH_FEATURES_SCHEMA)
    log.info("%d feature rows in %.1f s", features.num_rows, time.perf_counter() - started)
    return features


def _component_sizes(connection: duckdb.DuckDBPyConnection) -> None:
    """``graph_component_sizes``: igraph on the shared links, numbered densely for it."""
    for name, query in (
        (
            "graph_component_applicants",
            """select applicant_id, row_number() over () - 1 as applicant_number
            from (select distinct applicant_id from graph_shared_links)""",
        ),
        (
            "graph_component_identifiers",
            """select identifier_type, identifier_value,
                row_number() over () - 1 as identifier_number
            from (select distinct identifier_type, identifier_value from graph_shared_links)""",
        ),
        (
            "graph_component_queries",
            """select row_number() over () - 1 as query_number, ap.application_id,
                a.applicant_number, ap.applied_us
            from graph_applications as ap
            inner join graph_component_applicants as a on a.applicant_id = ap.applicant_id""",
        ),
    ):
        _timed(connection, f"create or replace temp table {name} as {query}", name)
    links = connection.execute(
        """select a.applicant_number, i.identifier_number, l.linked_us
        from graph_shared_links as l
        inner join graph_component_applicants as a on a.applicant_id = l.applicant_id
        inner join graph_component_identifiers as i
            on i.identifier_type = l.identifier_type and i.identifier_value = l.identifier_value
        """
    ).fetchnumpy()
    queries = connection.execute(
        "select applicant_number, applied_us from graph_component_queries order by query_number"
    ).fetchnumpy()
    started = time.perf_counter()
    sizes = asof_component_sizes(
        _int64(links["applicant_number"]),
        _int64(links["identifier_number"]),
        _int64(links["linked_us"]),
        _int64(queries["applicant_number"]),
        _int64(queries["applied_us"]),
    )
    log.info(
        "as-of component sizes of %d applications in %.1f s",
        sizes.size,
        time.perf_counter() - started,
    )
    values = pa.table(
        {"query_number": np.arange(sizes.size, dtype=np.int64), "component_size": sizes}
    )
    connection.register("graph_component_size_values", values)
    _timed(
        connection,
        """create or replace temp table graph_component_sizes as
        select q.application_id, s.component_size
        from graph_component_queries as q
        inner join graph_component_size_values as s on s.query_number = q.query_number""",
        "graph_component_sizes",
    )
    connection.unregister("graph_component_size_values")


def _int64(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _timed(connection: duckdb.DuckDBPyConnection, statement: str, name: str) -> None:
    started = time.perf_counter()
    connection.execute(statement)
    log.info("%s in %.1f s", name, time.perf_counter() - started)
