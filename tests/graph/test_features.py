"""Graph features on the default path (DuckDB + igraph), checked on a hand-built world."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.graph import small_graph as world
from tests.graph.random_world import naive_features, random_world
from zhongtai.graph.build import build_graph_features, graph_features_path
from zhongtai.graph.features import GRAPH_FEATURES_SCHEMA, graph_features
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def _rows(features: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["application_id"]: row for row in features.to_pylist()}


def _small_world_features() -> pa.Table:
    return graph_features(world.edges(), world.applications(), world.labels(), world.lists())


def test_features_match_the_values_worked_out_by_hand() -> None:
    features = _small_world_features()

    assert features.schema == GRAPH_FEATURES_SCHEMA
    rows = _rows(features)
    assert sorted(rows) == sorted(world.APPLICATIONS)
    for application, expected in world.EXPECTED.items():
        got = {column: rows[application][column] for column in world.COLUMNS}
        assert got == pytest.approx(dict(zip(world.COLUMNS, expected, strict=True))), application
        applicant, applied_at = world.APPLICATIONS[application]
        assert rows[application]["applicant_id"] == applicant
        assert rows[application]["applied_at"] == applied_at


def test_later_edges_defaults_and_list_entries_change_no_earlier_application() -> None:
    later = datetime(2027, 1, 1)
    every_identifier = sorted({link for links in world.IDENTIFIERS.values() for link in links})
    late_edges = pa.table(
        {
            "application_id": ["late"] * len(every_identifier),
            "applicant_id": ["LATE"] * len(every_identifier),
            "identifier_type": [kind for kind, _ in every_identifier],
            "identifier_value": [value for _, value in every_identifier],
            "linked_at": pa.array([later] * len(every_identifier), pa.timestamp("us")),
        }
    )
    late_application = pa.table(
        {
            "application_id": ["late"],
            "applicant_id": ["LATE"],
            "applied_at": pa.array([later], pa.timestamp("us")),
            "requested_amount_minor": pa.array([1], pa.int64()),
        }
    )
    late_labels = pa.table(
        {
            "application_id": ["f1a", "late"],
            "applicant_id": ["F1", "LATE"],
            "is_first_payment_default": [True, True],
            "first_payment_default_date": pa.array([date(2027, 2, 1)] * 2, pa.date32()),
        }
    )
    late_lists = pa.table(
        {
            "list_type": ["black", "black"],
            "applicant_id": ["F2", "LATE"],
            "phone_pseudonym": pa.array([None, None], pa.string()),
            "device_id": pa.array([None, None], pa.string()),
            "added_at": pa.array([later, later], pa.timestamp("us")),
            "expires_at": pa.array([None, None], pa.timestamp("us")),
        }
    )

    grown = graph_features(
        pa.concat_tables([world.edges(), late_edges]),
        pa.concat_tables([world.applications(), late_application]),
        pa.concat_tables([world.labels(), late_labels]),
        pa.concat_tables([world.lists(), late_lists]),
    )

    before, after = _rows(_small_world_features()), _rows(grown)
    for application in world.APPLICATIONS:
        assert after[application] == before[application], application
    # The late application links to everyone but N (who has no identifier).
    assert after["late"]["component_size"] == 9
    assert after["late"]["neighbour_count"] == 8


def test_an_edge_after_an_application_leaves_its_component_as_it_was() -> None:
    """F1's second application joins the family to the ring on 5 February, not before."""
    rows = _rows(_small_world_features())
    assert rows["f2a"]["component_size"] == 2  # the family alone on 20 January
    assert rows["r3"]["component_size"] == 3  # the ring alone on 10 January
    assert rows["f1b"]["component_size"] == 5  # family and ring from 5 February


def test_build_writes_microsecond_parquet_from_the_marts(settings: Settings) -> None:
    settings.marts_dir.mkdir(parents=True)
    for mart, table in {
        "identifier_edges": world.edges(),
        "application_features": world.applications(),
        "loan_performance_labels": world.labels(),
        "list_entries": world.lists(),
    }.items():
        pq.write_table(table, mart_path(settings, mart))

    path = build_graph_features(settings)

    assert path == graph_features_path(settings) == settings.features_dir / "graph_features.parquet"
    written = pq.read_table(path)
    assert written.schema.field("applied_at").type == pa.timestamp("us")
    assert written.equals(_small_world_features())
    assert [p.name for p in settings.features_dir.iterdir()] == ["graph_features.parquet"]


def test_build_names_the_missing_mart(settings: Settings) -> None:
    with pytest.raises(FileNotFoundError, match="identifier_edges"):
        build_graph_features(settings)


def test_a_missing_column_is_named() -> None:
    edges = world.edges().drop_columns(["linked_at"])
    with pytest.raises(ValueError, match="identifier_edges lacks column\\(s\\) linked_at"):
        graph_features(edges, world.applications(), world.labels(), world.lists())


@pytest.mark.parametrize(("seed", "values"), [(0, 20), (1, 20), (2, 80), (3, 80), (4, 300)])
def test_features_follow_the_definitions_on_random_worlds(seed: int, values: int) -> None:
    """From one dense component (20 values per type) to many small ones (300)."""
    tables = random_world(seed, values=values)
    expected = naive_features(*tables)

    rows = _rows(graph_features(*tables))

    assert sorted(rows) == sorted(expected)
    for application, features in expected.items():
        got = {column: rows[application][column] for column in features}
        assert got == pytest.approx(features), application
