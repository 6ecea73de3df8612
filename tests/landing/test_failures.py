"""Failures no contract check foresees: one file or one source never stops the others."""

from __future__ import annotations

import pytest

from tests.landing.delivery import INGEST_DATE, application, loan, write_delivery
from zhongtai.landing.land import LandingRefused, land_delivery
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings


def _deliver(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1), application(2)])
    write_delivery(settings.inbox_dir, "loans", [loan(1), loan(2), loan(3)])


def test_a_file_that_cannot_be_written_is_quarantined_and_the_others_land(
    settings: Settings,
) -> None:
    _deliver(settings)
    settings.raw_dir.mkdir(parents=True)
    (settings.raw_dir / "applications").write_text("in the way of the batch folder")

    with pytest.raises(LandingRefused) as refused:
        land_delivery(INGEST_DATE, settings, sources=["applications", "loans"])

    (record,) = refused.value.refused
    assert record.reasons == ["landing_failed"]
    assert "landing failed unexpectedly (" in record.summary
    assert (record.path / "reason.json").is_file()  # quarantined, encrypted, with its reason
    assert [(m.source, m.rows) for m in read_manifests(settings.raw_dir)] == [("loans", 3)]


def test_a_source_whose_vault_cannot_open_stops_no_other_source(settings: Settings) -> None:
    _deliver(settings)
    settings.vault_path.mkdir(parents=True)  # a folder where the vault file should be

    with pytest.raises(LandingRefused) as refused:
        land_delivery(INGEST_DATE, settings, sources=["applications", "loans"])

    (record,) = refused.value.refused
    assert record.summary.startswith("applications: landing failed unexpectedly")
    assert [(m.source, m.rows) for m in read_manifests(settings.raw_dir)] == [("loans", 3)]
