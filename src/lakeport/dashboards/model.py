"""What the dashboards service hands back: datasets, ingestions (SPICE refreshes), dashboards, visual data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lakeport.metadata.times import iso

DIRECT_QUERY, SPICE = "DIRECT_QUERY", "SPICE"
IMPORT_MODES = (DIRECT_QUERY, SPICE)
RUNNING, COMPLETED, FAILED = "RUNNING", "COMPLETED", "FAILED"

NUMERIC_TYPES = frozenset({"tinyint", "smallint", "integer", "bigint", "real", "double", "decimal"})
TEMPORAL_TYPES = frozenset({"date", "timestamp", "timestamp with time zone"})


def base_type(kind: str) -> str:
    """``decimal(10,2)`` → ``decimal``."""
    return kind.split("(", 1)[0].strip().lower()


@dataclass(frozen=True)
class DataSet:
    name: str
    arn: str
    definition: Mapping[str, Any]
    columns: Sequence[tuple[str, str]]
    import_mode: str
    snapshot: str | None
    owner: str
    created_at: datetime
    updated_at: datetime

    def column_types(self) -> dict[str, str]:
        return {name: kind for name, kind in self.columns}

    def to_dict(self) -> dict[str, Any]:
        return {
            "DataSetId": self.name,
            "Name": self.name,
            "Arn": self.arn,
            "ImportMode": self.import_mode,
            "Definition": dict(self.definition),
            "Columns": [{"Name": n, "Type": t} for n, t in self.columns],
            "SpiceTable": self.snapshot,
            "Owner": self.owner,
            "CreatedTime": iso(self.created_at),
            "LastUpdatedTime": iso(self.updated_at),
        }


@dataclass(frozen=True)
class Ingestion:
    id: str
    dataset: str
    arn: str
    status: str
    rows: int | None
    bytes: int | None
    table: str | None
    query_execution_id: str | None
    error: str | None
    principal: str
    created_at: datetime
    completed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "IngestionId": self.id,
            "DataSetId": self.dataset,
            "Arn": self.arn,
            "IngestionStatus": self.status,
            "RowInfo": {"RowsIngested": self.rows},
            "IngestionSizeInBytes": self.bytes,
            "SpiceTable": self.table,
            "QueryExecutionId": self.query_execution_id,
            "RequestSource": "MANUAL",
            "CreatedTime": iso(self.created_at),
            "Principal": self.principal,
        }
        if self.completed_at is not None:
            out["IngestionTimeInSeconds"] = round((self.completed_at - self.created_at).total_seconds(), 3)
        if self.error:
            out["ErrorInfo"] = {"Type": "QUERY_FAILED", "Message": self.error}
        return out


@dataclass(frozen=True)
class Dashboard:
    name: str
    arn: str
    definition: Mapping[str, Any]
    source: str | None
    version: int
    owner: str
    created_at: datetime
    updated_at: datetime

    @property
    def title(self) -> str:
        return str(self.definition.get("title") or self.name)

    def summary(self) -> dict[str, Any]:
        sheets = self.definition.get("sheets", [])
        return {
            "DashboardId": self.name,
            "Name": self.title,
            "Arn": self.arn,
            "VersionNumber": self.version,
            "Sheets": [s["name"] for s in sheets],
            "Visuals": sum(len(s["visuals"]) for s in sheets),
            "LastUpdatedTime": iso(self.updated_at),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "Definition": dict(self.definition),
            "Owner": self.owner,
            "CreatedTime": iso(self.created_at),
        }


@dataclass(frozen=True)
class VisualData:
    """One visual's answer: its columns (name, Athena type, role: dimension | measure | value) and JSON rows."""

    dashboard: str
    sheet: str
    visual: str
    kind: str
    title: str
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    sql: str
    query_execution_id: str
    options: Mapping[str, Any] = field(default_factory=dict)  # orientation, mode, granularity, formats, theme…

    def to_dict(self) -> dict[str, Any]:
        return {
            "Dashboard": self.dashboard,
            "Sheet": self.sheet,
            "Visual": self.visual,
            "Kind": self.kind,
            "Title": self.title,
            "Columns": self.columns,
            "Rows": self.rows,
            "Options": dict(self.options),
            "Sql": self.sql,
            "QueryExecutionId": self.query_execution_id,
        }


@dataclass(frozen=True)
class VisualError:
    """A visual of a sheet that could not be answered (the others still are)."""

    sheet: str
    visual: str
    kind: str
    title: str
    code: str
    message: str
    hint: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "Sheet": self.sheet,
            "Visual": self.visual,
            "Kind": self.kind,
            "Title": self.title,
            "Error": {"code": self.code, "message": self.message, "hint": self.hint},
        }
