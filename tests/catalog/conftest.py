"""Fixtures of the catalog contract suites: every test runs on a SQLite lake and a PostgreSQL-metadata lake."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from lakeport import Lake
from lakeport.catalog import (
    Catalog,
)
from lakeport.catalog.schema import catalog_databases, catalog_partitions, catalog_table_versions, catalog_tables
from tests.catalog.catalog_kit import (
    DB,
    orders,
    row_count,
)
from tests.support.postgres import fresh_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def metadata_lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A lake whose metadata is in its SQLite file, or in a fresh PostgreSQL database (one per module: making
    a lake costs a second on PostgreSQL; :func:`catalog` empties the catalog after every test instead)."""
    with contextlib.ExitStack() as stack:
        values: dict[str, str] = {}
        if request.param == "postgresql":
            values["metadata.url"] = stack.enter_context(fresh_database(request.getfixturevalue("postgres_url")))
        lake = Lake.init(tmp_path_factory.mktemp("lake"), values=values, environ={})
        stack.callback(lake.close)
        assert lake.db.dialect == request.param
        yield lake


@pytest.fixture
def catalog(metadata_lake: Lake) -> Iterator[Catalog]:
    """The lake's catalog, empty at the start of the test and emptied again after it."""
    catalog = metadata_lake.catalog
    assert catalog.list_databases() == []
    yield catalog
    for database in catalog.list_databases():
        catalog.delete_database(database.name)
    for table in (catalog_partitions, catalog_table_versions, catalog_tables, catalog_databases):
        assert row_count(metadata_lake, table) == 0, table.name


@pytest.fixture
def sales(catalog: Catalog) -> Catalog:
    """The catalog with database ``sales`` holding the partitioned table ``orders``."""
    catalog.create_database(DB)
    catalog.create_table(orders())
    return catalog
