"""The staging views of the dbt project and the raw source each reads, from their files.

A staging model (``dbt_project/models/staging/**/stg_*.sql``) reads one raw source through
``{{ source('<group>', '<source>') }}``; ``<source>`` is the contract's name and the raw
zone's folder. The gates and reconciliation learn the views from these files, so a new
source's staging model needs no Python edit. Reading the files, not dbt's manifest, keeps
this cheap enough for an Airflow DAG file to call while it is parsed.
"""

from __future__ import annotations

import re
from pathlib import Path

from zhongtai.settings import Settings

STAGING_FOLDER = Path("models") / "staging"

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_SOURCE_CALL = re.compile(
    r"""\bsource\(\s*['"](?P<group>[^'"]+)['"]\s*,\s*['"](?P<table>[^'"]+)['"]\s*\)"""
)


class StagingModelError(ValueError):
    """A staging model reads more than one raw source; the message names the file."""


def staging_dir(settings: Settings) -> Path:
    return settings.dbt_project_dir / STAGING_FOLDER


def staging_views(settings: Settings) -> dict[str, str]:
    """Each staging view that reads a raw source, and that source, ordered by view name.

    A staging model that reads no source (built on another model) is not listed; one that
    reads two is an error: staging is one view per source.
    """
    views: dict[str, str] = {}
    for path in sorted(staging_dir(settings).rglob("*.sql"), key=lambda path: path.stem):
        sources = source_tables(path.read_text(encoding="utf-8"))
        if len(sources) > 1:
            raise StagingModelError(
                f"{path}: a staging model reads one raw source, this one reads "
                f"{', '.join(sources)}; join sources in an intermediate model"
            )
        if sources:
            views[path.stem] = sources[0]
    return views


def source_tables(sql: str) -> list[str]:
    """The raw sources a model's SQL reads (``source('group', 'table')`` calls), in order."""
    text = _SQL_COMMENT.sub("", _JINJA_COMMENT.sub("", sql))
    return list(dict.fromkeys(match["table"] for match in _SOURCE_CALL.finditer(text)))
