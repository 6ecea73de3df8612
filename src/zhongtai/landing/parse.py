"""Read one delivered CSV file against its contract into a typed Arrow table.

Everything wrong with a file is collected as ``Problem`` records (which file, row and
field, and why) so the file can be quarantined with a precise reason. Clear values of
personal fields never appear in a problem: a quarantine record is read by people.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from zhongtai.contracts import PROHIBITED_FIELD, Contract, FieldSpec, arrow_types
from zhongtai.privacy.scan import personal_data_in

ARROW_TYPES = arrow_types()

EXPECTED_FORMAT = {
    "int64": "an integer",
    "float64": "a number",
    "bool": "true or false",
    "timestamp": "an ISO 8601 timestamp with a zone, e.g. 2025-03-01T10:22:13Z",
    "date": "a date YYYY-MM-DD",
}

MAX_PROBLEMS = 50  # per file: enough to act on, small enough to read
CAST_SLICE = 4096
BLOCK_BYTES = 64 << 20  # the CSV reader's block: no row may be larger
MAX_FILE_BYTES = 8 << 30  # a delivery is split into files far smaller than this
MAX_COLUMN_NAME = 64
SHOWN_VALUE_CHARS = 24  # a refused value of a non-personal field is shown up to this size
UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape


@dataclass(frozen=True)
class Problem:
    """One reason a file was refused. ``row`` counts data rows from 1 (the header is not a row)."""

    reason: str
    detail: str
    row: int | None = None
    field: str | None = None

    def describe(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row else "",
                f"field {self.field!r}" if self.field else "",
            )
            if part
        )
        return (
            f"{self.reason} ({where}): {self.detail}" if where else f"{self.reason}: {self.detail}"
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class ContractViolation(Exception):
    """A delivered file does not honour its contract; it goes to quarantine whole."""

    def __init__(self, path: Path, problems: list[Problem], total: int | None = None) -> None:
        self.path = path
        self.problems = problems[:MAX_PROBLEMS]
        self.total = total if total is not None else len(problems)
        first = self.problems[0].describe()
        more = f" (and {self.total - 1} more)" if self.total > 1 else ""
        super().__init__(f"{path}: {first}{more}")

    @property
    def reasons(self) -> list[str]:
        return sorted({problem.reason for problem in self.problems})


def read_delivered_file(path: Path, contract: Contract) -> pa.Table:
    """Parse ``path`` into a table typed by ``contract``, or raise ``ContractViolation``.

    The table holds the delivered fields (``contract.delivered_fields``): a derived record
    key is added afterwards (``landing/keys.py``).
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ContractViolation(
            path,
            [Problem("file_too_large", f"{size:,} bytes, over the {MAX_FILE_BYTES:,} accepted")],
        )
    header = _read_header(path)
    _check_header(path, header, contract)
    table = _read_as_strings(path, header, contract)
    table = _add_missing_optional_fields(table, contract)
    problems = list(_missing_required_values(table, contract))
    columns = []
    for field in contract.delivered_fields:
        column, field_problems = _cast(table.column(field.name), field)
        problems.extend(field_problems)
        columns.append(column)
    if problems:
        raise ContractViolation(path, sorted(problems, key=lambda p: (p.row or 0, p.field or "")))
    return pa.table(columns, names=[field.name for field in contract.delivered_fields])


def _read_header(path: Path) -> list[str]:
    # Undecodable bytes read as surrogates: a bad row further on is the data's problem.
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise ContractViolation(
                path, [Problem("empty_file", "the file has no header row")]
            ) from None
        except csv.Error:
            raise ContractViolation(
                path, [Problem("unparseable_row", "the header row is not CSV", row=None)]
            ) from None
    if any(UNDECODED.search(name) for name in header):
        raise ContractViolation(path, [Problem("not_utf8", "the header is not UTF-8 text")])
    return header


def _check_header(path: Path, header: list[str], contract: Contract) -> None:
    declared = {field.name for field in contract.delivered_fields}
    derived = contract.derived_key
    problems = [
        Problem(
            "prohibited_field",
            "this category of data is never collected",
            field=_column_label(name),
        )
        for name in header
        if PROHIBITED_FIELD.search(name)
    ]
    problems += [
        Problem(
            "derived_field",
            f"the {contract.source} contract v{contract.version} derives this record key at "
            "landing: a delivery must not carry it",
            field=_column_label(name),
        )
        for name in header
        if name == derived
    ]
    problems += [
        Problem(
            "undeclared_field",
            f"not declared in the {contract.source} contract v{contract.version}",
            field=_column_label(name),
        )
        for name in header
        if name not in declared and name != derived and not PROHIBITED_FIELD.search(name)
    ]
    problems += [
        Problem("duplicate_field", "the column appears more than once", field=_column_label(name))
        for name in sorted(set(header))
        if header.count(name) > 1
    ]
    problems += [
        Problem(
            "missing_field",
            "a required field is absent from the header",
            field=field.name,
        )
        for field in contract.delivered_fields
        if field.required and field.name not in header
    ]
    if problems:
        raise ContractViolation(path, problems)


def _column_label(name: str) -> str:
    """A delivered column's name as a problem may quote it: one that holds personal data,
    or is too long to be a name, is withheld."""
    if len(name) > MAX_COLUMN_NAME or personal_data_in(name):
        return "<a column name withheld: it holds personal data or is too long>"
    return name


def _read_as_strings(path: Path, header: list[str], contract: Contract) -> pa.Table:
    malformed: list[str] = []

    def note_malformed(row: pa_csv.InvalidRow) -> str:
        malformed.append("")  # counted, never kept: the row may hold personal data
        return "skip"

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=note_malformed),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:  # not UTF-8, or a row larger than a block: the slow path says
        raise ContractViolation(path, _locate_unreadable_rows(path, header, contract)) from None
    if malformed:
        problems = _locate_unreadable_rows(path, header, contract)
        raise ContractViolation(path, problems, total=max(len(malformed), len(problems)))
    return table


def _locate_unreadable_rows(path: Path, header: list[str], contract: Contract) -> list[Problem]:
    """Slow path, only for refused files: each row that is not UTF-8, has a field over its
    size limit, or has the wrong number of fields."""
    limits = {field.name: field.length_limit for field in contract.delivered_fields}
    problems: list[Problem] = []
    previous = csv.field_size_limit(BLOCK_BYTES * 4)
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row_number, row in enumerate(reader, start=1):
                problems += _row_problems(row, row_number, header, limits)
                if len(problems) >= MAX_PROBLEMS:
                    break
    except csv.Error:
        problems.append(Problem("unparseable_row", "the CSV cannot be read past this point"))
    finally:
        csv.field_size_limit(previous)
    return problems or [
        Problem(
            "unparseable_file",
            f"the CSV reader refused the file (a row over {BLOCK_BYTES:,} "
            "bytes, or a quote never closed)",
        )
    ]


def _row_problems(
    row: list[str], row_number: int, header: list[str], limits: dict[str, int | None]
) -> list[Problem]:
    problems = []
    for name, value in zip(header, row, strict=False):
        limit = limits.get(name)
        if UNDECODED.search(value):
            problems.append(
                Problem("not_utf8", "bytes that are not UTF-8 text", row=row_number, field=name)
            )
        elif limit is not None and len(value) > limit:
            problems.append(
                Problem(
                    "too_long",
                    f"longer than {limit:,} characters (the contract's max_length)",
                    row=row_number,
                    field=name,
                )
            )
    if len(row) != len(header):
        problems.append(
            Problem(
                "unparseable_row",
                f"expected {len(header)} fields, found {len(row)}",
                row=row_number,
            )
        )
    return problems


def _add_missing_optional_fields(table: pa.Table, contract: Contract) -> pa.Table:
    for field in contract.delivered_fields:
        if field.name not in table.column_names:
            table = table.append_column(field.name, pa.nulls(table.num_rows, pa.string()))
    return table


def _missing_required_values(table: pa.Table, contract: Contract) -> Iterator[Problem]:
    """Rows where a required field is empty or only blanks."""
    for field in contract.delivered_fields:
        if not field.required:
            continue
        blank = pc.equal(pc.utf8_trim_whitespace(table.column(field.name)), "")
        missing = pc.or_kleene(pc.is_null(table.column(field.name)), blank).combine_chunks()
        if not pc.any(missing).as_py():
            continue
        rows = pc.filter(pa.array(range(1, table.num_rows + 1)), missing)
        for row in rows.to_pylist()[:MAX_PROBLEMS]:
            yield Problem(
                "missing_value", "a required field is empty or blank", row=row, field=field.name
            )


def _cast(column: pa.ChunkedArray, field: FieldSpec) -> tuple[pa.ChunkedArray, list[Problem]]:
    target = ARROW_TYPES[field.type]
    if field.type == "string":
        return column, []
    try:
        return column.cast(target), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return column, list(_locate_cast_failures(column.combine_chunks(), field, target))


def _locate_cast_failures(
    values: pa.Array, field: FieldSpec, target: pa.DataType
) -> Iterator[Problem]:
    """Slow path, only for refused files: find the rows whose value does not parse."""
    found = 0
    for start in range(0, len(values), CAST_SLICE):
        piece = values.slice(start, CAST_SLICE)
        if _casts(piece, target):
            continue
        for offset, value in enumerate(piece):
            if _casts(pa.array([value.as_py()], pa.string()), target):
                continue
            shown = _shown(value.as_py(), field)
            yield Problem(
                "wrong_type",
                f"{shown} is not {EXPECTED_FORMAT[field.type]}",
                row=start + offset + 1,
                field=field.name,
            )
            found += 1
            if found >= MAX_PROBLEMS:
                return


def _shown(value: str, field: FieldSpec) -> str:
    """A refused value as a quarantine record may show it: only short, non-personal ones."""
    if field.pii != "none" or len(value) > SHOWN_VALUE_CHARS or personal_data_in(value):
        return "the value"
    return repr(value)


def _casts(values: pa.Array, target: pa.DataType) -> bool:
    """Whether every value parses as ``target`` (Arrow signals a bad value by raising)."""
    try:
        values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
