"""The marts and staging views are the dbt project's files: a new one needs no Python edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.warehouse.project import MART, SOURCE, STAGING_VIEW, copy_project, with_settlements
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import UnknownMart, mart_path, marts, spark_mart_path
from zhongtai.warehouse.staging import StagingModelError, source_tables, staging_views


def test_the_projects_marts_and_staging_views(settings: Settings) -> None:
    assert marts(settings) == (
        "applicant_features",
        "application_features",
        "identifier_edges",
        "list_entries",
        "loan_performance_labels",
        "partner_portfolio_records",
    )
    assert staging_views(settings) == {
        "stg_bureau__inquiries": "bureau_inquiries",
        "stg_device_sdk__events": "device_events",
        "stg_lender__applications": "applications",
        "stg_lender__loans": "loans",
        "stg_lender__repayments": "repayments",
        "stg_lists__entries": "lists",
        "stg_partner__portfolio_records": "partner_portfolio",
    }


def test_a_new_mart_and_staging_view_are_found_in_their_files(
    settings: Settings, tmp_path: Path
) -> None:
    project = with_settlements(settings, tmp_path / "project", expectations=False)
    assert MART in marts(project) and MART not in marts(settings)
    assert staging_views(project)[STAGING_VIEW] == SOURCE
    assert mart_path(project, MART) == project.marts_dir / f"{MART}.parquet"
    assert spark_mart_path(project, MART).name == MART


def test_an_unknown_mart_is_named_with_the_known_ones(settings: Settings) -> None:
    with pytest.raises(UnknownMart) as unknown:
        mart_path(settings, "application_feature")
    message = str(unknown.value)
    assert "unknown mart 'application_feature'" in message
    assert str(settings.dbt_project_dir / "models" / "marts") in message
    assert "application_features, identifier_edges" in message
    with pytest.raises(KeyError):  # what callers caught before
        spark_mart_path(settings, "nope")


def test_the_source_a_staging_model_reads_is_its_source_call() -> None:
    sql = """
    {# an old version read {{ source('lender', 'old_loans') }} #}
    -- and so did source('lender', 'older_loans')
    with source as ({{ latest_delivery(source( "lender" , "loans" ), 'loan_id') }})
    select * from source
    """
    assert source_tables(sql) == ["loans"]
    assert source_tables("select 1 from {{ ref('stg_lender__loans') }}") == []


def test_a_staging_model_reading_two_sources_is_refused(settings: Settings, tmp_path: Path) -> None:
    project = copy_project(settings, tmp_path / "project")
    model = project.dbt_project_dir / "models" / "staging" / "lender" / "stg_lender__both.sql"
    model.write_text(
        "select * from {{ source('lender', 'loans') }}\n"
        "union all by name select * from {{ source('lender', 'repayments') }}\n"
    )
    with pytest.raises(StagingModelError, match=r"stg_lender__both.sql: .* loans, repayments"):
        staging_views(project)
