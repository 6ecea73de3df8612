"""Readable findings from Great Expectations results: what failed, where, and on which rows.

One line per unmet expectation, e.g.::

    raw.applications: expect_column_values_to_be_between(column='monthly_income_minor',
    min_value=0): 1 of 3,677 rows unexpected; sample rows: {'_batch_id': '9f…',
    'application_id': 'APP00000-0000007', 'monthly_income_minor': -120000}

Values of a table's sensitive columns (identifiers and their pseudonyms) are redacted
from results before GX stores or renders them: a privacy check that finds a national ID
in clear must not copy it into logs, XComs and Data Docs.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

SAMPLE_ROWS = 5
_HIDDEN_ARGUMENTS = {"batch_id", "result_format", "catch_exceptions", "include_config"}


@dataclass(frozen=True)
class Finding:
    """One unmet expectation of one table."""

    suite: str
    expectation: str
    severity: str  # critical | warning | info
    text: str

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"

    def __str__(self) -> str:
        return self.text


def redact(validation: Any, sensitive_columns: Collection[str]) -> bool:
    """Replace values of ``sensitive_columns`` in failing-row samples; True if any was."""
    sensitive = set(sensitive_columns)
    redacted = False
    for result in validation.results:
        details = result.result or {}
        kwargs = result.expectation_config.kwargs
        checked = {kwargs.get(name) for name in ("column", "column_A", "column_B")}
        checked |= set(kwargs.get("column_list") or ())
        if not details or not (checked & sensitive or _samples_hold(details, sensitive)):
            continue
        if checked & sensitive:
            for key in ("partial_unexpected_list", "unexpected_list"):
                if details.get(key):
                    details[key] = [_redacted(value) for value in details[key]]
            if details.get("partial_unexpected_counts"):
                details["partial_unexpected_counts"] = [
                    {**count, "value": _redacted(count.get("value"))}
                    for count in details["partial_unexpected_counts"]
                ]
        for key in ("partial_unexpected_index_list", "unexpected_index_list"):
            rows = details.get(key) or []
            details[key] = [
                {
                    name: _redacted(value) if name in sensitive else value
                    for name, value in row.items()
                }
                if isinstance(row, Mapping)
                else row
                for row in rows
            ]
        details.pop("unexpected_index_query", None)
        redacted = True
    return redacted


def _samples_hold(details: Mapping[str, Any], sensitive: set[str]) -> bool:
    rows = details.get("partial_unexpected_index_list") or []
    return any(isinstance(row, Mapping) and sensitive & set(row) for row in rows)


def _redacted(value: Any) -> str:
    if isinstance(value, str):
        return f"<redacted: {len(value)} characters>"
    return "<redacted>"


def findings(suite: str, validation: Any) -> list[Finding]:
    """The unmet expectations of a suite's validation result, critical ones first."""
    found = []
    for result in validation.results:
        if result.success:
            continue
        configuration = result.expectation_config
        severity = str(getattr(configuration.severity, "value", configuration.severity) or "")
        found.append(
            Finding(
                suite=suite,
                expectation=configuration.type,
                severity=severity.lower() or "critical",
                text=describe(suite, configuration, result.result or {}, result.exception_info),
            )
        )
    return sorted(found, key=lambda finding: not finding.is_critical)


def describe(suite: str, configuration: Any, result: Mapping[str, Any], exception_info: Any) -> str:
    arguments = {
        key: plain(value)
        for key, value in configuration.kwargs.items()
        if key not in _HIDDEN_ARGUMENTS and value is not None
    }
    call = f"{configuration.type}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    text = f"{suite}: {call}"
    error = exception_message(exception_info)
    if error:
        return f"{text}: could not be evaluated: {error}"
    if "unexpected_count" in result:
        unexpected, rows = result["unexpected_count"], result.get("element_count") or 0
        text += f": {unexpected:,} of {rows:,} rows unexpected"
        samples = _sample_rows(result)
        if samples:
            text += "; sample rows: " + ", ".join(repr(sample) for sample in samples)
        return text
    if "observed_value" in result:
        return f"{text}: observed {plain(result['observed_value'])!r}"
    return f"{text}: not met"


def exception_message(info: Any) -> str | None:
    """GX puts either {raised_exception, exception_message} or, for a failed metric (a
    missing column), {metric id: {exception_message, ...}} in exception_info."""
    if not info:
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    messages = {
        str(value.get("exception_message"))
        for value in info.values()
        if isinstance(value, Mapping) and value.get("exception_message")
    }
    return "; ".join(sorted(messages)) or None


def _sample_rows(result: Mapping[str, Any]) -> list[Any]:
    """Failing rows as {key columns..., checked columns...}; bare values without keys."""
    indexed = result.get("partial_unexpected_index_list") or []
    if indexed and isinstance(indexed[0], Mapping):
        return [plain(dict(row)) for row in indexed[:SAMPLE_ROWS]]
    values = result.get("partial_unexpected_list") or []
    return [plain(value) for value in values[:SAMPLE_ROWS]]


def plain(value: Any) -> Any:
    """numpy / pandas scalars and containers as plain, JSON-friendly Python values."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    if type(value).__name__ in {"datetime64", "timedelta64"}:
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return plain(value.item())
    return str(value)
