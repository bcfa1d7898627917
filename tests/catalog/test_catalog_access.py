"""The catalog service's contract for access and concurrency (Glue Data Catalog behaviour), on a SQLite lake and a
PostgreSQL-metadata lake.

Every test runs once per metadata backend: the same calls must give the same answers whether the metadata DB is
the lake's SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from lakeport import Lake
from lakeport.catalog import (
    Catalog,
    CatalogSession,
    Column,
    Table,
)
from lakeport.errors import AccessDenied, AlreadyExists, Conflict
from tests.catalog.catalog_kit import (
    BOB,
    DB,
    GLUE,
    orders,
    part,
    values_of,
)

# ---- access


TABLE_ARN = f"{GLUE}:table/sales/orders"
DATABASE_ARN = f"{GLUE}:database/sales"
CATALOG_ARN = f"{GLUE}:catalog"

# Every catalog operation: (id, call, the Glue action it is, the resource ARN it acts on).
OPERATIONS: list[tuple[str, Callable[[Catalog], Any], str, str]] = [
    ("create_database", lambda c: c.create_database("newdb"), "CreateDatabase", f"{GLUE}:database/newdb"),
    ("get_database", lambda c: c.get_database(DB), "GetDatabase", DATABASE_ARN),
    ("list_databases", lambda c: c.list_databases(), "GetDatabases", CATALOG_ARN),
    ("delete_database", lambda c: c.delete_database(DB), "DeleteDatabase", DATABASE_ARN),
    ("create_table", lambda c: c.create_table(orders(name="t2")), "CreateTable", f"{GLUE}:table/sales/t2"),
    ("get_table", lambda c: c.get_table(DB, "orders"), "GetTable", TABLE_ARN),
    ("list_tables", lambda c: c.list_tables(DB), "GetTables", DATABASE_ARN),
    ("update_table", lambda c: c.update_table(orders(description="x")), "UpdateTable", TABLE_ARN),
    ("delete_table", lambda c: c.delete_table(DB, "orders"), "DeleteTable", TABLE_ARN),
    ("search_tables", lambda c: c.search_tables("orders"), "SearchTables", CATALOG_ARN),
    ("table_versions", lambda c: c.table_versions(DB, "orders"), "GetTableVersions", TABLE_ARN),
    ("table_version", lambda c: c.table_version(DB, "orders", 1), "GetTableVersion", TABLE_ARN),
    (
        "create_partitions",
        lambda c: c.create_partitions(DB, "orders", [part("2024", "1")]),
        "BatchCreatePartition",
        TABLE_ARN,
    ),
    (
        "update_partitions",
        lambda c: c.update_partitions(DB, "orders", [part("2023", "1")]),
        "BatchUpdatePartition",
        TABLE_ARN,
    ),
    (
        "delete_partitions",
        lambda c: c.delete_partitions(DB, "orders", [["2023", "1"]]),
        "BatchDeletePartition",
        TABLE_ARN,
    ),
    ("get_partition", lambda c: c.get_partition(DB, "orders", ["2023", "1"]), "GetPartition", TABLE_ARN),
    ("get_partitions", lambda c: c.get_partitions(DB, "orders"), "GetPartitions", TABLE_ARN),
]


@pytest.fixture
def guarded(sales: Catalog) -> Catalog:
    sales.create_partitions(DB, "orders", [part("2023", "1")])
    return sales


@pytest.mark.parametrize(
    ("call", "resource"), [pytest.param(call, resource, id=name) for name, call, _, resource in OPERATIONS]
)
def test_an_unauthorized_principal_is_denied_every_operation(
    guarded: Catalog, call: Callable[[Catalog], Any], resource: str
) -> None:
    before = guarded.get_table(DB, "orders")
    with pytest.raises(AccessDenied) as info:
        call(guarded.as_principal(BOB))
    assert info.value.code == "AccessDeniedException"
    message = info.value.message
    assert BOB.arn in message
    assert " glue:" in message
    assert resource in message
    # Nothing changed.
    assert guarded.get_table(DB, "orders") == before
    assert [d.name for d in guarded.list_databases()] == [DB]
    assert [t.name for t in guarded.list_tables(DB)] == ["orders"]
    assert values_of(guarded.get_partitions(DB, "orders")) == {("2023", "1")}


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        pytest.param(
            call,
            action,
            resource,
            id=name,
        )
        for name, call, action, resource in OPERATIONS
    ],
)
def test_the_denial_names_the_operations_own_glue_action(
    guarded: Catalog, call: Callable[[Catalog], Any], action: str, resource: str
) -> None:
    """As AWS does: a policy allowing glue:GetPartitions alone must be enough to call GetPartitions."""
    with pytest.raises(AccessDenied) as info:
        call(guarded.as_principal(BOB))
    assert f"perform: glue:{action} on resource: {resource}" in info.value.message


def test_the_admin_principal_is_allowed(guarded: Catalog, metadata_lake: Lake) -> None:
    admin = guarded.as_principal(metadata_lake.iam.admin)
    assert admin.get_table(DB, "orders").created_by == metadata_lake.iam.admin.arn


# ---- concurrency

ROUNDS = 5
PARTITIONS_PER_ROUND = 10


def test_concurrent_partition_batches_and_guarded_updates_lose_nothing(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    """Two threads, five rounds: both read the table, both update it expecting that version (one must get a
    Conflict), then each adds ten partitions of its own; in the end 100 partitions and one version per round."""
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[tuple[int, str, str]] = []
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for round_ in range(ROUNDS):
                seen = sales.get_table(DB, "orders")
                barrier.wait()  # both threads hold the same version now
                try:
                    sales.update_table(
                        seen.with_changes(columns=(*seen.columns, Column(f"{name}_{round_}", "string"))),
                        expected_version=seen.version,
                    )
                    outcomes.append((round_, name, "updated"))
                except Conflict:
                    outcomes.append((round_, name, "conflict"))
                first = round_ * PARTITIONS_PER_ROUND + 1
                for month in range(first, first + PARTITIONS_PER_ROUND):
                    result = sales.create_partitions(DB, "orders", [part(name, str(month))])
                    assert (result.succeeded, list(result.errors)) == (1, [])
                barrier.wait()  # the round is over for both
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, [f"{type(e).__name__}: {e}" for e in failures]
    for round_ in range(ROUNDS):
        assert sorted(o for r, _, o in outcomes if r == round_) == ["conflict", "updated"], outcomes
    winners = [f"{name}_{r}" for r, name, outcome in sorted(outcomes) if outcome == "updated"]
    table = sales.get_table(DB, "orders")
    assert table.version == 1 + ROUNDS
    assert [c.name for c in table.columns] == ["id", "customer", "price", *winners]
    assert [v.version for v in sales.table_versions(DB, "orders")] == list(range(1, ROUNDS + 2))
    partitions = sales.get_partitions(DB, "orders")
    assert len(partitions) == 2 * ROUNDS * PARTITIONS_PER_ROUND
    assert values_of(partitions) == {
        (name, str(m)) for name in ("left", "right") for m in range(1, ROUNDS * PARTITIONS_PER_ROUND + 1)
    }


def _wait_until_blocked(lake: Lake) -> None:
    """Return once another connection waits for a lock (PostgreSQL), or after a moment (SQLite's queue)."""
    if lake.db.dialect != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lake.db.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                return
        time.sleep(0.02)


def _race(
    lake: Lake, catalog: Catalog, first: Callable[[CatalogSession], Any], second: Callable[[Catalog], Any]
) -> Any:
    """Run ``first`` in a write transaction, start ``second`` in another thread before committing, and return
    what ``second`` returned or raised once the first committed: the same race as two processes, deterministic."""
    answers: list[Any] = []

    def run_second() -> None:
        try:
            answers.append(second(catalog))
        except BaseException as exc:
            answers.append(exc)

    thread = threading.Thread(target=run_second)
    with lake.db.write() as conn:
        first(catalog.session(conn))
        thread.start()
        _wait_until_blocked(lake)
    thread.join(timeout=60)
    assert len(answers) == 1
    return answers[0]


def _with_column(name: str) -> Table:
    return orders(columns=(*orders().columns, Column(name, "string")))


def test_an_update_racing_an_uncommitted_one_gets_a_conflict(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.update_table(_with_column("first"), expected_version=1),
        lambda c: c.update_table(_with_column("second"), expected_version=1),
    )
    assert isinstance(answer, Conflict), repr(answer)
    assert [c.name for c in sales.get_table(DB, "orders").columns][-1] == "first"
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1, 2]


def test_a_table_created_racing_an_uncommitted_create_gets_already_exists(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.create_table(orders(name="twice", description="first")),
        lambda c: c.create_table(orders(name="twice", description="second")),
    )
    assert isinstance(answer, AlreadyExists), repr(answer)
    assert answer.code == "AlreadyExistsException"
    assert sales.get_table(DB, "twice").description == "first"


def test_partitions_created_racing_an_uncommitted_batch_are_reported_not_raised(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.create_partitions(DB, "orders", [part("2023", "1")]),
        lambda c: c.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")]),
    )
    assert not isinstance(answer, BaseException), repr(answer)
    assert answer.succeeded == 1
    assert [(e.values, e.code) for e in answer.errors] == [(("2023", "1"), "AlreadyExistsException")]
    assert values_of(sales.get_partitions(DB, "orders")) == {("2023", "1"), ("2023", "2")}


def test_a_database_created_racing_an_uncommitted_create_gets_already_exists(
    catalog: Catalog, metadata_lake: Lake
) -> None:
    answer = _race(
        metadata_lake,
        catalog,
        lambda s: s.create_database("twice", description="first"),
        lambda c: c.create_database("twice", description="second"),
    )
    assert isinstance(answer, AlreadyExists), repr(answer)
    assert catalog.get_database("twice").description == "first"
    again = _race(
        metadata_lake,
        catalog,
        lambda s: s.create_database("thrice", description="first"),
        lambda c: c.create_database("thrice", description="second", exist_ok=True),
    )
    assert not isinstance(again, BaseException), repr(again)
    assert again.description == "first"
