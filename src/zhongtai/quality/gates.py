"""The quality gates: validate a layer against its suite, stop the pipeline when it fails.

``run_gate(layer, settings)`` reads the layer's tables one at a time (``batches``),
validates each against ``expectations/<layer>.yml`` through a Great Expectations
checkpoint, updates Data Docs, and raises ``GateFailed`` naming every unmet critical
expectation: table, expectation, column, how many rows, sample rows with their keys.
Warnings (``severity: warning``) are reported and never stop the pipeline. A source,
staging view or mart of the project that the suite does not name fails the gate as well
(``batches.uncovered_tables``): nothing new flows on unchecked.

Great Expectations runs on an ephemeral context (no ``great_expectations.yml`` to race
on) whose suites and validation results are stored as JSON under
``<quality_dir>/gx`` and whose Data Docs are at ``<quality_dir>/data_docs/index.html``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhongtai.quality.batches import (
    Batch,
    Skipped,
    check_tables,
    layer_batches,
    uncovered_tables,
)
from zhongtai.quality.findings import Finding, findings, redact
from zhongtai.quality.frames import text_stays_arrow
from zhongtai.quality.published import pending_ingest_dates
from zhongtai.quality.suites import SuiteSpec, build_suite, load_suite_spec, suite_path
from zhongtai.settings import Settings

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.data_context import AbstractDataContext

logger = logging.getLogger(__name__)

DOCS_SITE = "zhongtai_quality"
DATASOURCE = "zhongtai_gates"
BATCH_DEFINITION = "whole_table"
# Data Docs re-reads every result its index lists on each update: cap the index.
DOCS_INDEX_LIMIT = 200
PARTIAL_UNEXPECTED = 20
_SUMMARY_LINES = 10
_SUMMARY_LINE_CHARS = 400


def docs_index(settings: Settings) -> Path:
    """The Data Docs site's front page (absolute: it is printed in failure messages)."""
    return (settings.quality_dir / "data_docs" / "index.html").resolve()


@dataclass
class TableReport:
    """How one table of a gate fared."""

    table: str
    suite: str
    read: str  # which relation and partitions were read
    rows: int = 0
    expectations: int = 0
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    # A table the project has that the suite does not check (``batches.uncovered_tables``).
    uncovered: str | None = None
    error: str | None = None
    seconds: float = 0.0
    result_identifier: Any = None  # where GX stored the validation result

    @property
    def failures(self) -> list[str]:
        lines = [f"{self.suite}: could not be read: {self.error}"] if self.error else []
        if self.uncovered:
            lines.append(f"{self.suite}: {self.uncovered}")
        return lines + [str(finding) for finding in self.findings if finding.is_critical]

    @property
    def warnings(self) -> list[str]:
        return [str(finding) for finding in self.findings if not finding.is_critical]

    def summary(self) -> dict[str, Any]:
        if self.uncovered:
            return {"uncovered": self.uncovered}
        if self.skipped:
            return {"skipped": self.skipped}
        return {
            "rows": self.rows,
            "expectations": self.expectations,
            "failed": len(self.failures),
            "warnings": len(self.warnings),
        }


@dataclass
class GateResult:
    """The outcome of one gate run."""

    layer: str
    run_name: str
    run_time: datetime
    ingest_dates: tuple[date, ...]
    tables: list[TableReport]
    docs_index: Path

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[str]:
        return [line for table in self.tables for line in table.failures]

    @property
    def warnings(self) -> list[str]:
        return [line for table in self.tables for line in table.warnings]

    def summary(self) -> dict[str, Any]:
        """Small and JSON-serialisable (an Airflow XCom)."""
        return {
            "layer": self.layer,
            "success": self.success,
            "run_name": self.run_name,
            "run_time": self.run_time.isoformat(),
            "ingest_dates": [day.isoformat() for day in self.ingest_dates],
            "tables": {table.table: table.summary() for table in self.tables},
            "failures": _clip(self.failures),
            "warnings": _clip(self.warnings),
            "data_docs": str(self.docs_index),
        }

    def message(self) -> str:
        failures = self.failures
        dates = ", ".join(day.isoformat() for day in self.ingest_dates)
        head = f"quality gate {self.layer!r} failed: {len(failures)} critical finding(s)"
        if dates:
            head += f" (ingest dates {dates})"
        lines = [head, *(f"  - {line}" for line in failures)]
        if self.warnings:
            lines.append(f"  and {len(self.warnings)} warning(s)")
        lines.append(f"Data Docs: {self.docs_index}")
        return "\n".join(lines)

    def raise_for_status(self) -> GateResult:
        if not self.success:
            raise GateFailed(self)
        return self


class GateFailed(Exception):
    """A gate found critical problems; the message names each, ``result`` holds them all."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(result.message())


def run_gate(
    layer: str,
    settings: Settings,
    *,
    run_time: datetime | None = None,
    expectations_dir: Path | None = None,
) -> GateResult:
    """Validate ``layer`` (raw, staging, marts or reconciliation); raise GateFailed if it fails.

    A declared source, staging view or mart that the layer's suite does not name (or a
    staging view no raw_to_staging reconciliation compares) fails the gate too, naming the
    table and the file to add it to: a new source is never silently unchecked.

    ``run_time`` (default: the clock's now) is what freshness windows are measured from; ``raw`` and
    ``staging`` read only the ingest dates not yet published (``mark_published``). The suite
    is read from ``expectations_dir`` (default: the project's ``expectations/``).
    """
    expectations_dir = expectations_dir or settings.expectations_dir
    spec = load_suite_spec(layer, expectations_dir)
    check_tables(spec, str(suite_path(layer, expectations_dir)), settings, expectations_dir)
    run_time = (run_time or settings.now()).astimezone(UTC)
    ingest_dates = tuple(pending_ingest_dates(settings)) if layer in ("raw", "staging") else ()
    run_name = f"{layer}-{run_time:%Y%m%dT%H%M%SZ}"
    if layer in ("raw", "staging"):
        logger.info(
            "gate %s: pending ingest dates: %s",
            layer,
            ", ".join(day.isoformat() for day in ingest_dates) or "none",
        )
    reports = []
    context: AbstractDataContext | None = None
    for table, reason in uncovered_tables(spec, settings).items():
        logger.error("gate %s: %s: %s", layer, spec.suite_name(table), reason)
        reports.append(TableReport(table, spec.suite_name(table), read="", uncovered=reason))
    for item in layer_batches(spec, settings, ingest_dates, expectations_dir):
        suite = spec.suite_name(item.table)
        if isinstance(item, Skipped):
            logger.info("gate %s: %s skipped: %s", layer, suite, item.reason)
            reports.append(TableReport(item.table, suite, read="", skipped=item.reason))
            continue
        if context is None:
            context = make_context(settings)
        reports.append(_validate_table(context, spec, item, run_name, run_time))
    if context is not None:
        build_docs(context, [report for report in reports if report.result_identifier])
    result = GateResult(layer, run_name, run_time, ingest_dates, reports, docs_index(settings))
    log = logger.info if result.success else logger.error
    log(
        "gate %s: %s, %d critical finding(s), %d warning(s); Data Docs: %s",
        layer,
        "passed" if result.success else "FAILED",
        len(result.failures),
        len(result.warnings),
        result.docs_index,
    )
    return result.raise_for_status()


def _validate_table(
    context: AbstractDataContext,
    spec: SuiteSpec,
    batch: Batch,
    run_name: str,
    run_time: datetime,
) -> TableReport:
    suite = spec.suite_name(batch.table)
    report = TableReport(batch.table, suite, read=batch.description)
    started = time.perf_counter()
    logger.info("gate %s: reading %s", spec.layer, batch.description)
    try:
        frame = batch.load()
    except Exception as error:  # a missing mart or warehouse is a finding, not a crash
        report.error = f"{type(error).__name__}: {' '.join(str(error).split())[:600]}"
        logger.error("gate %s: %s could not be read: %s", spec.layer, suite, report.error)
        return report
    report.rows = len(frame)
    report.expectations = len(spec.tables[batch.table].expectations)
    logger.info(
        "gate %s: validating %s (%s rows, %d expectations)",
        spec.layer,
        suite,
        f"{report.rows:,}",
        report.expectations,
    )
    identifier, validation = validate_frame(context, spec, batch.table, frame, run_name, run_time)
    report.result_identifier = identifier
    del frame
    _return_memory()
    report.findings = findings(suite, validation)
    report.seconds = round(time.perf_counter() - started, 2)
    logger.info(
        "gate %s: %s: %d critical finding(s), %d warning(s) in %.1f s",
        spec.layer,
        suite,
        len(report.failures),
        len(report.warnings),
        report.seconds,
    )
    return report


def validate_frame(
    context: AbstractDataContext,
    spec: SuiteSpec,
    table: str,
    frame: pd.DataFrame,
    run_name: str,
    run_time: datetime,
) -> tuple[Any, Any]:
    """Run the checkpoint ``<layer>.<table>`` on ``frame``: (result identifier, result)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.datasource.fluent import PandasDatasource

    name = spec.suite_name(table)
    suite = context.suites.add_or_update(build_suite(spec, table))
    datasource = context.data_sources.get(DATASOURCE)
    assert isinstance(datasource, PandasDatasource)
    asset = (
        datasource.get_asset(name)
        if name in datasource.get_asset_names()
        else datasource.add_dataframe_asset(name)
    )
    try:
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": PARTIAL_UNEXPECTED,
    }
    id_columns = [column for column in spec.tables[table].id_columns if column in frame.columns]
    if id_columns:
        result_format["unexpected_index_column_names"] = id_columns
    # No UpdateDataDocsAction: the gate builds Data Docs once for all its tables (each
    # build recompiles the site's templates, ~1 s).
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            result_format=result_format,
            actions=[],
        )
    )
    try:
        with text_stays_arrow():
            outcome = checkpoint.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=spec.parameter_values(run_time),
                run_id=RunIdentifier(run_name=run_name, run_time=run_time),
            )
    finally:
        _release_batches(datasource)
    ((identifier, validation),) = outcome.run_results.items()
    if redact(validation, spec.tables[table].sensitive_columns):
        context.validation_results_store.set(identifier, validation)  # overwrite what GX kept
    return identifier, validation


def _return_memory() -> None:
    """Hand a finished table's memory back before the next table is read."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def _release_batches(datasource: Any) -> None:
    """Drop the frames GX caches in the datasource's engine (held for the context's life):
    otherwise every table validated stays in memory until the gate ends."""
    batch_manager = datasource.get_execution_engine().batch_manager
    batch_manager.reset_batch_cache()
    batch_manager.batch_data_cache.clear()


def build_docs(context: AbstractDataContext, reports: list[TableReport]) -> None:
    """Render this run's validation results and suites into Data Docs, and the index."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    identifiers: list[Any] = [report.result_identifier for report in reports]
    identifiers += [ExpectationSuiteIdentifier(name=report.suite) for report in reports]
    try:
        context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)
    except Exception:  # the findings matter more than their web pages
        logger.exception("Data Docs could not be updated")


def make_context(settings: Settings) -> AbstractDataContext:
    """An ephemeral GX context with filesystem stores and Data Docs under quality_dir.

    Checkpoints and validation definitions are rebuilt from the YAML on every run, so they
    stay in memory: parallel gates never race on the same JSON file.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints each in-memory batch by hashing every row (a marker nothing reads):
    # at a million applicants that is ~25 s and +1 GB per table. Never hash.
    pandas_execution_engine.HASH_THRESHOLD = 0

    quality_dir = settings.quality_dir.resolve()
    stores = FilesystemStoreBackendDefaults(root_directory=str(quality_dir / "gx"))
    for store in (stores.checkpoint_store_name, stores.validation_definition_store_name):
        stores.stores[store]["store_backend"] = {"class_name": "InMemoryStoreBackend"}
    config = DataContextConfig(
        store_backend_defaults=stores,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_index(settings).parent),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": DOCS_INDEX_LIMIT,
                },
            }
        },
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_or_update_pandas(DATASOURCE)
    return context


def _clip(lines: list[str]) -> list[str]:
    clipped = [
        line if len(line) <= _SUMMARY_LINE_CHARS else line[: _SUMMARY_LINE_CHARS - 1] + "…"
        for line in lines[:_SUMMARY_LINES]
    ]
    if len(lines) > _SUMMARY_LINES:
        clipped.append(f"… and {len(lines) - _SUMMARY_LINES} more (see Data Docs)")
    return clipped
