"""Graph features on Spark: the scale path, same definitions as the default path.

Spark prepares the marts' times as integers (its own functions, no session time zone
involved for naive timestamps), runs the portable steps of `zhongtai.graph.sql`
unchanged, and computes the as-of component sizes by a breadth-first search per
application: iterative joins over the shared links dated at or before the application,
until no new applicant is reached. Components are small, so the search ends in a few
rounds. Each step is checkpointed locally to keep the plans short.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from zhongtai.graph.sql import FEATURE_COLUMNS, FEATURES, REQUIRED_COLUMNS, STEPS, check_columns

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

MAX_SEARCH_ROUNDS = 1_000


def spark_graph_features(
    edges: DataFrame, applications: DataFrame, labels: DataFrame, lists: DataFrame
) -> DataFrame:
    """One row of graph features per application, as `zhongtai.graph.features.graph_features`.

    The inputs are the marts ``identifier_edges``, ``application_features``,
    ``loan_performance_labels`` and ``list_entries``; naive UTC timestamps are expected as
    Spark reads them from Parquet (``TIMESTAMP_NTZ``).
    """
    from pyspark.sql import functions as F

    for name, frame in zip(REQUIRED_COLUMNS, (edges, applications, labels, lists), strict=True):
        check_columns(name, frame.columns)
    spark = edges.sparkSession
    prepared = {
        "graph_links": edges.select(
            "application_id",
            "applicant_id",
            "identifier_type",
            "identifier_value",
            _epoch_us("linked_at").alias("linked_us"),
        ),
        "graph_applications": applications.select(
            "application_id",
            "applicant_id",
            F.col("applied_at").cast("timestamp_ntz").alias("applied_at"),
            _epoch_us("applied_at").alias("applied_us"),
            F.unix_date(F.col("applied_at").cast("date")).alias("applied_day"),
        ),
        "graph_defaults": labels.where(F.col("is_first_payment_default")).select(
            "applicant_id",
            "is_first_payment_default",
            F.unix_date(F.col("first_payment_default_date").cast("date")).alias("default_day"),
        ),
        "graph_list_entries": lists.where(
            (F.col("list_type") == "black") & F.col("applicant_id").isNotNull()
        ).select(
            "list_type",
            "applicant_id",
            _epoch_us("added_at").alias("added_us"),
            _epoch_us("expires_at").alias("expires_us"),
        ),
    }
    for name, frame in prepared.items():
        frame.localCheckpoint().createOrReplaceTempView(name)
    for name, query in STEPS:
        spark.sql(query).localCheckpoint().createOrReplaceTempView(name)
    component_sizes(spark).createOrReplaceTempView("graph_component_sizes")
    return spark.sql(FEATURES).select(*FEATURE_COLUMNS)


def component_sizes(spark: SparkSession) -> DataFrame:
    """``graph_component_sizes``: breadth-first search per application over dated links.

    Reads the temp views ``graph_applications`` and ``graph_shared_links``; applications
    whose applicant has no shared link are left out (their size is 1).
    """
    from pyspark.sql import functions as F

    links = spark.table("graph_shared_links")
    linked = links.select("applicant_id").distinct()
    reached = (
        spark.table("graph_applications")
        .join(linked, "applicant_id")
        .select("application_id", "applied_us", "applicant_id")
        .localCheckpoint()
    )
    frontier = reached
    for round_number in range(1, MAX_SEARCH_ROUNDS + 1):
        near = links.alias("near")
        far = links.alias("far")
        step = (
            frontier.alias("f")
            .join(
                near,
                (F.col("near.applicant_id") == F.col("f.applicant_id"))
                & (F.col("near.linked_us") <= F.col("f.applied_us")),
            )
            .join(
                far,
                (F.col("far.identifier_type") == F.col("near.identifier_type"))
                & (F.col("far.identifier_value") == F.col("near.identifier_value"))
                & (F.col("far.linked_us") <= F.col("f.applied_us")),
            )
            .select("f.application_id", "f.applied_us", F.col("far.applicant_id"))
            .distinct()
        )
        frontier = step.join(
            reached, ["application_id", "applied_us", "applicant_id"], "left_anti"
        ).localCheckpoint()
        if frontier.isEmpty():
            log.info("component search done after %d rounds", round_number)
            break
        reached = reached.unionByName(frontier).localCheckpoint()
    else:
        raise RuntimeError(f"component search did not end within {MAX_SEARCH_ROUNDS} rounds")
    return reached.groupBy("application_id").agg(F.count("*").alias("component_size"))


def _epoch_us(column: str) -> Column:
    """Microseconds since the epoch of a naive timestamp, whatever the session time zone."""
    from pyspark.sql import functions as F

    return F.expr(
        f"timestampdiff(MICROSECOND, timestamp_ntz'1970-01-01 00:00:00', "
        f"cast({column} as timestamp_ntz))"
    )
