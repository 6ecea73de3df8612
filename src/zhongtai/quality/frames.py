"""Rows as the gates validate them: pandas frames that stay small.

Only the columns a suite reads are read; the relation's other columns are carried as
empty Arrow ``null`` columns (no memory), so schema expectations still see the table's
real column set. Text stays Arrow-backed (a third of the memory of Python strings); time
zone aware timestamps become naive UTC, as the warehouse keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from zhongtai.duck import sql_identifier

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa


def read_relation(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Sequence[str],
    *,
    where: str | None = None,
) -> pd.DataFrame:
    """Read ``columns`` of ``relation`` into pandas; the relation's other columns as nulls.

    A column the suite names but the relation lacks is not read (its expectation then
    fails with "column not found", which is the finding a user needs).
    """
    import pyarrow as pa

    schema = connection.execute(f"describe select * from {relation}").fetchall()
    types = {name: str(type_) for name, type_, *_ in schema}
    wanted = [column for column in columns if column in types]
    selected = [_select_expression(column, types[column]) for column in wanted] or ["1 as _one"]
    query = f"select {', '.join(selected)} from {relation}"
    if where:
        query += f" where {where}"
    table = connection.sql(query).to_arrow_table()
    arrays = [table.column(name) if name in wanted else pa.nulls(table.num_rows) for name in types]
    return arrow_to_pandas(pa.table(arrays, names=list(types)))


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Text as pandas' Arrow-backed ``str`` dtype, nulls as Arrow nulls, nullable booleans.

    Validate such frames under ``text_stays_arrow()``: GX's regex and string checks
    call ``astype(str)``, which is then a no-op instead of a copy into Python objects.
    Integers with nulls become float64, exact for every amount below 2**53 fen.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    text = pd.StringDtype("pyarrow", na_value=np.nan)
    mapping = {
        pa.null(): pd.ArrowDtype(pa.null()),
        pa.string(): text,
        pa.large_string(): text,
        pa.bool_(): pd.BooleanDtype(),
    }
    return table.to_pandas(types_mapper=mapping.get, split_blocks=True, self_destruct=True)


@contextmanager
def text_stays_arrow() -> Iterator[None]:
    """Within: ``astype(str)`` keeps Arrow-backed text (pandas' future string inference)."""
    import pandas as pd

    with pd.option_context("future.infer_string", True):
        yield


def _select_expression(column: str, type_: str) -> str:
    quoted = sql_identifier(column)
    if type_.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {quoted}) as {quoted}"
    return quoted
