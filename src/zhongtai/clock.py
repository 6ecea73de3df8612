"""The day an Airflow run works on, from the platform's one clock.

``ZHONGTAI_AS_OF`` (``Settings.as_of``) wins when set: the demo exports it so that every
task of every DAG it runs treats the demo's day as today. Otherwise a run's day is the date
(UTC) of its logical date, or of when it was due to run if it has none (asset-triggered
runs), so that rerunning a logical date works on the same day again.

Light on purpose (no Airflow import): DAG files import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from zhongtai.settings import Settings


def run_day(context: Mapping[str, Any], settings: Settings) -> date:
    """``settings.as_of`` if set, else the date (UTC) of the run's logical date."""
    if settings.as_of is not None:
        return settings.as_of
    moment: datetime | None = context.get("logical_date")
    if moment is None:
        moment = context["dag_run"].run_after
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def run_settings(context: Mapping[str, Any]) -> Settings:
    """Settings for one task of a run: ``today()`` is the run's day, for every task."""
    settings = Settings()
    return settings.model_copy(update={"as_of": run_day(context, settings)})
