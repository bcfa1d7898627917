"""Athena's catalog statements answered from the catalog: SHOW DATABASES | SCHEMAS, SHOW TABLES, SHOW COLUMNS,
SHOW PARTITIONS and DESCRIBE — with Athena's result column names (``database_name``, ``tab_name``, ``field``,
``partition``; DESCRIBE: ``col_name``, ``data_type``, ``comment``).

Patterns are Hive's, as Athena documents them: ``*`` matches any characters, ``|`` separates alternatives,
case-insensitively.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lakeport.catalog.names import check_name
from lakeport.errors import InvalidInput
from lakeport.query.engine import ResultSet

if TYPE_CHECKING:
    from lakeport.catalog import Catalog

NAME = r'(?:"[^"]+"|`[^`]+`|[A-Za-z0-9_\-]+)'  # a name, bare or quoted
TABLE = rf"({NAME}(?:\.{NAME})?)"
STRING = r"'((?:[^']|'')*)'"  # a string literal (its text in group 1)
_SHOW_DATABASES = re.compile(rf"SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?{STRING})?", re.I)
_SHOW_TABLES = re.compile(rf"SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+({NAME}))?(?:\s+(?:LIKE\s+)?{STRING})?", re.I)
_SHOW_COLUMNS = re.compile(rf"SHOW\s+COLUMNS\s+(?:IN|FROM)\s+{TABLE}(?:\s+(?:IN|FROM)\s+({NAME}))?", re.I)
_SHOW_PARTITIONS = re.compile(rf"SHOW\s+PARTITIONS\s+{TABLE}", re.I)
_DESCRIBE = re.compile(rf"(?:DESCRIBE|DESC)(?:\s+(?:EXTENDED|FORMATTED))?\s+{TABLE}", re.I)


def bare(name: str) -> str:
    """A name without its quotes."""
    return name[1:-1] if name[:1] in ('"', "`") else name


def table_name(text: str, default_database: str, database: str | None = None) -> tuple[str, str]:
    """``db.table`` or ``table`` (in ``database``, else the default) as checked catalog names."""
    parts = [bare(p) for p in re.findall(NAME, text)]
    db, table = (parts[0], parts[1]) if len(parts) == 2 else (database or default_database, parts[0])
    return check_name("database", bare(db)), check_name("table", table)


def hive_pattern(pattern: str) -> re.Pattern[str]:
    alternatives = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.replace("''", "'").split("|")]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


def catalog_statement(sql: str, *, default_database: str, catalog: Catalog) -> ResultSet | None:
    """The result of a SHOW/DESCRIBE statement, or None when ``sql`` is not one."""
    text = sql.strip().rstrip(";").strip()
    if found := _SHOW_DATABASES.fullmatch(text):
        names = [d.name for d in catalog.list_databases()]
        if found.group(1) is not None:
            names = [n for n in names if hive_pattern(found.group(1)).fullmatch(n)]
        return ResultSet([("database_name", "varchar")], [[n] for n in sorted(names)])
    if found := _SHOW_TABLES.fullmatch(text):
        database = check_name("database", bare(found.group(1) or default_database))
        names = [t.name for t in catalog.list_tables(database)]
        if found.group(2) is not None:
            names = [n for n in names if hive_pattern(found.group(2)).fullmatch(n)]
        return ResultSet([("tab_name", "varchar")], [[n] for n in sorted(names)])
    if found := _SHOW_COLUMNS.fullmatch(text):
        database, name = table_name(found.group(1), default_database, found.group(2) and bare(found.group(2)))
        table = catalog.get_table(database, name)
        return ResultSet([("field", "varchar")], [[c.name] for c in (*table.columns, *table.partition_keys)])
    if found := _SHOW_PARTITIONS.fullmatch(text):
        database, name = table_name(found.group(1), default_database)
        table = catalog.get_table(database, name)
        if not table.partition_keys:
            raise InvalidInput(
                f"table {database}.{name} is not partitioned", hint="SHOW PARTITIONS needs partition keys"
            )
        keys = [k.name for k in table.partition_keys]
        values = sorted(
            "/".join(
                f"{k}={'__HIVE_DEFAULT_PARTITION__' if v is None else v}" for k, v in zip(keys, p.values, strict=True)
            )
            for p in catalog.get_partitions(database, name)
        )
        return ResultSet([("partition", "varchar")], [[v] for v in values])
    if found := _DESCRIBE.fullmatch(text):
        database, name = table_name(found.group(1), default_database)
        table = catalog.get_table(database, name)
        rows: list[list[str | None]] = [[c.name, c.type, c.comment or ""] for c in table.columns]
        rows += [[c.name, c.type, c.comment or ""] for c in table.partition_keys]
        return ResultSet([("col_name", "varchar"), ("data_type", "varchar"), ("comment", "varchar")], rows)
    return None
