"""A new lake's metadata database is made in one ``create_all`` from the declared tables (stamped at the head
migration); it must be the same schema the migrations build, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from lakeport.metadata import HEAD_REVISION, MetadataDB
from lakeport.metadata.schema import metadata_obj
from lakeport.schemas import SCHEMA_MODULES, load_all
from tests.metadata.test_migrations_match_schema import REGISTERING_MODULES, _differences


def test_the_fresh_schema_loads_every_registering_module() -> None:
    assert sorted(SCHEMA_MODULES) == sorted(m.__name__ for m in REGISTERING_MODULES)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataDB]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metadata.db'}"
    else:
        url = request.getfixturevalue("postgres_db_url")
    db = MetadataDB(url)
    assert db.current_revision() is None
    db.ensure_schema(load_tables=load_all)
    yield db
    db.dispose()


def test_a_fresh_database_is_at_the_head_with_every_table(fresh: MetadataDB) -> None:
    assert fresh.current_revision() == HEAD_REVISION
    assert set(inspect(fresh.engine).get_table_names()) == {*metadata_obj.tables, "alembic_version"}
    differences = _differences(fresh)
    assert differences == [], "\n".join(map(str, differences))
    fresh.ensure_schema(load_tables=load_all)  # current: nothing to do
    assert fresh.current_revision() == HEAD_REVISION
