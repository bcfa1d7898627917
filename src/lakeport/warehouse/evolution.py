"""Schema evolution of warehouse tables: the columns new files must have, given the table's and the job's.

The table's columns keep their order and types; the job's new columns are appended; a column whose incoming
type the table's type can hold is cast to it; one whose type must grow grows only as Iceberg allows (int →
bigint, float → double, decimal precision up at the same scale); anything else is an error naming the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakeport.catalog.supertypes import common_supertype
from lakeport.catalog.types import Decimal, HiveType, Primitive
from lakeport.errors import InvalidInput

INTEGERS = ["tinyint", "smallint", "int", "bigint"]


@dataclass(frozen=True)
class PlannedColumn:
    name: str
    type: HiveType
    origin: str  # "table" (as the table has it), "widened" (the table's column, grown) or "new"


def widens(old: HiveType, new: HiveType) -> bool:
    """Whether Iceberg lets a column of type ``old`` become ``new`` in place."""
    if isinstance(old, Primitive) and isinstance(new, Primitive):
        if old.name in INTEGERS and new.name in INTEGERS:
            return INTEGERS.index(new.name) >= INTEGERS.index(old.name)
        return (old.name, new.name) == ("float", "double")
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return new.scale == old.scale and new.precision >= old.precision
    return False


def plan_columns(
    table: str, existing: Sequence[tuple[str, HiveType]], incoming: Sequence[tuple[str, HiveType]]
) -> list[PlannedColumn]:
    """The columns of files written to ``table`` (``db.name``) from ``incoming``, the table having ``existing``."""
    out = [PlannedColumn(name, kind, "table") for name, kind in existing]
    position = {name.lower(): i for i, (name, _) in enumerate(existing)}
    for name, new_type in incoming:
        at = position.get(name.lower())
        if at is None:
            position[name.lower()] = len(out)
            out.append(PlannedColumn(name, new_type, "new"))
            continue
        old = out[at]
        if old.type == new_type:
            continue
        merged = common_supertype(old.type, new_type)
        if merged == old.type:
            continue  # the new values fit the table's type: they are cast to it
        if widens(old.type, merged):
            out[at] = PlannedColumn(old.name, merged, "widened")
            continue
        raise InvalidInput(
            f"table {table}, column {name}: the job writes {new_type} but the table holds {old.type}, "
            f"and {old.type} cannot safely become {merged}",
            hint="cast the column in the job (apply_mapping), or write a new table",
        )
    return out
