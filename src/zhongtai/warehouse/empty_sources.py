"""An empty, typed stand-in for each declared source, for sources with no delivery yet.

dbt reads each raw source as a view ``raw.<source>`` over its batches in the raw zone
(``dbt_project/macros/raw_zone.sql``). A source whose contract and staging model exist
but which has not delivered yet has no batch to read, so the view reads this stand-in
instead: one Parquet file with no rows and the columns of the contract as landed, laid
out like a batch (``<source>/ingest_date=.../batch_id=.../part-0.parquet``) so the same
read works on DuckDB and Spark. Its staging model then builds as an empty view with the
right columns and types.

The stand-ins live beside dbt's run folders, never in the raw zone: no gate,
reconciliation or manifest reader can mistake one for a delivery.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zhongtai.atomic import write_parquet_atomically
from zhongtai.contracts import (
    BATCH_ID_COLUMN,
    DATA_NAME,
    LOADED_AT_COLUMN,
    Contract,
    arrow_types,
    declared_sources,
    load_contract,
)
from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import empty_sources_dir

# The stand-in's partition: any value would do, it holds no row.
EMPTY_PARTITION = Path("ingest_date=1970-01-01") / "batch_id=none"


def empty_source_file(settings: Settings, source: str) -> Path:
    return empty_sources_dir(settings) / source / EMPTY_PARTITION / DATA_NAME


def landed_schema(contract: Contract) -> pa.Schema:
    """The columns of a raw batch of this source, as landing writes them: each field under
    its landed name and type (a pseudonym in place of an identifier, an age in place of a
    birth date), then the lineage columns ``_batch_id`` and ``_loaded_at``."""
    fields = [
        pa.field(field.output_column, arrow_types()[field.landed_type]) for field in contract.fields
    ]
    fields += [
        pa.field(BATCH_ID_COLUMN, pa.string()),
        pa.field(LOADED_AT_COLUMN, pa.timestamp("us", tz="UTC")),
    ]
    return pa.schema(fields)


def write_empty_sources(settings: Settings) -> tuple[str, ...]:
    """Write the stand-in of every declared source (rewritten only when its contract's
    columns changed) and remove those of sources no longer declared; return the sources."""
    root = empty_sources_dir(settings)
    sources = declared_sources(settings)
    for source in sources:
        schema = landed_schema(load_contract(source, settings))
        path = empty_source_file(settings, source)
        if path.is_file() and pq.read_schema(path).remove_metadata().equals(schema):
            continue
        write_parquet_atomically(schema.empty_table(), path)
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and folder.name not in sources:
                shutil.rmtree(folder)
    return sources
