"""Rate limits shared by every server process: token buckets in one small SQLite file.

A bucket per key (a partner, or a client address that failed to authenticate) holds up to
a minute's allowance and refills continuously (``limit_per_minute / 60`` a second). The
buckets live in a file, not in a process, so a limit holds however many workers serve the
API; one take is one short write transaction (WAL, no sync: a power cut only refills
buckets). ``clock`` (seconds, wall time: processes share it) is injectable for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.stores.sqlite import PrivateSqlite, SqliteStore

if TYPE_CHECKING:
    from zhongtai.settings import Settings

SCHEMA_VERSION = 1
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at REAL NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""


def limits_path(settings: Settings) -> Path:
    """The API's rate-limit buckets (SQLite), shared by its workers."""
    return settings.data_dir / "api" / "limits.db"


class RateLimiter(SqliteStore[PrivateSqlite]):
    """Token buckets in ``path``; thread-safe and shared across processes."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 30.0,
    ) -> None:
        self._clock = clock
        self._database = PrivateSqlite(
            Path(path),
            _SCHEMA,
            SCHEMA_VERSION,
            what="rate-limit buckets",
            busy_timeout=busy_timeout,
            pragmas=("synchronous = OFF",),
        )

    def allow(self, key: str, limit_per_minute: int) -> tuple[bool, float]:
        """Take one request from ``key``'s bucket: ``(True, 0.0)``, or ``(False, seconds
        until one is available)`` for a ``Retry-After`` header."""
        rate = limit_per_minute / 60.0
        with self._database.transaction() as connection:
            now = self._clock()
            row = connection.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,))
            found = row.fetchone()
            tokens, at = found if found is not None else (float(limit_per_minute), now)
            tokens = min(float(limit_per_minute), tokens + max(0.0, now - at) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            connection.execute(
                "INSERT INTO buckets (key, tokens, at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                (key, tokens, now),
            )
        return (True, 0.0) if allowed else (False, (1.0 - tokens) / rate)
