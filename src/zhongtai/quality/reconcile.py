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

What each reconciliation compares is declared in ``expectations/reconciliation.yml``
(``reconcile``: ``raw_to_staging``, ``staging_to_mart`` or a ``sql`` file), so a new
source's reconciliation is configured there, with no Python edit; the raw source of a
staging view is the one its dbt model reads (``zhongtai.warehouse.staging``).

Every raw partition is reconciled, not only the pending ones: a redelivery moves a key's
latest delivery from an old partition to a new one, which changes both sides of the old day.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.contracts import DATA_NAME
from zhongtai.duck import connect, read_parquet_sql, sql_literal
from zhongtai.quality.frames import arrow_to_pandas
from zhongtai.quality.suites import RawToStaging, SuiteSpec, load_suite_spec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path
from zhongtai.warehouse.staging import staging_views

if TYPE_CHECKING:
    import pandas as pd

NOT_IN_STAGING = "(not in staging)"
_NOT_IN_STAGING = sql_literal(NOT_IN_STAGING)
_MART_REFERENCE = re.compile(r"""\{\{\s*mart\(\s*['"](?P<mart>[A-Za-z0-9_]+)['"]\s*\)\s*\}\}""")


def raw_to_staging_sql(source: str, check: RawToStaging, settings: Settings) -> str:
    """Raw ``source`` against its staging view (declared ``raw_to_staging``)."""
    raw = _raw_relation(settings, source)
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


def reconciliation_sql(
    table: str, spec: SuiteSpec, settings: Settings, expectations_dir: Path
) -> str:
    """The SQL of reconciliation ``table`` as its suite declares it (``reconcile``)."""
    if table not in spec.tables or spec.tables[table].reconcile is None:
        raise KeyError(
            f"unknown reconciliation {table!r}; the reconciliations are: {', '.join(spec.tables)}"
        )
    declared = spec.tables[table].reconcile
    assert declared is not None
    if declared.raw_to_staging is not None:
        check = declared.raw_to_staging
        return raw_to_staging_sql(staging_source(settings, check.staging), check, settings)
    if declared.staging_to_mart is not None:
        mart = declared.staging_to_mart
        return staging_to_mart_sql(settings, mart.staging, mart.mart, mart.key, mart.amounts)
    assert declared.sql is not None
    return render_sql(sql_file(expectations_dir, declared.sql).read_text(), settings)


def reconciliation_frame(
    table: str,
    settings: Settings,
    *,
    expectations_dir: Path | None = None,
    spec: SuiteSpec | None = None,
) -> pd.DataFrame:
    """The reconciliation frame of ``table``: one row per ingest date, pairs of columns.
    ``spec``: the reconciliation suite (default: read from ``expectations_dir``)."""
    expectations_dir = expectations_dir or settings.expectations_dir
    spec = spec or load_suite_spec("reconciliation", expectations_dir)
    sql = reconciliation_sql(table, spec, settings, expectations_dir)
    with connect(settings, warehouse=True) as connection:
        return arrow_to_pandas(connection.sql(sql).to_arrow_table())


def staging_source(settings: Settings, staging: str) -> str:
    """The raw source a staging view reads (its dbt model's ``source()``)."""
    views = staging_views(settings)
    if staging not in views:
        raise KeyError(
            f"{staging!r} is not a staging view that reads a raw source; those are: "
            + (", ".join(views) or "none")
        )
    return views[staging]


def sql_file(expectations_dir: Path, name: str) -> Path:
    return expectations_dir / name


def mart_references(sql: str) -> list[str]:
    """The marts a reconciliation SQL file reads through ``{{ mart('<name>') }}``."""
    return list(dict.fromkeys(match["mart"] for match in _MART_REFERENCE.finditer(sql)))


def render_sql(sql: str, settings: Settings) -> str:
    """A reconciliation SQL file with each ``{{ mart('<name>') }}`` reading that mart."""
    return _MART_REFERENCE.sub(lambda match: _parquet(settings, match["mart"]), sql)


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
