"""Lock a DuckDB connection down to the folders it is given.

``allowed_directories`` with external access off: a statement can open files only inside those folders (DuckDB
lets it write there too); extensions are never installed or auto-loaded; then the configuration is locked, so no
statement can loosen any of it. Every lakeport connection that runs SQL a user wrote — the query service's and
the ETL jobs' (SQL nodes, filters, derived columns) — is locked this way, so SQL can never read the metadata
database, the credentials file or anything else outside the lake's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# connect(config=...) settings every sandboxed connection starts with
NO_EXTENSIONS: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def lock_down(con: duckdb.DuckDBPyConnection, readable: Sequence[Path]) -> None:
    """Allow only ``readable`` (folders, and DuckDB's own temp folder), turn external access off, lock the
    configuration. Call last: no ``SET`` works on the connection afterwards."""
    folders = [str(Path(p).resolve()) + "/" for p in readable]
    if folders:
        con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
