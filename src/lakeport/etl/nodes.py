"""The nodes of a declarative job (Glue Studio's visual-job model): sources, transforms and sinks.

A job is a DAG of nodes, each with an ``id`` and a ``type``; transforms and sinks name their inputs. Every
node checks its own fields when it is built, and errors name the node and the field::

    job spotify, node joined, field 'how': 'outer' is not one of inner, left, right, full, semi, anti
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lakeport.catalog.types import parse_type
from lakeport.errors import InvalidInput

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
FORMATS = ("csv", "json", "parquet")
JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti")
SINK_MODES = ("append", "overwrite", "overwrite_partitions", "merge")
COMPRESSIONS = ("snappy", "zstd", "gzip", "uncompressed")


class NodeError(InvalidInput):
    default_code = "InvalidInputException"


def _where(job: str, node: str, fld: str | None = None) -> str:
    return f"job {job}, node {node}" + (f", field '{fld}'" if fld else "")


@dataclass(frozen=True)
class Node:
    """What every node has: an id, a type and its inputs (none for sources)."""

    id: str
    type: ClassVar[str] = ""
    inputs: tuple[str, ...] = ()

    def check(self, job: str) -> None:
        """Raise NodeError naming this node and the field at fault."""


@dataclass(frozen=True)
class Source(Node):
    type: ClassVar[str] = "source"
    path: str = ""  # s3://bucket/prefix/ or one object; or table:
    table: str = ""  # database.table in the catalog
    format: str = "csv"
    options: Mapping[str, Any] = field(default_factory=dict)  # header, delimiter, quote, escape, null
    columns: Mapping[str, str] = field(default_factory=dict)  # declared types: bad records are what does not fit
    bookmark: bool = True  # with bookmarks on, read only objects not read before

    def check(self, job: str) -> None:
        if bool(self.path) == bool(self.table):
            raise NodeError(f"{_where(job, self.id)}: a source reads either a 'path' or a catalog 'table'")
        if self.format not in FORMATS:
            raise NodeError(f"{_where(job, self.id, 'format')}: {self.format!r} is not one of {', '.join(FORMATS)}")
        for name, kind in self.columns.items():
            try:
                parse_type(kind)
            except InvalidInput as exc:
                raise NodeError(f"{_where(job, self.id, 'columns')}: column {name}: {exc.message}") from None
        known = {"header", "delimiter", "quote", "escape", "null", "timestamp_format", "date_format", "encoding"}
        unknown = sorted(set(self.options) - known)
        if unknown:
            raise NodeError(
                f"{_where(job, self.id, 'options')}: unknown option {unknown[0]!r}", hint=", ".join(sorted(known))
            )


@dataclass(frozen=True)
class Mapping_:
    """One ``apply_mapping`` entry: source column → target column, cast to a type."""

    source: str
    target: str
    type: str


@dataclass(frozen=True)
class ApplyMapping(Node):
    type: ClassVar[str] = "apply_mapping"
    mappings: tuple[Mapping_, ...] = ()

    def check(self, job: str) -> None:
        if not self.mappings:
            raise NodeError(f"{_where(job, self.id, 'mappings')}: at least one mapping is needed")
        for m in self.mappings:
            try:
                parse_type(m.type)
            except InvalidInput as exc:
                raise NodeError(f"{_where(job, self.id, 'mappings')}: {m.source} → {m.target}: {exc.message}") from None


@dataclass(frozen=True)
class SelectFields(Node):
    type: ClassVar[str] = "select_fields"
    fields: tuple[str, ...] = ()

    def check(self, job: str) -> None:
        if not self.fields:
            raise NodeError(f"{_where(job, self.id, 'fields')}: name at least one field")


@dataclass(frozen=True)
class DropFields(Node):
    type: ClassVar[str] = "drop_fields"
    fields: tuple[str, ...] = ()

    def check(self, job: str) -> None:
        if not self.fields:
            raise NodeError(f"{_where(job, self.id, 'fields')}: name at least one field")


@dataclass(frozen=True)
class Filter(Node):
    type: ClassVar[str] = "filter"
    condition: str = ""

    def check(self, job: str) -> None:
        if not self.condition.strip():
            raise NodeError(f"{_where(job, self.id, 'condition')}: empty condition")


@dataclass(frozen=True)
class Derive(Node):
    """New (or replaced) columns from SQL expressions over the input's columns."""

    type: ClassVar[str] = "derive"
    columns: Mapping[str, str] = field(default_factory=dict)

    def check(self, job: str) -> None:
        if not self.columns:
            raise NodeError(f"{_where(job, self.id, 'columns')}: give at least one name: expression")


@dataclass(frozen=True)
class Join(Node):
    """``inputs = (left, right)`` joined on pairs of columns; the right side's key columns are dropped."""

    type: ClassVar[str] = "join"
    how: str = "inner"
    on: tuple[tuple[str, str], ...] = ()
    drop_duplicate_keys: bool = True  # Glue Studio's "drop duplicate columns after a join"
    right_prefix: str = ""  # renames right-side columns whose names clash with the left's (default: "<right>_")

    def check(self, job: str) -> None:
        if len(self.inputs) != 2:
            raise NodeError(f"{_where(job, self.id, 'inputs')}: a join has two inputs, left and right")
        if self.how not in JOIN_KINDS:
            raise NodeError(f"{_where(job, self.id, 'how')}: {self.how!r} is not one of {', '.join(JOIN_KINDS)}")
        if not self.on:
            raise NodeError(f"{_where(job, self.id, 'on')}: give the key columns as [[left, right], ...]")


@dataclass(frozen=True)
class Union(Node):
    type: ClassVar[str] = "union"
    by_name: bool = True
    distinct: bool = False

    def check(self, job: str) -> None:
        if len(self.inputs) < 2:
            raise NodeError(f"{_where(job, self.id, 'inputs')}: a union needs at least two inputs")


@dataclass(frozen=True)
class Aggregate(Node):
    type: ClassVar[str] = "aggregate"
    group_by: tuple[str, ...] = ()
    aggregations: Mapping[str, str] = field(default_factory=dict)  # name: SQL aggregate expression

    def check(self, job: str) -> None:
        if not self.aggregations:
            raise NodeError(f"{_where(job, self.id, 'aggregations')}: give at least one name: aggregate")


@dataclass(frozen=True)
class DropDuplicates(Node):
    type: ClassVar[str] = "drop_duplicates"
    keys: tuple[str, ...] = ()  # empty: whole rows; else the first row of each key (in input order)


@dataclass(frozen=True)
class FillMissing(Node):
    type: ClassVar[str] = "fill_missing"
    values: Mapping[str, Any] = field(default_factory=dict)

    def check(self, job: str) -> None:
        if not self.values:
            raise NodeError(f"{_where(job, self.id, 'values')}: give at least one column: value")


@dataclass(frozen=True)
class Sql(Node):
    """A SQL query over upstream nodes, which it names as tables (by their ids)."""

    type: ClassVar[str] = "sql"
    query: str = ""

    def check(self, job: str) -> None:
        if not self.query.strip():
            raise NodeError(f"{_where(job, self.id, 'query')}: empty query")


@dataclass(frozen=True)
class Sink(Node):
    type: ClassVar[str] = "sink"
    table: str = ""  # database.table in the warehouse
    mode: str = "append"
    keys: tuple[str, ...] = ()  # merge keys
    partition_by: tuple[str, ...] = ()
    compression: str = "snappy"
    target_file_size_mb: int = 128

    def check(self, job: str) -> None:
        if len(self.inputs) != 1:
            raise NodeError(f"{_where(job, self.id, 'input')}: a sink writes exactly one input")
        if self.table.count(".") != 1:
            raise NodeError(f"{_where(job, self.id, 'table')}: {self.table!r} is not database.table")
        if self.mode not in SINK_MODES:
            raise NodeError(f"{_where(job, self.id, 'mode')}: {self.mode!r} is not one of {', '.join(SINK_MODES)}")
        if self.mode == "merge" and not self.keys:
            raise NodeError(f"{_where(job, self.id, 'keys')}: merge needs the key columns")
        if self.mode == "overwrite_partitions" and not self.partition_by:
            raise NodeError(f"{_where(job, self.id, 'partition_by')}: overwriting partitions needs partition keys")
        if self.compression not in COMPRESSIONS:
            raise NodeError(
                f"{_where(job, self.id, 'compression')}: {self.compression!r} is not one of {', '.join(COMPRESSIONS)}"
            )
        if not 1 <= self.target_file_size_mb <= 4096:
            raise NodeError(f"{_where(job, self.id, 'target_file_size_mb')}: between 1 and 4096")


NODE_TYPES: dict[str, type[Node]] = {
    cls.type: cls
    for cls in (
        Source,
        ApplyMapping,
        SelectFields,
        DropFields,
        Filter,
        Derive,
        Join,
        Union,
        Aggregate,
        DropDuplicates,
        FillMissing,
        Sql,
        Sink,
    )
}


def _strings(job: str, node: str, fld: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise NodeError(f"{_where(job, node, fld)}: a list of names is expected")
    return tuple(value)


def node_from_dict(job: str, raw: Mapping[Any, Any]) -> Node:
    """Build and check one node from its JSON/YAML form."""
    # YAML 1.1 reads a bare ``on:`` key as the boolean true: it is the join's ``on``.
    data: dict[str, Any] = {("on" if k is True else str(k)): v for k, v in raw.items()}
    node_id = data.get("id")
    if not isinstance(node_id, str) or not _ID.match(node_id):
        raise NodeError(f"job {job}: node id {node_id!r} must be a name (letters, digits, _)")
    kind = data.get("type")
    cls = NODE_TYPES.get(str(kind))
    if cls is None:
        raise NodeError(f"{_where(job, node_id, 'type')}: {kind!r} is not one of {', '.join(NODE_TYPES)}")
    values: dict[str, Any] = {"id": node_id}
    raw_inputs = data.get("inputs", data.get("input"))
    if raw_inputs is not None:
        values["inputs"] = _strings(job, node_id, "inputs", raw_inputs)
    fields_of = {f.name for f in dataclasses.fields(cls) if f.name not in ("id", "inputs")}
    unknown = sorted(set(data) - fields_of - {"id", "type", "inputs", "input"})
    if unknown:
        raise NodeError(
            f"{_where(job, node_id, unknown[0])}: unknown field for a {kind} node", hint=", ".join(sorted(fields_of))
        )
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    for name in fields_of:
        if name not in data:
            continue
        value = data[name]
        if name in ("fields", "group_by", "partition_by", "keys"):
            value = _strings(job, node_id, name, value)
        elif name == "on":
            pairs = [value] if isinstance(value, str | Mapping) else (value or ())
            value = tuple(_pair(job, node_id, v) for v in pairs)
        elif name == "mappings":
            value = tuple(_mapping(job, node_id, v) for v in (value or ()))
        else:
            value = _typed(job, node_id, name, value, defaults[name])
        values[name] = value
    try:
        node = cls(**values)
    except TypeError as exc:
        raise NodeError(f"{_where(job, node_id)}: {exc}") from None
    if cls is not Source and not node.inputs:
        raise NodeError(f"{_where(job, node_id, 'inputs')}: a {kind} node needs its input(s)")
    node.check(job)
    return node


def _typed(job: str, node: str, name: str, value: Any, spec: dataclasses.Field[Any]) -> Any:
    """``value`` checked (and, for text from ``${…}`` parameters, converted) against the field's kind."""
    default = spec.default if spec.default is not dataclasses.MISSING else None
    if spec.default_factory is not dataclasses.MISSING:  # the mappings: columns, options, values, aggregations
        if not isinstance(value, Mapping):
            raise NodeError(f"{_where(job, node, name)}: a mapping of names to values is expected, not {value!r}")
        return {str(k): v for k, v in value.items()}
    if isinstance(default, bool):
        return as_bool(value, lambda: f"{_where(job, node, name)}: true or false expected, not {value!r}")
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise NodeError(f"{_where(job, node, name)}: a whole number is expected, not {value!r}") from None
    if isinstance(default, str) and not isinstance(value, str):
        raise NodeError(f"{_where(job, node, name)}: text is expected, not {value!r}")
    return value


def as_bool(value: Any, error: Callable[[], str]) -> bool:
    """``true``/``false`` (also as text, as ``${…}`` parameters give them)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise NodeError(error())


def _pair(job: str, node: str, value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return value, value
    if isinstance(value, Mapping) and {"left", "right"} <= set(value):
        return str(value["left"]), str(value["right"])
    if isinstance(value, Sequence) and len(value) == 2:
        return str(value[0]), str(value[1])
    raise NodeError(f"{_where(job, node, 'on')}: {value!r} is not a column or a [left, right] pair")


def _mapping(job: str, node: str, value: Any) -> Mapping_:
    if isinstance(value, Mapping) and "from" in value:
        return Mapping_(str(value["from"]), str(value.get("to", value["from"])), str(value.get("type", "string")))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) in (2, 3):
        items = [str(v) for v in value]
        return Mapping_(items[0], items[1] if len(items) == 3 else items[0], items[-1])
    raise NodeError(f"{_where(job, node, 'mappings')}: {value!r} is not {{from, to, type}} or [from, to, type]")


def node_to_dict(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "type": node.type}
    if node.inputs:
        out["inputs"] = list(node.inputs)
    for name in (f.name for f in dataclasses.fields(node)):
        if name in ("id", "inputs"):
            continue
        value = getattr(node, name)
        if name == "on":
            value = [list(p) for p in value]
        elif name == "mappings":
            value = [{"from": m.source, "to": m.target, "type": m.type} for m in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[name] = value
    return out
