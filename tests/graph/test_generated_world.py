"""On a generated lender's world built through the warehouse, rings stand out in the graph."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pyarrow.parquet as pq

from zhongtai.graph.build import build_graph_features
from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate, simulate_chunk
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.dbt import run_dbt

DELIVERY = date(2026, 11, 23)
APPLICANTS = 3000  # one generator chunk, so simulate_chunk gives the same world's truth
SEED = 5


def test_ring_members_score_far_higher_than_everyone_else(settings: Settings) -> None:
    generate(settings.inbox_dir, applicants=APPLICANTS, seed=SEED, delivery_date=DELIVERY)
    land_german_credit_file(settings.inbox_dir, DELIVERY)
    land_delivery(DELIVERY, settings)
    run_dbt(["run"], settings, "duckdb")

    features = pq.read_table(build_graph_features(settings))

    truth = simulate_chunk(seed=SEED, delivery_date=DELIVERY, applicants=APPLICANTS).truth
    joined = features.join(truth.select(["application_id", "is_fraud_ring"]), "application_id")
    assert joined.num_rows == features.num_rows
    in_ring = joined.filter(pc.field("is_fraud_ring"))
    others = joined.filter(~pc.field("is_fraud_ring"))
    assert in_ring.num_rows >= 20
    ring_mean = pc.mean(in_ring["ring_score"]).as_py()
    others_mean = pc.mean(others["ring_score"]).as_py()
    assert ring_mean > 0.5
    assert others_mean < 0.05
    assert (
        pc.mean(in_ring["component_size"]).as_py() > 5 * pc.mean(others["component_size"]).as_py()
    )
