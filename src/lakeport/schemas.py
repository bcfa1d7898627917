"""Every module that declares metadata tables on ``lakeport.metadata.schema.metadata_obj``.

A new, empty metadata database gets the newest schema from these declarations in one ``create_all`` (then is
stamped at the head migration) instead of running each migration in turn; a database made by an older lakeport
is migrated. ``tests/metadata/test_fresh_schema.py`` checks this list against the migration test's and that a
database made either way has the same schema.
"""

from __future__ import annotations

import importlib

SCHEMA_MODULES = (
    "lakeport.catalog.schema",
    "lakeport.crawler.schema",
    "lakeport.dashboards.schema",
    "lakeport.etl.schema",
    "lakeport.functions.schema",
    "lakeport.iam.schema",
    "lakeport.notify.schema",
    "lakeport.observe.bus",
    "lakeport.observe.metrics_schema",
    "lakeport.observe.schema",
    "lakeport.query.schema",
    "lakeport.states.schema",
    "lakeport.storage.events",
    "lakeport.triggers.schema",
)


def load_all() -> None:
    """Import every table-declaring module (each registers its tables on import)."""
    for name in SCHEMA_MODULES:
        importlib.import_module(name)
