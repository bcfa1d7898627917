"""Names in the catalog: databases, tables and columns, checked and normalized the way Glue and Athena want.

Glue stores database and table names in lower case and Athena only resolves lower-case names, so names are
lower-cased on the way in. Athena's rule for names it can query without quoting is letters, digits and ``_``;
Glue also accepts ``-``, which Athena reaches with backticks or double quotes, so lakeport accepts it too.
"""

from __future__ import annotations

import re

from lakeport.errors import InvalidInput

MAX_NAME = 255
_NAME = re.compile(r"^[a-z0-9_][a-z0-9_\-]*$")
_IDENTIFIER_JUNK = re.compile(r"[^a-z0-9_]+")


def check_name(kind: str, name: str) -> str:
    """``name`` lower-cased, or an error saying what is wrong with it (``kind`` is "database", "table" …)."""
    normalized = name.strip().lower()
    if not normalized:
        raise InvalidInput(f"{kind} name is empty", hint="use letters, digits and _")
    if len(normalized) > MAX_NAME:
        raise InvalidInput(f"{kind} name {name!r} is longer than {MAX_NAME} characters")
    if not _NAME.match(normalized):
        raise InvalidInput(
            f"{kind} name {name!r} has characters Athena cannot use",
            hint="use lower-case letters, digits, _ and -",
        )
    return normalized


def split_table_name(full: str, default_database: str | None = None) -> tuple[str, str]:
    """``db.table`` → (db, table); a bare ``table`` uses ``default_database``."""
    if "." in full:
        database, _, table = full.partition(".")
        return check_name("database", database), check_name("table", table)
    if default_database is None:
        raise InvalidInput(f"table {full!r} has no database", hint="write it as database.table")
    return check_name("database", default_database), check_name("table", full)


def identifier(text: str, fallback: str) -> str:
    """A lower-case name made of letters, digits and ``_`` from any text (folder and file names → tables)."""
    cleaned = _IDENTIFIER_JUNK.sub("_", text.strip().lower()).strip("_")
    return cleaned[:MAX_NAME] or fallback
