"""Warehouse commits: Iceberg's append / overwrite / dynamic partition overwrite / replace semantics, snapshot
summaries, schema evolution and the table's entry in lakeport's catalog.

Every table is read back the way engines read it: DuckDB over the snapshot's ``data_files``.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.catalog import ICEBERG, Column
from lakeport.errors import InvalidInput, NotFound
from lakeport.warehouse import CommitConflict, CommitResult
from tests.warehouse.warehouse_kit import race_before, rows_of, sid, table_rows, write_parquet

DB, TABLE = "sales", "orders"
SCHEMA = pa.schema([("id", pa.int64()), ("item", pa.string())])
COLS = ["id", "item"]


def commit(lake: Lake, rows: list[dict[str, Any]], *, schema: pa.Schema = SCHEMA, **kw: Any) -> CommitResult:
    """Write ``rows`` as one Parquet file and commit it (append unless ``mode=`` says otherwise)."""
    path = write_parquet(lake, DB, TABLE, rows, schema)
    return lake.warehouse.commit(DB, TABLE, files=[path], schema=schema, **kw)


def items(*pairs: tuple[int, str | None]) -> list[dict[str, Any]]:
    return [{"id": i, "item": s} for i, s in pairs]


# ---- append / overwrite / replace


def test_append_adds_rows_to_the_current_snapshot(local_lake: Lake) -> None:
    first = commit(local_lake, items((1, "a"), (2, "b")))
    assert (first.files_added, first.rows_added, first.attempts) == (1, 2, 1)
    assert first.bytes_added > 0
    assert first.table == f"{DB}.{TABLE}"
    second = commit(local_lake, items((3, "c")))
    assert second.snapshot_id != first.snapshot_id
    assert (second.files_added, second.rows_added) == (1, 1)

    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "b"), (3, "c")]
    files = local_lake.warehouse.data_files(DB, TABLE)
    assert len(files) == 2
    assert all(f.startswith(str(local_lake.warehouse.data_dir(DB, TABLE))) for f in files)
    history = local_lake.warehouse.history(DB, TABLE)
    assert [s.snapshot_id for s in history] == [first.snapshot_id, second.snapshot_id]
    assert [s.operation for s in history] == ["append", "append"]
    assert history[-1].summary["total-records"] == "3"


def test_append_of_the_same_rows_twice_keeps_both_copies(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    commit(local_lake, items((1, "a")))
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (1, "a")]


def test_overwrite_replaces_every_row(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a"), (2, "b")))
    commit(local_lake, items((3, "c")))
    written = [
        write_parquet(local_lake, DB, TABLE, items((10, "x")), SCHEMA),
        write_parquet(local_lake, DB, TABLE, items((11, "y"), (12, None)), SCHEMA),
    ]
    result = local_lake.warehouse.commit(DB, TABLE, files=written, schema=SCHEMA, mode="overwrite")
    assert (result.files_added, result.rows_added) == (2, 3)
    assert table_rows(local_lake, DB, TABLE, COLS) == [(10, "x"), (11, "y"), (12, None)]
    assert sorted(local_lake.warehouse.data_files(DB, TABLE)) == sorted(written)
    current = local_lake.warehouse.history(DB, TABLE)[-1]
    assert current.current
    assert current.snapshot_id == result.snapshot_id
    assert current.summary["total-records"] == "3"
    assert current.summary["total-data-files"] == "2"


def test_overwrite_of_a_new_table_creates_it(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")), mode="overwrite")
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a")]


def test_overwrite_with_no_files_empties_the_table(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    local_lake.warehouse.commit(DB, TABLE, files=[], schema=SCHEMA, mode="overwrite")
    assert local_lake.warehouse.data_files(DB, TABLE) == []
    assert local_lake.warehouse.history(DB, TABLE)[-1].summary["total-records"] == "0"


@pytest.mark.parametrize("mode", ["overwrite", "replace", "overwrite_partitions"])
def test_every_commit_is_exactly_one_snapshot(local_lake: Lake, mode: str) -> None:
    """Iceberg: one commit, one snapshot; an overwrite is one ``overwrite`` snapshot whose parent is the previous."""
    first = commit(local_lake, items((1, "a")), partition_by=["item"])
    second = commit(local_lake, items((2, "a")), mode=mode, replace_values=[{"item": "a"}])
    history = local_lake.warehouse.history(DB, TABLE)
    assert [s.snapshot_id for s in history] == [first.snapshot_id, second.snapshot_id]
    assert history[1].parent_id == first.snapshot_id
    assert history[1].operation == "overwrite"


def test_overwrite_partitions_of_a_table_partitioned_otherwise_replaces_only_those_rows(local_lake: Lake) -> None:
    """An unpartitioned table's one file holds items a and b: replacing partition a must keep b's rows."""
    commit(local_lake, items((1, "a"), (2, "b"), (3, None)))
    commit(local_lake, items((10, "a")), mode="overwrite_partitions", replace_values=[{"item": "a"}])
    assert table_rows(local_lake, DB, TABLE, COLS) == rows_of(items((2, "b"), (3, None), (10, "a")), COLS)


def test_overwrite_partitions_replaces_only_the_given_partitions(local_lake: Lake) -> None:
    """Identity partitioning by ``item``: one file per partition value (NULL is a partition too)."""
    wh = local_lake.warehouse
    files = [write_parquet(local_lake, DB, TABLE, items(*rows), SCHEMA) for rows in _by_item]
    wh.commit(DB, TABLE, files=files, schema=SCHEMA, partition_by=["item"])
    assert [(f.name, str(f.transform)) for f in wh.require(DB, TABLE).spec().fields] == [("item", "identity")]
    assert local_lake.catalog.get_table(DB, TABLE).parameters["partitioning"] == "item"

    new = [write_parquet(local_lake, DB, TABLE, items((10, "a"), (11, "a")), SCHEMA)]
    result = wh.commit(DB, TABLE, files=new, schema=SCHEMA, mode="overwrite_partitions", replace_values=[{"item": "a"}])
    assert result.rows_added == 2
    assert table_rows(local_lake, DB, TABLE, COLS) == rows_of(
        items((10, "a"), (11, "a"), (3, "b"), (4, "b"), (5, None)), COLS
    )

    nulls = [write_parquet(local_lake, DB, TABLE, items((20, None)), SCHEMA)]
    wh.commit(DB, TABLE, files=nulls, schema=SCHEMA, mode="overwrite_partitions", replace_values=[{"item": None}])
    assert table_rows(local_lake, DB, TABLE, COLS) == rows_of(
        items((10, "a"), (11, "a"), (3, "b"), (4, "b"), (20, None)), COLS
    )


_by_item = [((1, "a"), (2, "a")), ((3, "b"), (4, "b")), ((5, None),)]


def test_overwrite_partitions_with_two_partition_columns_and_several_values(local_lake: Lake) -> None:
    schema = pa.schema([("region", pa.string()), ("day", pa.int32()), ("n", pa.int64())])
    cols = ["region", "day", "n"]
    wh = local_lake.warehouse

    def one(region: str, day: int, n: int) -> str:
        return write_parquet(local_lake, DB, TABLE, [{"region": region, "day": day, "n": n}], schema)

    start = [("eu", 1, 1), ("eu", 2, 2), ("us", 1, 3), ("us", 2, 4)]
    wh.commit(DB, TABLE, files=[one(*r) for r in start], schema=schema, partition_by=["region", "day"])
    wh.commit(
        DB,
        TABLE,
        files=[one("eu", 1, 10), one("us", 2, 40), one("ap", 9, 90)],
        schema=schema,
        mode="overwrite_partitions",
        replace_values=[{"region": "eu", "day": 1}, {"region": "us", "day": 2}, {"region": "ap", "day": 9}],
    )
    assert table_rows(local_lake, DB, TABLE, cols) == sorted(
        [("ap", 9, 90), ("eu", 1, 10), ("eu", 2, 2), ("us", 1, 3), ("us", 2, 40)]
    )


def test_overwrite_partitions_without_values_only_appends(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")), partition_by=["item"])
    commit(local_lake, items((2, "b")), mode="overwrite_partitions")
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "b")]


def test_replace_at_the_expected_snapshot_replaces_everything(local_lake: Lake) -> None:
    read = commit(local_lake, items((1, "a"), (2, "b")))
    merged = commit(local_lake, items((1, "A"), (2, "b"), (3, "c")), mode="replace", expected_snapshot=read.snapshot_id)
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "A"), (2, "b"), (3, "c")]
    assert local_lake.warehouse.history(DB, TABLE)[-1].snapshot_id == merged.snapshot_id


def test_replace_of_a_new_table_expecting_no_snapshot(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")), mode="replace", expected_snapshot=None)
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a")]


def test_replace_with_a_stale_expected_snapshot_is_a_conflict_and_changes_nothing(local_lake: Lake) -> None:
    read = commit(local_lake, items((1, "a")))
    moved = commit(local_lake, items((2, "b")))  # another job appended after the merge read the table
    before = local_lake.warehouse.history(DB, TABLE)
    with pytest.raises(CommitConflict) as caught:
        commit(local_lake, items((1, "A")), mode="replace", expected_snapshot=read.snapshot_id)
    err = caught.value
    assert err.code == "ConcurrentModificationException"
    assert err.http_status == 409
    assert f"{DB}.{TABLE}" in err.message
    assert str(moved.snapshot_id) in err.message
    assert "\n" not in err.one_line()
    assert local_lake.warehouse.history(DB, TABLE) == before
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "b")]
    assert local_lake.catalog.get_table(DB, TABLE).parameters["current-snapshot-id"] == str(moved.snapshot_id)


def test_replace_expecting_an_empty_table_conflicts_once_it_has_a_snapshot(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    with pytest.raises(CommitConflict):
        commit(local_lake, items((9, "z")), mode="replace", expected_snapshot=None)
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a")]


def test_an_unknown_mode_is_refused_before_anything_is_written(local_lake: Lake) -> None:
    path = write_parquet(local_lake, DB, TABLE, items((1, "a")), SCHEMA)
    with pytest.raises(InvalidInput, match="upsert"):
        local_lake.warehouse.commit(DB, TABLE, files=[path], schema=SCHEMA, mode="upsert")
    assert local_lake.warehouse.load(DB, TABLE) is None


def test_reading_a_table_that_does_not_exist_names_it(local_lake: Lake) -> None:
    with pytest.raises(NotFound, match=f"{DB}.{TABLE}"):
        local_lake.warehouse.data_files(DB, TABLE)


def test_an_empty_first_commit_makes_an_empty_registered_table(local_lake: Lake) -> None:
    """A job whose output is empty still creates its table (as an empty one), like Iceberg's empty append."""
    local_lake.warehouse.commit(DB, TABLE, files=[], schema=SCHEMA)
    assert local_lake.warehouse.data_files(DB, TABLE) == []
    assert local_lake.warehouse.history(DB, TABLE) == []
    entry = local_lake.catalog.get_table(DB, TABLE)
    assert entry.table_type == ICEBERG
    assert entry.columns == (Column("id", "bigint"), Column("item", "string"))
    commit(local_lake, items((1, "a")))
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a")]


# ---- concurrent commits (another writer commits inside this commit's window)


def test_an_append_racing_another_append_keeps_both(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    rival_lake = Lake.open(local_lake.root)
    try:
        commit(local_lake, items((1, "a")))
        ran = race_before(monkeypatch, "_commit_once", lambda: commit(rival_lake, items((2, "rival"))))
        mine = commit(local_lake, items((3, "mine")))
        assert len(ran) == 1
        assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "rival"), (3, "mine")]
        history = local_lake.warehouse.history(DB, TABLE)
        assert history[-1].snapshot_id == mine.snapshot_id
        assert history[-1].current
        assert local_lake.catalog.get_table(DB, TABLE).parameters["current-snapshot-id"] == str(mine.snapshot_id)
    finally:
        rival_lake.close()


def test_an_overwrite_racing_an_append_is_retried_on_the_new_snapshot(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docstring's promise: a commit that loses a race is retried against the new snapshot (bounded)."""
    rival_lake = Lake.open(local_lake.root)
    try:
        commit(local_lake, items((1, "a")))
        race_before(monkeypatch, "_commit_once", lambda: commit(rival_lake, items((2, "rival"))))
        commit(local_lake, items((3, "mine")), mode="overwrite")
        assert table_rows(local_lake, DB, TABLE, COLS) == [(3, "mine")]
    finally:
        rival_lake.close()


def test_a_replace_racing_an_append_is_a_conflict_and_keeps_the_append(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    rival_lake = Lake.open(local_lake.root)
    try:
        read = commit(local_lake, items((1, "a")))
        race_before(monkeypatch, "_commit_once", lambda: commit(rival_lake, items((2, "rival"))))
        with pytest.raises(CommitConflict) as caught:
            commit(local_lake, items((1, "A")), mode="replace", expected_snapshot=read.snapshot_id)
        assert caught.value.code == "ConcurrentModificationException"
        assert "\n" not in caught.value.one_line()
        assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "rival")]
    finally:
        rival_lake.close()


def test_a_replace_racing_an_append_never_loses_the_append(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the merge reports, it must not drop rows it never read (no lost update)."""
    rival_lake = Lake.open(local_lake.root)
    try:
        read = commit(local_lake, items((1, "a")))
        race_before(monkeypatch, "_commit_once", lambda: commit(rival_lake, items((2, "rival"))))
        with contextlib.suppress(Exception):
            commit(local_lake, items((1, "A")), mode="replace", expected_snapshot=read.snapshot_id)
        assert (2, "rival") in table_rows(local_lake, DB, TABLE, COLS)
    finally:
        rival_lake.close()


def test_the_catalog_entry_never_goes_back_to_an_older_table_state(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another job commits (adding a column) after this commit swapped the pointer, before it updated the catalog."""
    wider = pa.schema([("id", pa.int64()), ("item", pa.string()), ("qty", pa.int64())])
    rival_lake = Lake.open(local_lake.root)
    try:
        commit(local_lake, items((1, "a")))
        ran = race_before(
            monkeypatch, "_register", lambda: commit(rival_lake, [{"id": 2, "item": "b", "qty": 5}], schema=wider)
        )
        commit(local_lake, items((3, "c")))
        assert len(ran) == 1
        current = local_lake.warehouse.require(DB, TABLE)
        snapshot = current.current_snapshot()
        assert snapshot is not None
        entry = local_lake.catalog.get_table(DB, TABLE)
        assert entry.parameters["metadata_location"] == current.metadata_location
        assert entry.parameters["current-snapshot-id"] == str(snapshot.snapshot_id)
        assert entry.column("qty") == Column("qty", "bigint")
    finally:
        rival_lake.close()


# ---- snapshot summaries


def test_snapshot_summaries_carry_the_commit_properties(local_lake: Lake) -> None:
    props = {"lakeport.run-id": "jr_123", "lakeport.job": "load-orders", "lakeport.attempt": "2"}
    result = commit(local_lake, items((1, "a")), properties=props)
    assert dict(result.properties) == props
    other = commit(local_lake, items((2, "b")), mode="overwrite", properties={"lakeport.run-id": "jr_456"})

    by_id = {s.snapshot_id: s for s in local_lake.warehouse.history(DB, TABLE)}
    assert {k: by_id[sid(result)].summary[k] for k in props} == props
    assert by_id[sid(result)].summary["added-records"] == "1"
    assert by_id[sid(other)].summary["lakeport.run-id"] == "jr_456"
    assert "lakeport.job" not in by_id[sid(other)].summary
    # the Iceberg snapshot itself (what any Iceberg reader sees) has them too
    snap = local_lake.warehouse.require(DB, TABLE).snapshot_by_id(sid(result))
    assert snap is not None
    assert snap.summary is not None
    assert snap.summary["lakeport.run-id"] == "jr_123"


def test_property_values_are_stored_as_text(local_lake: Lake) -> None:
    result = commit(local_lake, items((1, "a")), properties={"lakeport.attempt": 3})
    assert local_lake.warehouse.history(DB, TABLE)[-1].summary["lakeport.attempt"] == "3"
    assert result.properties == {"lakeport.attempt": "3"}


# ---- schema evolution


def test_a_new_column_is_appended_and_old_rows_read_null(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    commit(local_lake, items((1, "a")))
    incoming = pa.schema([("id", pa.int64()), ("qty", pa.int32()), ("item", pa.string())])
    target = wh.target_schema(DB, TABLE, incoming)
    assert target.names == ["id", "item", "qty"]  # the table's columns first, new ones after
    assert target.field("qty").type == pa.int32()
    path = write_parquet(local_lake, DB, TABLE, [{"id": 2, "item": "b", "qty": 5}], target)
    wh.commit(DB, TABLE, files=[path], schema=target)

    assert [f.name for f in wh.require(DB, TABLE).schema().fields] == ["id", "item", "qty"]
    assert table_rows(local_lake, DB, TABLE, ["id", "item", "qty"]) == [(1, "a", None), (2, "b", 5)]
    entry = local_lake.catalog.get_table(DB, TABLE)
    assert entry.columns == (Column("id", "bigint"), Column("item", "string"), Column("qty", "int"))
    assert entry.version == 2
    assert [v.version for v in local_lake.catalog.table_versions(DB, TABLE)] == [1, 2]


def test_int_widens_to_bigint(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    narrow = pa.schema([("id", pa.int32()), ("item", pa.string())])
    commit(local_lake, items((1, "a")), schema=narrow)
    assert str(wh.require(DB, TABLE).schema().find_field("id").field_type) == "int"

    target = wh.target_schema(DB, TABLE, SCHEMA)
    assert target.field("id").type == pa.int64()
    big = 2**40
    path = write_parquet(local_lake, DB, TABLE, items((big, "b")), target)
    wh.commit(DB, TABLE, files=[path], schema=target)

    assert str(wh.require(DB, TABLE).schema().find_field("id").field_type) == "long"
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (big, "b")]
    assert local_lake.catalog.get_table(DB, TABLE).column("id") == Column("id", "bigint")


def test_narrower_incoming_values_take_the_table_type(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    target = local_lake.warehouse.target_schema(DB, TABLE, pa.schema([("id", pa.int16()), ("item", pa.string())]))
    assert target.field("id").type == pa.int64()


def test_target_schema_of_a_new_table_is_the_incoming_schema(local_lake: Lake) -> None:
    assert local_lake.warehouse.target_schema(DB, TABLE, SCHEMA) == SCHEMA


@pytest.mark.parametrize(
    ("table_type", "incoming_type", "widened"),
    [
        (pa.float32(), pa.float64(), pa.float64()),
        (pa.decimal128(10, 2), pa.decimal128(12, 2), pa.decimal128(12, 2)),
        (pa.int32(), pa.int64(), pa.int64()),
        (pa.float64(), pa.float32(), pa.float64()),
    ],
    ids=["float-double", "decimal-precision", "int-bigint", "double-keeps"],
)
def test_safe_widenings(
    local_lake: Lake, table_type: pa.DataType, incoming_type: pa.DataType, widened: pa.DataType
) -> None:
    schema = pa.schema([("id", pa.int64()), ("v", table_type)])
    value: Any = Decimal("1.25") if pa.types.is_decimal(table_type) else 1
    commit(local_lake, [{"id": 1, "v": value}], schema=schema)
    target = local_lake.warehouse.target_schema(DB, TABLE, pa.schema([("id", pa.int64()), ("v", incoming_type)]))
    assert target.field("v").type == widened
    commit(local_lake, [{"id": 2, "v": value}], schema=target)
    assert table_rows(local_lake, DB, TABLE, ["id"]) == [(1,), (2,)]


@pytest.mark.parametrize(
    ("table_type", "incoming_type"),
    [
        (pa.int64(), pa.string()),
        (pa.int32(), pa.float64()),
        (pa.decimal128(10, 2), pa.decimal128(10, 4)),
        (pa.int64(), pa.bool_()),
        (pa.date32(), pa.string()),
    ],
    ids=["bigint-string", "int-double", "decimal-scale", "bigint-boolean", "date-string"],
)
def test_unsafe_type_changes_are_refused_naming_the_column(
    local_lake: Lake, table_type: pa.DataType, incoming_type: pa.DataType
) -> None:
    schema = pa.schema([("id", pa.int64()), ("Amount", table_type)])
    commit(local_lake, [{"id": 1, "Amount": None}], schema=schema)
    before = local_lake.warehouse.history(DB, TABLE)
    with pytest.raises(InvalidInput) as caught:
        local_lake.warehouse.target_schema(DB, TABLE, pa.schema([("id", pa.int64()), ("amount", incoming_type)]))
    assert "column amount" in caught.value.message
    assert f"{DB}.{TABLE}" in caught.value.message
    assert local_lake.warehouse.history(DB, TABLE) == before


def test_a_string_column_does_not_become_int(local_lake: Lake) -> None:
    """string → int is no Iceberg promotion: the table keeps string (int values are written as their text)."""
    commit(local_lake, items((1, "a")))
    target = local_lake.warehouse.target_schema(DB, TABLE, pa.schema([("id", pa.int64()), ("item", pa.int32())]))
    assert pa.types.is_string(target.field("item").type) or pa.types.is_large_string(target.field("item").type)
    path = write_parquet(local_lake, DB, TABLE, items((2, "7")), target)
    local_lake.warehouse.commit(DB, TABLE, files=[path], schema=target)
    assert str(local_lake.warehouse.require(DB, TABLE).schema().find_field("item").field_type) == "string"
    assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a"), (2, "7")]


@pytest.mark.parametrize(
    "bad",
    [
        pa.schema([("id", pa.string()), ("item", pa.string())]),  # bigint -> string
        pa.schema([("id", pa.int64()), ("item", pa.int32())]),  # string -> int
    ],
    ids=["bigint-string", "string-int"],
)
def test_commit_refuses_a_type_change_with_invalid_input_naming_the_column(local_lake: Lake, bad: pa.Schema) -> None:
    commit(local_lake, items((1, "a")))
    before = local_lake.warehouse.history(DB, TABLE)
    changed = next(f.name for f in bad if f.type != SCHEMA.field(f.name).type)
    row = {"id": "2" if bad.field("id").type == pa.string() else 2, "item": 5 if changed == "item" else "b"}
    path = write_parquet(local_lake, DB, TABLE, [row], bad)
    try:
        with pytest.raises(InvalidInput, match=changed):
            local_lake.warehouse.commit(DB, TABLE, files=[path], schema=bad)
    finally:
        assert local_lake.warehouse.history(DB, TABLE) == before
        assert table_rows(local_lake, DB, TABLE, COLS) == [(1, "a")]


# ---- the entry in lakeport's catalog


def test_every_commit_registers_the_table_in_the_catalog(local_lake: Lake) -> None:
    first = commit(local_lake, items((1, "a")), partition_by=["item"])
    entry = local_lake.catalog.get_table(DB, TABLE)
    assert entry.table_type == ICEBERG
    assert entry.location == f"s3://{local_lake.warehouse.bucket}/warehouse/{DB}/{TABLE}/"
    assert entry.columns == (Column("id", "bigint"), Column("item", "string"))
    assert entry.parameters["table_type"] == "ICEBERG"
    assert entry.parameters["current-snapshot-id"] == str(first.snapshot_id)
    assert entry.parameters["metadata_location"] == local_lake.warehouse.require(DB, TABLE).metadata_location
    assert entry.format.classification == "iceberg"

    second = commit(local_lake, items((2, "b")))
    entry = local_lake.catalog.get_table(DB, TABLE)
    assert entry.parameters["current-snapshot-id"] == str(second.snapshot_id)
    assert entry.parameters["metadata_location"] == local_lake.warehouse.require(DB, TABLE).metadata_location
    assert local_lake.catalog.get_database(DB).name == DB


def test_a_description_set_in_the_catalog_survives_commits(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    entry = local_lake.catalog.get_table(DB, TABLE)
    local_lake.catalog.update_table(entry.with_changes(description="orders, one row per order"))
    commit(local_lake, items((2, "b")))
    assert local_lake.catalog.get_table(DB, TABLE).description == "orders, one row per order"


def test_a_new_catalog_version_only_when_columns_change(local_lake: Lake) -> None:
    commit(local_lake, items((1, "a")))
    commit(local_lake, items((2, "b")))
    commit(local_lake, items((3, "c")), mode="overwrite")
    assert local_lake.catalog.get_table(DB, TABLE).version == 1
    assert [v.version for v in local_lake.catalog.table_versions(DB, TABLE)] == [1]

    wider = pa.schema([("id", pa.int64()), ("item", pa.string()), ("qty", pa.int64())])
    commit(local_lake, [{"id": 4, "item": "d", "qty": 1}], schema=wider)
    assert local_lake.catalog.get_table(DB, TABLE).version == 2
    assert [v.version for v in local_lake.catalog.table_versions(DB, TABLE)] == [1, 2]
