"""The deterministic generator of a consumer lender's world, written to the inbox as CSV.

`generate` simulates the applicants chunk by chunk, each chunk from its own random stream,
and writes one CSV part per chunk and source:

    <inbox_dir>/<delivery_date>/<source>/part-<NNNNN>.csv

The same seed, applicants, delivery date and chunk size give byte-identical files. Memory
is bounded by the chunk size, not by the number of applicants. The ground truth (rings,
defaults to come) stays in memory: `simulate_chunk` returns it for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from zhongtai.atomic import replacing
from zhongtai.sources.events import device_events_table
from zhongtai.sources.lists import lists_table
from zhongtai.sources.repayments import repayments_table, simulate_instalments
from zhongtai.sources.world.parameters import ChunkSpec, id_space
from zhongtai.sources.world.simulation import simulate
from zhongtai.sources.world.tables import (
    application_ids,
    applications_table,
    loan_ids,
    loans_table,
    truth_table,
)

# Column order of every generated source; must equal the data contracts in contracts/.
COLUMNS: dict[str, tuple[str, ...]] = {
    "applications": (
        "application_id", "applied_at", "national_id", "name", "phone", "residential_address",
        "birth_date", "city_code", "employment_type", "monthly_income_minor",
        "monthly_debt_payment_minor", "requested_amount_minor", "term_months", "loan_purpose",
        "channel", "partner_id", "device_id", "ip_address", "has_consented_credit_scoring",
        "has_consented_fraud_prevention", "has_consented_marketing",
    ),
    "loans": (
        "loan_id", "application_id", "disbursed_at", "principal_minor", "term_months", "apr_bps",
        "instalment_amount_minor",
    ),
    "repayments": (
        "instalment_id", "loan_id", "instalment_number", "due_date", "amount_due_minor",
        "fee_minor", "amount_paid_minor", "paid_at",
    ),
    "bureau_inquiries": ("inquiry_id", "national_id", "lender_id", "inquiry_reason", "inquired_at"),
    "device_events": (
        "event_id", "device_id", "application_id", "event_type", "os", "os_version",
        "is_emulator", "is_rooted", "ip_address", "occurred_at",
    ),
    "lists": (
        "list_entry_id", "list_type", "national_id", "phone", "device_id", "list_source",
        "reason", "added_at", "expires_at",
    ),
}  # fmt: skip
SOURCES: tuple[str, ...] = tuple(COLUMNS)

# Independent random streams per stage: changing how events are drawn leaves loans unchanged.
_WORLD, _REPAYMENTS, _EVENTS, _LISTS = range(4)


@dataclass(frozen=True)
class GenerationReport:
    """What `generate` wrote: the CSV parts per source and their row counts."""

    files: dict[str, list[Path]]
    rows: dict[str, int]


@dataclass(frozen=True)
class ChunkTables:
    """One chunk's source tables, and the ground truth the platform never sees."""

    tables: dict[str, pa.Table]
    truth: pa.Table  # one row per application: ring membership, default to come, ...


def _stream(spec: ChunkSpec, stage: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([spec.seed, spec.chunk_index, stage]))


def simulate_chunk(
    *,
    seed: int,
    delivery_date: date,
    chunk_index: int = 0,
    first_applicant: int = 0,
    applicants: int,
) -> ChunkTables:
    """Simulate one chunk and build its source tables (exactly what `generate` writes)."""
    spec = ChunkSpec(seed, delivery_date, chunk_index, first_applicant, applicants)
    chunk = simulate(spec, _stream(spec, _WORLD))
    application_id = application_ids(chunk)
    loan_id = loan_ids(chunk)
    instalments = simulate_instalments(_stream(spec, _REPAYMENTS), chunk)
    tables = {
        "applications": applications_table(chunk, application_id),
        "loans": loans_table(chunk, application_id, loan_id),
        "repayments": repayments_table(instalments, loan_id),
        "bureau_inquiries": chunk.inquiries,
        "device_events": device_events_table(_stream(spec, _EVENTS), chunk, application_id),
        "lists": lists_table(_stream(spec, _LISTS), chunk, instalments),
    }
    for source, table in tables.items():
        if tuple(table.column_names) != COLUMNS[source]:
            raise AssertionError(f"{source}: columns {table.column_names} != {COLUMNS[source]}")
    return ChunkTables(tables, truth_table(chunk, application_id))


def write_csv(table: pa.Table, path: Path, *, quoting_style: str = "none") -> None:
    """Write a table as UTF-8 CSV with a plain header row, atomically (rename when done).

    By default no value is quoted: the writer refuses any value holding a comma, quote or
    line break, which the generator never produces; real data passes ``"needed"``.
    """
    with replacing(path) as partial, partial.open("wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        options = pa_csv.WriteOptions(include_header=False, quoting_style=quoting_style)
        pa_csv.write_csv(table, sink, options)


def _chunks(applicants: int, chunk_size: int) -> Iterator[tuple[int, int, int]]:
    """(chunk index, first applicant, applicants in the chunk)."""
    for index, first in enumerate(range(0, applicants, chunk_size)):
        yield index, first, min(chunk_size, applicants - first)


def _check_arguments(applicants: int, seed: int, chunk_size: int, delivery_date: date) -> None:
    if applicants < 1:
        raise ValueError(f"applicants must be at least 1, got {applicants}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    spec = ChunkSpec(seed, delivery_date, 0, 0, 1)
    capacity = id_space(spec).size // 2  # the upper half is for blacklisted outsiders
    if applicants > capacity:
        raise ValueError(f"at most {capacity:,} applicants fit the national ID space")


def _finish(
    pending: tuple[Future[None], int] | None, progress: Callable[[int], None] | None
) -> None:
    """Wait for a chunk's files to be written, then report its applicants as done."""
    if pending is None:
        return
    future, count = pending
    future.result()
    if progress is not None:
        progress(count)


def generate(
    inbox_dir: Path,
    *,
    applicants: int,
    seed: int,
    delivery_date: date,
    chunk_size: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> GenerationReport:
    """Generate the world of `applicants` people and write every source to the inbox.

    Existing parts of the generated sources for this delivery date are replaced, so a
    rerun with fewer chunks leaves no stale part behind. Writing a chunk overlaps with
    simulating the next one (Arrow's CSV writer releases the GIL).
    """
    _check_arguments(applicants, seed, chunk_size, delivery_date)
    delivery_dir = Path(inbox_dir) / delivery_date.isoformat()
    for source in SOURCES:
        folder = delivery_dir / source
        folder.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.glob("part-*.csv"), *folder.glob(".part-*.csv.*.partial")]:
            stale.unlink()
    files: dict[str, list[Path]] = {s: [] for s in SOURCES}
    rows = dict.fromkeys(SOURCES, 0)

    def write_chunk(index: int, built: ChunkTables) -> None:
        for source, table in built.tables.items():
            path = delivery_dir / source / f"part-{index:05d}.csv"
            write_csv(table, path)
            files[source].append(path)
            rows[source] += table.num_rows

    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: tuple[Future[None], int] | None = None
        for index, first, count in _chunks(applicants, chunk_size):
            built = simulate_chunk(
                seed=seed,
                delivery_date=delivery_date,
                chunk_index=index,
                first_applicant=first,
                applicants=count,
            )
            _finish(pending, progress)
            pending = (writer.submit(write_chunk, index, built), count)
            del built
        _finish(pending, progress)
    return GenerationReport(files=files, rows=rows)
