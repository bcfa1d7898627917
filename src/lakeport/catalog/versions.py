"""Differences between two table versions, as a list a person can read (``lakeport catalog versions --diff``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakeport.catalog.model import STATISTICS_PARAMETERS, Column, Table


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    item: str  # "column bonus", "partition key year", "location", "format.delimiter", "parameter classification"
    old: str | None = None
    new: str | None = None

    def line(self) -> str:
        if self.kind == "added":
            return f"+ {self.item}: {self.new}"
        if self.kind == "removed":
            return f"- {self.item}: {self.old}"
        return f"~ {self.item}: {self.old} → {self.new}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "item": self.item, "old": self.old, "new": self.new}


def _column_text(column: Column) -> str:
    return f"{column.type}" + (f" -- {column.comment}" if column.comment else "")


def _diff_columns(label: str, old: tuple[Column, ...], new: tuple[Column, ...]) -> list[Change]:
    changes: list[Change] = []
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    for column in old:
        if column.name not in after:
            changes.append(Change("removed", f"{label} {column.name}", old=_column_text(column)))
        elif after[column.name] != column:
            changes.append(
                Change(
                    "changed",
                    f"{label} {column.name}",
                    old=_column_text(column),
                    new=_column_text(after[column.name]),
                )
            )
    changes.extend(
        Change("added", f"{label} {column.name}", new=_column_text(column))
        for column in new
        if column.name not in before
    )
    kept_old = [c.name for c in old if c.name in after]
    kept_new = [c.name for c in new if c.name in before]
    if kept_old != kept_new:
        changes.append(Change("changed", f"{label} order", old=", ".join(kept_old), new=", ".join(kept_new)))
    return changes


def _diff_mapping(label: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(Change("removed", f"{label}{key}", old=str(old[key])))
        elif key not in old:
            changes.append(Change("added", f"{label}{key}", new=str(new[key])))
        elif old[key] != new[key]:
            changes.append(Change("changed", f"{label}{key}", old=str(old[key]), new=str(new[key])))
    return changes


def _schema_parameters(table: Table) -> dict[str, Any]:
    return {k: v for k, v in table.parameters.items() if k not in STATISTICS_PARAMETERS}


def diff_tables(old: Table, new: Table) -> list[Change]:
    """What changed from ``old`` to ``new``: columns, partition keys, location, type, format, parameters.

    Data statistics (``recordCount``, ``sizeKey`` …) are not part of a table's definition and are left out.
    """
    changes = _diff_columns("column", old.columns, new.columns)
    changes += _diff_columns("partition key", old.partition_keys, new.partition_keys)
    for attr in ("location", "table_type", "description", "view_text"):
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            changes.append(Change("changed", attr, old=str(before), new=str(after)))
    changes += _diff_mapping("format.", old.format.to_dict(), new.format.to_dict())
    changes += _diff_mapping("parameter ", _schema_parameters(old), _schema_parameters(new))
    return changes
