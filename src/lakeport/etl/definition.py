"""A job's definition: a DAG of nodes (declarative) or a Python script, its parameters and its policies.

Definitions come from YAML or JSON files (``lakeport jobs create NAME --from job.yaml``) or the Python API,
and are checked whole before they are stored: every error names the job, the node and the field.

Parameters are ``${name}`` placeholders in any string of the definition, filled from the job's defaults and
the run's arguments (``--arg name=value``), as Glue's job arguments are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.etl.nodes import Node, NodeError, Sink, Source, node_from_dict, node_to_dict

KINDS = ("dag", "python")
BAD_RECORD_POLICIES = ("fail", "drop", "quarantine")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FIELDS = {
    "name",
    "kind",
    "description",
    "nodes",
    "script",
    "entry",
    "parameters",
    "bookmarks",
    "bad_records",
    "max_retries",
    "timeout_minutes",
    "max_concurrent_runs",
    "memory_limit",
    "role",
}


@dataclass(frozen=True)
class JobDefinition:
    name: str
    kind: str = "dag"
    specs: tuple[Mapping[str, Any], ...] = ()  # the nodes as written (``${…}`` placeholders unfilled)
    script: str = ""  # python jobs: the module file
    entry: str = "main"  # python jobs: the function called with the context
    description: str = ""
    parameters: Mapping[str, str | None] = field(default_factory=dict)  # None: required, no default
    bookmarks: bool = False
    bad_records: str = "fail"
    max_retries: int = 0
    timeout_minutes: int = 2880  # Glue's default: 48 hours
    max_concurrent_runs: int = 1
    memory_limit: str = ""  # DuckDB memory limit for the run, e.g. "512MB" (default: DuckDB's)
    role: str = ""

    # ---- checks

    def checked(self) -> JobDefinition:
        if not _NAME.match(self.name):
            raise InvalidInput(f"job name {self.name!r} is not valid", hint="letters, digits, _, - and . (1-255)")
        if self.kind not in KINDS:
            raise InvalidInput(f"job {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.bad_records not in BAD_RECORD_POLICIES:
            raise InvalidInput(
                f"job {self.name}: bad_records {self.bad_records!r} is not one of {', '.join(BAD_RECORD_POLICIES)}"
            )
        for label, value, low in (
            ("max_retries", self.max_retries, 0),
            ("timeout_minutes", self.timeout_minutes, 1),
            ("max_concurrent_runs", self.max_concurrent_runs, 1),
        ):
            if value < low:
                raise InvalidInput(f"job {self.name}: {label} must be {low} or more, not {value}")
        if self.kind == "python":
            if not self.script:
                raise InvalidInput(f"job {self.name}: a python job needs 'script' (the module's file)")
            return self
        self.check_dag(self.nodes)
        return self

    @property
    def nodes(self) -> tuple[Node, ...]:
        """The nodes with the parameters' default values filled in."""
        return self.nodes_with({})

    def nodes_with(self, arguments: Mapping[str, str | None]) -> tuple[Node, ...]:
        values = {k: v for k, v in {**self.parameters, **arguments}.items() if v is not None}
        return tuple(node_from_dict(self.name, _fill(spec, values, self.name)) for spec in self.specs)

    def check_dag(self, nodes: tuple[Node, ...]) -> None:
        if not nodes:
            raise InvalidInput(f"job {self.name}: no nodes", hint="a job reads a source and writes a sink")
        ids: dict[str, Node] = {}
        for node in nodes:
            if node.id in ids:
                raise NodeError(f"job {self.name}, node {node.id}: the id is used twice")
            ids[node.id] = node
        for node in nodes:
            for name in node.inputs:
                if name not in ids:
                    raise NodeError(f"job {self.name}, node {node.id}, field 'inputs': no node {name!r}")
                if isinstance(ids[name], Sink):
                    raise NodeError(f"job {self.name}, node {node.id}, field 'inputs': {name} is a sink")
        if not any(isinstance(n, Sink) for n in nodes):
            raise InvalidInput(f"job {self.name}: no sink node", hint="add a node of type sink that writes db.table")
        if not any(isinstance(n, Source) for n in nodes):
            raise InvalidInput(f"job {self.name}: no source node")
        self.order()  # raises on cycles

    def order(self) -> list[Node]:
        """The nodes in an order where every node comes after its inputs (cycles are refused)."""
        return self.order_nodes(self.nodes)

    def order_nodes(self, nodes: tuple[Node, ...]) -> list[Node]:
        by_id = {n.id: n for n in nodes}
        done: dict[str, bool] = {}
        out: list[Node] = []

        def visit(node: Node, path: tuple[str, ...]) -> None:
            if done.get(node.id):
                return
            if node.id in path:
                cycle = " → ".join((*path[path.index(node.id) :], node.id))
                raise NodeError(f"job {self.name}: the nodes form a cycle: {cycle}")
            for name in node.inputs:
                visit(by_id[name], (*path, node.id))
            done[node.id] = True
            out.append(node)

        for node in nodes:
            visit(node, ())
        return out

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise InvalidInput(f"job {self.name} has no node {node_id!r}", hint=", ".join(n.id for n in self.nodes))

    # ---- parameters

    def resolved(self, arguments: Mapping[str, str] | None = None) -> tuple[JobDefinition, tuple[Node, ...]]:
        """The run's parameter values and nodes: defaults overridden by ``arguments`` (unknown names refused)."""
        unknown = sorted(set(arguments or {}) - set(self.parameters))
        if unknown:
            raise InvalidInput(
                f"job {self.name}: unknown argument {unknown[0]!r}",
                hint=f"the job's parameters: {', '.join(sorted(self.parameters)) or 'none'}",
            )
        values = {**self.parameters, **(arguments or {})}
        missing = sorted(k for k, v in values.items() if v is None)
        if missing:
            raise InvalidInput(
                f"job {self.name}: parameter {missing[0]!r} has no default and no value was given",
                hint=f"give it: --arg {missing[0]}=VALUE",
            )
        nodes = self.nodes_with(values)
        for node in nodes:
            leftover = _PLACEHOLDER.search(json.dumps(node_to_dict(node)))
            if leftover:
                raise InvalidInput(f"job {self.name}, node {node.id}: parameter {leftover.group(0)} has no value")
        script = _fill({"script": self.script}, values, self.name)["script"]
        return replace(self, parameters=values, script=str(script)), nodes

    # ---- (de)serialization

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "nodes": [dict(spec) for spec in self.specs],
            "script": self.script,
            "entry": self.entry,
            "parameters": dict(self.parameters),
            "bookmarks": self.bookmarks,
            "bad_records": self.bad_records,
            "max_retries": self.max_retries,
            "timeout_minutes": self.timeout_minutes,
            "max_concurrent_runs": self.max_concurrent_runs,
            "memory_limit": self.memory_limit,
            "role": self.role,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str | None = None) -> JobDefinition:
        job = str(name or data.get("name") or "")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise InvalidInput(f"job {job}: unknown field {unknown[0]!r}", hint=", ".join(sorted(_FIELDS)))
        raw_nodes = data.get("nodes") or []
        if not isinstance(raw_nodes, list) or not all(isinstance(n, Mapping) for n in raw_nodes):
            raise InvalidInput(f"job {job}: 'nodes' is a list of nodes")
        parameters = data.get("parameters") or {}
        if not isinstance(parameters, Mapping):
            raise InvalidInput(f"job {job}: 'parameters' maps names to default values")
        kind = str(data.get("kind") or ("python" if data.get("script") else "dag"))
        definition = cls(
            name=job,
            kind=kind,
            specs=tuple({("on" if k is True else str(k)): v for k, v in n.items()} for n in raw_nodes),
            script=str(data.get("script") or ""),
            entry=str(data.get("entry") or "main"),
            description=str(data.get("description") or ""),
            # a parameter without a default (null) is required: every run must give it
            parameters={str(k): (None if v is None else str(v)) for k, v in parameters.items()},
            bookmarks=bool(data.get("bookmarks", False)),
            bad_records=str(data.get("bad_records") or "fail"),
            max_retries=_integer(data, "max_retries", 0, job),
            timeout_minutes=_integer(data, "timeout_minutes", 2880, job),
            max_concurrent_runs=_integer(data, "max_concurrent_runs", 1, job),
            memory_limit=str(data.get("memory_limit") or ""),
            role=str(data.get("role") or ""),
        )
        return definition.checked()

    @classmethod
    def from_file(cls, path: Path, *, name: str | None = None) -> JobDefinition:
        """A definition from a ``.yaml``/``.yml``/``.json`` file, or a Python job from a ``.py`` file."""
        if path.suffix == ".py":
            return cls(name=name or path.stem, kind="python", script=str(path.resolve())).checked()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"{path}: {exc.strerror or exc}") from None
        data = _load(path, text)
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{path}: a job definition is a mapping (name, nodes, …)")
        if data.get("script") and not Path(str(data["script"])).is_absolute():
            data = {**data, "script": str((path.parent / str(data["script"])).resolve())}
        return cls.from_dict(data, name=name)


def _fill(spec: Mapping[str, Any], values: Mapping[str, Any], job: str) -> dict[str, Any]:
    """``spec`` with every ``${name}`` in its strings replaced by the value (unknown names are left as they are)."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return dict(fill(dict(spec)))


def _load(path: Path, text: str) -> Any:
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise InvalidInput(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None


def _integer(data: Mapping[str, Any], field: str, default: int, job: str) -> int:
    value = data.get(field, default)
    if isinstance(value, bool):
        raise InvalidInput(f"job {job}: {field!r} is a whole number, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"job {job}: {field!r} is a whole number, not {value!r}") from None
