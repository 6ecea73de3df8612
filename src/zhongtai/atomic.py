"""Files replaced whole: written under a partial name, then renamed over the old one.

Readers (Feast, a running materialisation, landing) see the old file or the new one,
never half of one; a failed write leaves the old file and no partial behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A partial path beside ``path`` to write to; once the block succeeds it replaces
    ``path`` in one step (``os.replace``), if it fails it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_parquet_atomically(table: pa.Table, path: Path, **options: Any) -> None:
    """Write ``table`` to ``path`` as Parquet, atomically; ``options`` go to pyarrow's
    ``write_table`` (e.g. ``coerce_timestamps="us"``)."""
    import pyarrow.parquet as pq

    with replacing(path) as partial:
        pq.write_table(table, partial, **options)
