"""``/api/v1/catalog``: databases, tables, versions, partitions (Glue Data Catalog's read side)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
DB = "arn:aws:glue:{region}:{account}:database/{database}"
TABLE = "arn:aws:glue:{region}:{account}:table/{database}/{table}"


@router.get("/databases", openapi_extra=action("glue:GetDatabases", DB))
def list_databases(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every database (GetDatabases)."""
    return page.of([d.to_glue() for d in lake.catalog.list_databases()], "DatabaseList")


@router.get("/databases/{database}", openapi_extra=action("glue:GetDatabase", DB))
def get_database(lake: CallerLake, database: str) -> dict[str, Any]:
    """One database (GetDatabase)."""
    return {"Database": lake.catalog.get_database(database).to_glue()}


@router.get("/databases/{database}/tables", openapi_extra=action("glue:GetTables", TABLE))
def list_tables(
    lake: CallerLake,
    page: Paging,
    database: str,
    pattern: Annotated[str | None, Query(description="a Glue name pattern (regex)")] = None,
) -> dict[str, Any]:
    """The tables of a database (GetTables)."""
    return page.of([t.to_glue() for t in lake.catalog.list_tables(database, pattern=pattern)], "TableList")


@router.get("/databases/{database}/tables/{table}", openapi_extra=action("glue:GetTable", TABLE))
def get_table(lake: CallerLake, database: str, table: str) -> dict[str, Any]:
    """One table with its columns, partition keys and storage (GetTable)."""
    return {"Table": lake.catalog.get_table(database, table).to_glue()}


@router.get("/databases/{database}/tables/{table}/versions", openapi_extra=action("glue:GetTableVersions", TABLE))
def table_versions(lake: CallerLake, page: Paging, database: str, table: str) -> dict[str, Any]:
    """The table's versions, newest first (GetTableVersions)."""
    versions = lake.catalog.table_versions(database, table)
    return page.of([v.to_dict() for v in versions], "TableVersions")


@router.get("/databases/{database}/tables/{table}/partitions", openapi_extra=action("glue:GetPartitions", TABLE))
def partitions(
    lake: CallerLake,
    page: Paging,
    database: str,
    table: str,
    expression: Annotated[str | None, Query(description="a partition predicate (Glue's Expression)")] = None,
) -> dict[str, Any]:
    """The table's partitions (GetPartitions)."""
    found = lake.catalog.get_partitions(database, table, expression=expression)
    return page.of([p.to_dict() for p in found], "Partitions")


@router.get("/search", openapi_extra=action("glue:SearchTables", TABLE))
def search(
    lake: CallerLake, page: Paging, text: Annotated[str, Query(description="words to look for")]
) -> dict[str, Any]:
    """Tables whose name, description or columns mention ``text`` (SearchTables)."""
    return page.of([t.to_glue() for t in lake.catalog.search_tables(text)], "TableList")
