"""Private SQLite files: one opening for every store, and what the API's stores check.

The partner registry, the decision store, the audit log and the privacy vault each keep
one SQLite file that only the service's user can read, opened by :func:`open_private`
(0600 in a 0700 folder, WAL mode, its schema applied or a newer one refused). The API's
three stores share one connection among the process's threads (:class:`PrivateSqlite`)
and hold no clear identifier, only pseudonyms.

This module sits low, beside ``settings``: the vault (``zhongtai.privacy``) opens its file
here, so nothing here imports from the rest of zhongtai.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

PSEUDONYM = re.compile(r"[0-9a-f]{64}")
CHECKPOINT_INTERVAL_SECONDS = 1.0


def check_pseudonym(applicant_id: object) -> None:
    """Refuse anything but a pseudonym where an applicant is named: the API's stores keep
    no clear identifier."""
    if not (isinstance(applicant_id, str) and PSEUDONYM.fullmatch(applicant_id)):
        raise ValueError(
            "applicant_id must be the applicant's pseudonym (64 lowercase hex characters), "
            "never a clear identifier"
        )


def utc_now() -> str:
    """Now, UTC, ISO 8601 with microseconds: sorts as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def open_private(
    path: Path,
    schema: str,
    schema_version: int,
    *,
    what: str,
    pragmas: Sequence[str] = (),
    refused: type[Exception] = RuntimeError,
    check_same_thread: bool = True,
    busy_timeout: float = 30.0,
) -> sqlite3.Connection:
    """Open (creating if needed) ``path``, a SQLite file only its owner can read (0600 in
    a 0700 folder), in WAL mode with ``pragmas`` after the common ones.

    ``schema`` is applied when the file's ``user_version`` is below ``schema_version``; a
    newer file is refused with ``refused``, naming ``what`` it is and where. A write waits
    up to ``busy_timeout`` seconds for another writer's lock, then raises
    ``sqlite3.OperationalError``.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Create the file ourselves so that it (and SQLite's -wal / -shm, which copy its
    # mode) is private regardless of the umask.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        for pragma in pragmas:
            connection.execute(f"PRAGMA {pragma}")
        found = connection.execute("PRAGMA user_version").fetchone()[0]
        if found > schema_version:
            raise refused(
                f"{what} {path} has schema version {found}; this zhongtai reads up to "
                f"{schema_version}: upgrade zhongtai"
            )
        if found < schema_version:
            connection.executescript(schema)
    except BaseException:
        connection.close()
        raise
    return connection


class PrivateSqlite:
    """A SQLite file only its owner can read (0600 in a 0700 folder), in WAL mode, used by
    one process's threads through one connection under :attr:`lock`.

    Checkpoints run in a background thread. SQLite's automatic checkpoint runs inside the
    commit that crosses its threshold, so that request, and every one queued behind the
    lock, would wait while megabytes of pages are copied and synced (4 ms in memory, tens
    of ms on a disk). Here a thread of our own runs a ``PASSIVE`` checkpoint (it never
    blocks readers or writers, and SQLite releases the GIL while it works) every
    ``checkpoint_interval`` seconds, and :meth:`close` empties the WAL.
    """

    def __init__(
        self,
        path: Path,
        schema: str,
        schema_version: int,
        *,
        what: str,
        checkpoint_interval: float = CHECKPOINT_INTERVAL_SECONDS,
        busy_timeout: float = 30.0,
        pragmas: Sequence[str] = (),
    ) -> None:
        """Open (creating if needed) ``path``; ``schema`` is applied when the file's
        ``user_version`` is below ``schema_version``, a newer file is refused."""
        self.path = path
        self.lock = threading.Lock()
        self.connection = open_private(
            path,
            schema,
            schema_version,
            what=what,
            # our own thread checkpoints (see above)
            pragmas=("wal_autocheckpoint = 0", *pragmas),
            check_same_thread=False,
            busy_timeout=busy_timeout,
        )
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_every,
            args=(checkpoint_interval,),
            name=f"checkpoint {path.name}",
            daemon=True,
        )
        self._checkpointer.start()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: all of it is committed, or none."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def checkpoint(self) -> None:
        """Empty the WAL into the database now (after an erasure: no old frame keeps a
        deleted value)."""
        with self.lock:
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Stop the checkpoints, empty the WAL into the database, close; twice is harmless."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._checkpointer.join()
        with self.lock:
            try:
                self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self.connection.close()

    def _checkpoint_every(self, interval: float) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            while not self._closing.wait(interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # transient (I/O, locking): the next round retries
                    continue
        finally:
            connection.close()


class _Closes(Protocol):
    def close(self) -> None: ...


Database = TypeVar("Database", bound=_Closes)


class SqliteStore(Generic[Database]):
    """A store over one private database (a :class:`PrivateSqlite`, or the connection
    ``open_private`` gives): closed once, usable with ``with``."""

    _database: Database

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
