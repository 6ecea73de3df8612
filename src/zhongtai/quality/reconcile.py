"""Reconciliation: rows and amounts agree per ingest date across raw → staging → marts.

Each reconciliation is a small frame computed in DuckDB SQL, one row per ingest date, with
a pair of columns per quantity (``raw_rows`` / ``staging_rows``, ``staging_fee_minor`` /
``labels_fee_minor`` ...). The ``reconciliation`` suite expects each pair to be equal, so
a break shows in Data Docs and the gate names the ingest date and both values.

- **raw → staging**: staging keeps the latest delivery of each key, so the raw side counts,
  per ingest date, the keys whose latest delivery (latest ``_loaded_at``, then
  ``_batch_id``) arrived that day, and sums their amounts. This recomputes dbt's
  ``latest_delivery`` independently: a staging filter, cast or join that loses or changes
  rows shows as a difference.
- **staging → marts**: mart rows are attributed to the ingest date of their key in staging
  (or to ``(not in staging)``), so a mart that lost, duplicated or invented rows shows on
  the day concerned; amounts are summed on both sides.

Every raw partition is reconciled, not only the pending ones: a redelivery moves a key's
latest delivery from an old partition to a new one, which changes both sides of the old day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zhongtai.duck import connect, read_parquet_sql, sql_literal
from zhongtai.landing.rawzone import DATA_NAME
from zhongtai.quality.frames import arrow_to_pandas
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

if TYPE_CHECKING:
    import pandas as pd

NOT_IN_STAGING = "(not in staging)"
_NOT_IN_STAGING = sql_literal(NOT_IN_STAGING)


@dataclass(frozen=True)
class RawToStaging:
    """A raw source against its staging view: rows per ingest date, and money columns."""

    source: str
    staging: str
    key: str
    amounts: tuple[str, ...] = ()


RAW_TO_STAGING: dict[str, RawToStaging] = {
    "applications_raw_to_staging": RawToStaging(
        "applications",
        "stg_lender__applications",
        "application_id",
        ("requested_amount_minor", "monthly_income_minor", "monthly_debt_payment_minor"),
    ),
    "loans_raw_to_staging": RawToStaging(
        "loans", "stg_lender__loans", "loan_id", ("principal_minor", "instalment_amount_minor")
    ),
    "repayments_raw_to_staging": RawToStaging(
        "repayments",
        "stg_lender__repayments",
        "instalment_id",
        ("amount_due_minor", "amount_paid_minor", "fee_minor"),
    ),
    "bureau_inquiries_raw_to_staging": RawToStaging(
        "bureau_inquiries", "stg_bureau__inquiries", "inquiry_id"
    ),
    "device_events_raw_to_staging": RawToStaging(
        "device_events", "stg_device_sdk__events", "event_id"
    ),
    "lists_raw_to_staging": RawToStaging("lists", "stg_lists__entries", "list_entry_id"),
    "partner_portfolio_raw_to_staging": RawToStaging(
        "partner_portfolio", "stg_partner__portfolio_records", "record_id", ("credit_amount",)
    ),
}


def raw_to_staging_sql(check: RawToStaging, settings: Settings) -> str:
    raw = _raw_relation(settings, check.source)
    raw_sums = "".join(
        f",\n        sum({amount}) filter (where delivery_rank = 1) as raw_{amount}"
        for amount in check.amounts
    )
    staging_sums = "".join(
        f",\n        sum({amount}) as staging_{amount}" for amount in check.amounts
    )
    amount_columns = "".join(
        f",\n    coalesce(raw.raw_{amount}, 0)::bigint as raw_{amount}"
        f",\n    coalesce(staging.staging_{amount}, 0)::bigint as staging_{amount}"
        for amount in check.amounts
    )
    selected = ", ".join((check.key, *check.amounts))
    return f"""
with

deliveries as (
    select
        cast(ingest_date as varchar) as ingest_date,
        {selected},
        row_number() over (
            partition by {check.key} order by _loaded_at desc, _batch_id desc
        ) as delivery_rank
    from {raw}
),

raw as (
    select
        ingest_date,
        count(*) filter (where delivery_rank = 1) as raw_rows{raw_sums}
    from deliveries
    group by ingest_date
),

staging as (
    select
        cast(ingest_date as varchar) as ingest_date,
        count(*) as staging_rows{staging_sums}
    from {check.staging}
    group by all
),

ingest_dates as (
    select ingest_date from raw
    union
    select ingest_date from staging
)

select
    ingest_dates.ingest_date,
    coalesce(raw.raw_rows, 0)::bigint as raw_rows,
    coalesce(staging.staging_rows, 0)::bigint as staging_rows{amount_columns}
from ingest_dates
left join raw on ingest_dates.ingest_date = raw.ingest_date
left join staging on ingest_dates.ingest_date = staging.ingest_date
order by ingest_dates.ingest_date
"""


def applications_staging_to_marts_sql(settings: Settings) -> str:
    """Staging applications against application_features, applicant_features and edges."""
    return f"""
with

staging as (
    select
        application_id,
        cast(ingest_date as varchar) as ingest_date,
        requested_amount_minor,
        monthly_income_minor
    from stg_lender__applications
),

staged as (
    select
        ingest_date,
        count(*) as staging_rows,
        sum(requested_amount_minor) as staging_requested_amount_minor,
        sum(monthly_income_minor) as staging_monthly_income_minor
    from staging
    group by ingest_date
),

application_features as (
    select
        coalesce(staging.ingest_date, {_NOT_IN_STAGING}) as ingest_date,
        count(*) as application_features_rows,
        sum(mart.requested_amount_minor) as application_features_requested_amount_minor,
        sum(mart.monthly_income_minor) as application_features_monthly_income_minor
    from {_parquet(settings, "application_features")} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

applicant_features as (
    select
        coalesce(staging.ingest_date, {_NOT_IN_STAGING}) as ingest_date,
        count(*) as applicant_features_rows
    from {_parquet(settings, "applicant_features")} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

identifier_edges as (
    select
        coalesce(staging.ingest_date, {_NOT_IN_STAGING}) as ingest_date,
        count(distinct mart.application_id) as identifier_edges_applications
    from {_parquet(settings, "identifier_edges")} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

ingest_dates as (
    select ingest_date from staged
    union select ingest_date from application_features
    union select ingest_date from applicant_features
    union select ingest_date from identifier_edges
)

select
    ingest_dates.ingest_date,
    coalesce(staged.staging_rows, 0)::bigint as staging_rows,
    coalesce(application_features.application_features_rows, 0)::bigint
        as application_features_rows,
    coalesce(applicant_features.applicant_features_rows, 0)::bigint as applicant_features_rows,
    coalesce(identifier_edges.identifier_edges_applications, 0)::bigint
        as identifier_edges_applications,
    coalesce(staged.staging_requested_amount_minor, 0)::bigint
        as staging_requested_amount_minor,
    coalesce(application_features.application_features_requested_amount_minor, 0)::bigint
        as application_features_requested_amount_minor,
    coalesce(staged.staging_monthly_income_minor, 0)::bigint as staging_monthly_income_minor,
    coalesce(application_features.application_features_monthly_income_minor, 0)::bigint
        as application_features_monthly_income_minor
from ingest_dates
left join staged on ingest_dates.ingest_date = staged.ingest_date
left join application_features on ingest_dates.ingest_date = application_features.ingest_date
left join applicant_features on ingest_dates.ingest_date = applicant_features.ingest_date
left join identifier_edges on ingest_dates.ingest_date = identifier_edges.ingest_date
order by ingest_dates.ingest_date
"""


_LABEL_AMOUNTS = ("amount_due_minor", "fee_minor", "amount_paid_minor")


def loans_staging_to_labels_sql(settings: Settings) -> str:
    """Staging loans and their instalments against loan_performance_labels."""
    staging_sums = "".join(
        f",\n        sum(repayments.{amount}) as staging_{amount}" for amount in _LABEL_AMOUNTS
    )
    label_sums = "".join(
        f",\n        sum(labels.{amount}) as labels_{amount}" for amount in _LABEL_AMOUNTS
    )
    amount_columns = "".join(
        f",\n    coalesce(instalments.staging_{amount}, 0)::bigint as staging_{amount}"
        f",\n    coalesce(labels.labels_{amount}, 0)::bigint as labels_{amount}"
        for amount in _LABEL_AMOUNTS
    )
    return f"""
with

loans as (
    select loan_id, cast(ingest_date as varchar) as ingest_date
    from stg_lender__loans
),

staged as (
    select ingest_date, count(*) as staging_rows
    from loans
    group by ingest_date
),

instalments as (
    select
        loans.ingest_date{staging_sums}
    from stg_lender__repayments as repayments
    inner join loans on repayments.loan_id = loans.loan_id
    group by all
),

labels as (
    select
        coalesce(loans.ingest_date, {_NOT_IN_STAGING}) as ingest_date,
        count(*) as labels_rows{label_sums}
    from {_parquet(settings, "loan_performance_labels")} as labels
    left join loans on labels.loan_id = loans.loan_id
    group by all
),

ingest_dates as (
    select ingest_date from staged
    union select ingest_date from instalments
    union select ingest_date from labels
)

select
    ingest_dates.ingest_date,
    coalesce(staged.staging_rows, 0)::bigint as staging_rows,
    coalesce(labels.labels_rows, 0)::bigint as labels_rows{amount_columns}
from ingest_dates
left join staged on ingest_dates.ingest_date = staged.ingest_date
left join instalments on ingest_dates.ingest_date = instalments.ingest_date
left join labels on ingest_dates.ingest_date = labels.ingest_date
order by ingest_dates.ingest_date
"""


def staging_to_mart_sql(
    settings: Settings, staging: str, mart: str, key: str, amounts: tuple[str, ...] = ()
) -> str:
    """A staging view against the mart that publishes it one to one."""
    staging_sums = "".join(f",\n        sum({amount}) as staging_{amount}" for amount in amounts)
    mart_sums = "".join(f",\n        sum(mart.{amount}) as mart_{amount}" for amount in amounts)
    amount_columns = "".join(
        f",\n    coalesce(staged.staging_{amount}, 0)::bigint as staging_{amount}"
        f",\n    coalesce(published.mart_{amount}, 0)::bigint as mart_{amount}"
        for amount in amounts
    )
    selected = ", ".join((key, *amounts))
    return f"""
with

staging as (
    select {selected}, cast(ingest_date as varchar) as ingest_date
    from {staging}
),

staged as (
    select ingest_date, count(*) as staging_rows{staging_sums}
    from staging
    group by ingest_date
),

published as (
    select
        coalesce(staging.ingest_date, {_NOT_IN_STAGING}) as ingest_date,
        count(*) as mart_rows{mart_sums}
    from {_parquet(settings, mart)} as mart
    left join staging on mart.{key} = staging.{key}
    group by all
),

ingest_dates as (
    select ingest_date from staged
    union select ingest_date from published
)

select
    ingest_dates.ingest_date,
    coalesce(staged.staging_rows, 0)::bigint as staging_rows,
    coalesce(published.mart_rows, 0)::bigint as mart_rows{amount_columns}
from ingest_dates
left join staged on ingest_dates.ingest_date = staged.ingest_date
left join published on ingest_dates.ingest_date = published.ingest_date
order by ingest_dates.ingest_date
"""


STAGING_TO_MARTS: dict[str, Callable[[Settings], str]] = {
    "applications_staging_to_marts": applications_staging_to_marts_sql,
    "loans_staging_to_labels": loans_staging_to_labels_sql,
    "lists_staging_to_marts": lambda settings: staging_to_mart_sql(
        settings, "stg_lists__entries", "list_entries", "list_entry_id"
    ),
    "partner_portfolio_staging_to_marts": lambda settings: staging_to_mart_sql(
        settings,
        "stg_partner__portfolio_records",
        "partner_portfolio_records",
        "record_id",
        ("credit_amount",),
    ),
}

RECONCILIATIONS: tuple[str, ...] = (*RAW_TO_STAGING, *STAGING_TO_MARTS)


def reconciliation_sql(table: str, settings: Settings) -> str:
    if table in RAW_TO_STAGING:
        return raw_to_staging_sql(RAW_TO_STAGING[table], settings)
    if table in STAGING_TO_MARTS:
        return STAGING_TO_MARTS[table](settings)
    raise KeyError(f"unknown reconciliation {table!r}; known: {', '.join(RECONCILIATIONS)}")


def reconciliation_frame(table: str, settings: Settings) -> pd.DataFrame:
    """The reconciliation frame of ``table``: one row per ingest date, pairs of columns."""
    with connect(settings, warehouse=True) as connection:
        return arrow_to_pandas(connection.sql(reconciliation_sql(table, settings)).to_arrow_table())


def _raw_relation(settings: Settings, source: str) -> str:
    """The landed batches of a source, by the raw zone's layout (not a looser glob: a file
    staging reads that landing did not write shows as a difference)."""
    pattern = (settings.raw_dir / source).resolve() / "ingest_date=*" / "batch_id=*" / DATA_NAME
    return read_parquet_sql(
        pattern,
        hive_partitioning="true",
        hive_types="{'ingest_date': date, 'batch_id': varchar}",
        union_by_name="true",
    )


def _parquet(settings: Settings, mart: str) -> str:
    return read_parquet_sql(mart_path(settings, mart).resolve())
