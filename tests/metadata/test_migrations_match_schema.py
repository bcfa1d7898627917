"""The Alembic migrations build exactly the schema the code declares on ``metadata_obj``.

Every service registers its tables on one ``MetaData``; the migrations are written by hand. If the two drift,
a lake made by ``lakeport init`` lacks a column, an index or a constraint the code relies on. Alembic's own
``compare_metadata`` (what ``alembic revision --autogenerate`` uses) must find nothing to do on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

# Import every module that registers tables on metadata_obj, so the comparison sees all of them.
import lakeport.catalog.schema
import lakeport.crawler.schema
import lakeport.dashboards.schema
import lakeport.etl.schema
import lakeport.functions.schema
import lakeport.iam.schema
import lakeport.notify.schema
import lakeport.observe.bus
import lakeport.observe.metrics_schema
import lakeport.observe.schema
import lakeport.query.schema
import lakeport.states.schema
import lakeport.storage.events
import lakeport.triggers.schema
from lakeport.metadata import HEAD_REVISION, MetadataDB
from lakeport.metadata.schema import metadata_obj

REGISTERING_MODULES = (
    lakeport.catalog.schema,
    lakeport.crawler.schema,
    lakeport.dashboards.schema,
    lakeport.etl.schema,
    lakeport.functions.schema,
    lakeport.iam.schema,
    lakeport.notify.schema,
    lakeport.observe.bus,
    lakeport.observe.metrics_schema,
    lakeport.observe.schema,
    lakeport.query.schema,
    lakeport.states.schema,
    lakeport.storage.events,
    lakeport.triggers.schema,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataDB]:
    """An empty database with every migration applied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metadata.db'}"
    else:
        url = request.getfixturevalue("postgres_db_url")
    db = MetadataDB(url)
    assert db.current_revision() is None
    db.upgrade()
    assert db.current_revision() == HEAD_REVISION
    yield db
    db.dispose()


def _is_server_default_only(diff: Any) -> bool:
    """A ``modify_default`` difference (the only kind we tolerate: dialects render defaults differently)."""
    entries = diff if isinstance(diff, list) else [diff]
    return all(isinstance(e, tuple) and e[0] == "modify_default" for e in entries)


def _differences(db: MetadataDB) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True}
        )
        diffs = compare_metadata(context, metadata_obj)
    return [d for d in diffs if not _is_server_default_only(d)]


def test_every_registering_module_is_imported() -> None:
    assert all(m.__name__.startswith("lakeport.") for m in REGISTERING_MODULES)
    expected = {
        "lake_info",
        "object_events",
        "object_state",
        "event_cursors",
        "catalog_databases",
        "catalog_tables",
        "catalog_table_versions",
        "catalog_partitions",
        "crawlers",
        "crawler_runs",
        "crawler_objects",
        "log_groups",
        "log_streams",
        "log_events",
        "iam_users",
        "iam_access_keys",
        "iam_audit_events",
        "notify_topics",
        "notify_subscriptions",
        "notify_messages",
        "notify_deliveries",
        "notify_dead_letters",
        "metric_data",
        "metric_alarms",
        "metric_alarm_history",
        "dashboards_datasets",
        "dashboards_ingestions",
        "dashboards_dashboards",
        "dashboards_answers",
    }
    assert expected <= set(metadata_obj.tables)


def test_migrations_create_every_declared_table(migrated: MetadataDB) -> None:
    assert set(inspect(migrated.engine).get_table_names()) == {*metadata_obj.tables, "alembic_version"}


def test_migrated_schema_matches_the_declared_metadata(migrated: MetadataDB) -> None:
    differences = _differences(migrated)
    assert differences == [], "\n".join(map(str, differences))


def test_declared_indexes_and_foreign_keys_exist_after_migrating(migrated: MetadataDB) -> None:
    inspector = inspect(migrated.engine)
    for name, table in metadata_obj.tables.items():
        declared_indexes = {i.name for i in table.indexes}
        assert declared_indexes <= {i["name"] for i in inspector.get_indexes(name)}, name
        declared_fks = {
            (fk.parent.name, fk.column.table.name, fk.column.name, fk.ondelete) for fk in table.foreign_keys
        }
        found_fks = {
            (col, fk["referred_table"], ref, (fk.get("options") or {}).get("ondelete"))
            for fk in inspector.get_foreign_keys(name)
            for col, ref in zip(fk["constrained_columns"], fk["referred_columns"], strict=True)
        }
        assert declared_fks == found_fks, name
        declared_pk = [c.name for c in table.primary_key.columns]
        assert inspector.get_pk_constraint(name)["constrained_columns"] == declared_pk, name
