"""A writer killed between the Iceberg pointer swap and the catalog update: recovery brings the entry up to date."""

from __future__ import annotations

import pyarrow as pa

from lakeport import Lake

from .warehouse_kit import write_parquet

SCHEMA = pa.schema([pa.field("id", pa.int64())])


def test_sync_catalog_brings_a_lagging_entry_up_to_the_tables_metadata(local_lake: Lake) -> None:
    warehouse = local_lake.warehouse
    rows = [{"id": 1}, {"id": 2}]
    warehouse.commit("db", "t", files=[write_parquet(local_lake, "db", "t", rows, SCHEMA)], schema=SCHEMA)
    lagging = local_lake.catalog.get_table("db", "t")
    warehouse.commit("db", "t", files=[write_parquet(local_lake, "db", "t", rows, SCHEMA)], schema=SCHEMA)
    local_lake.catalog.update_table(lagging)  # as if the second writer died before registering its commit
    iceberg = warehouse.require("db", "t")
    assert local_lake.catalog.get_table("db", "t").parameters["metadata_location"] != iceberg.metadata_location

    assert warehouse.sync_catalog("db", "t") is True
    entry = local_lake.catalog.get_table("db", "t")
    assert entry.parameters["metadata_location"] == iceberg.metadata_location
    snapshot = iceberg.current_snapshot()
    assert snapshot is not None
    assert entry.parameters["current-snapshot-id"] == str(snapshot.snapshot_id)
    assert warehouse.sync_catalog("db", "t") is False  # nothing to do when the entry is current
    assert warehouse.sync_catalog("db", "missing") is False
