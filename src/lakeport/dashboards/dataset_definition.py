"""Datasets as code: a catalog table or an Athena query, import mode, calculated fields, row- and column-level
security rules; every error named by its place (``dataset spotify-tracks, row_level_security: …``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakeport.dashboards.definition import NAME_PATTERN, DefinitionError, Problems, did_you_mean
from lakeport.dashboards.model import IMPORT_MODES
from lakeport.errors import InvalidInput


@dataclass(frozen=True)
class RowRule:
    """Row-level security: ``principal`` (``user/NAME`` or ``group/NAME``) sees the rows whose columns have one of
    the values; a rule without values sees every row."""

    principal: str
    values: Mapping[str, tuple[Any, ...]]


@dataclass(frozen=True)
class ColumnRule:
    """Column-level security: only ``principals`` may see ``columns``."""

    columns: tuple[str, ...]
    principals: tuple[str, ...]


@dataclass(frozen=True)
class RefreshDefinition:
    """When a SPICE dataset is refreshed by itself: on a schedule and/or after a state machine's execution or a
    job's run succeeds (``after``: ``("state_machine", NAME)`` or ``("job", NAME)``)."""

    schedule: str | None = None
    after: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.schedule:
            out["schedule"] = self.schedule
        if self.after:
            out["after"] = [{kind: name} for kind, name in self.after]
        return out


@dataclass(frozen=True)
class DataSetDefinition:
    name: str
    table: str | None = None  # db.table
    sql: str | None = None
    database: str = "default"
    import_mode: str = "DIRECT_QUERY"
    calculated_fields: Mapping[str, str] = field(default_factory=dict)
    row_rules: tuple[RowRule, ...] = ()
    column_rules: tuple[ColumnRule, ...] = ()
    description: str = ""
    refresh: RefreshDefinition | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "import_mode": self.import_mode}
        if self.description:
            out["description"] = self.description
        if self.table is not None:
            out["source"] = self.table
        else:
            out["sql"] = self.sql
            out["database"] = self.database
        if self.calculated_fields:
            out["calculated_fields"] = dict(self.calculated_fields)
        if self.row_rules:
            out["row_level_security"] = [_rule_dict(r) for r in self.row_rules]
        if self.column_rules:
            out["column_level_security"] = [
                {"columns": list(c.columns), "principals": list(c.principals)} for c in self.column_rules
            ]
        if self.refresh is not None:
            out["refresh"] = self.refresh.to_dict()
        return out


def _rule_dict(rule: RowRule) -> dict[str, Any]:
    kind, _, name = rule.principal.partition("/")
    out: dict[str, Any] = {kind: name}
    if rule.values:
        out["values"] = {k: list(v) for k, v in rule.values.items()}
    return out


def parse_datasets(document: Any) -> list[DataSetDefinition]:
    """One dataset (a mapping with ``name``), or ``{datasets: [...]}``, or a list."""
    if isinstance(document, Mapping) and "datasets" in document:
        items = document["datasets"]
    elif isinstance(document, list):
        items = document
    else:
        items = [document]
    if not isinstance(items, list) or not items:
        raise InvalidInput("a datasets document has a list of datasets", hint="datasets: [{name: ..., source: ...}]")
    return [parse_dataset(item) for item in items]


_DATASET_KEYS = {
    "name", "source", "sql", "database", "import_mode", "calculated_fields", "row_level_security",
    "column_level_security", "description", "refresh",
}  # fmt: skip
_AFTER_KINDS = ("state_machine", "job")


def parse_dataset(item: Any) -> DataSetDefinition:
    problems = Problems()
    if not isinstance(item, Mapping):
        raise DefinitionError(["dataset: a dataset is a mapping with name and source (or sql)"])
    name = str(item.get("name") or "")
    where = f"dataset {name or '?'}"
    if not NAME_PATTERN.match(name):
        problems.add(where, "name must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    for key in item:
        if key not in _DATASET_KEYS:
            problems.add(where, f"unknown key {key!r}{did_you_mean(str(key), _DATASET_KEYS)}")
    table, sql = item.get("source"), item.get("sql")
    if (table is None) == (sql is None):
        problems.add(where, "give exactly one of source (a catalog table db.table) and sql (an Athena query)")
    if table is not None and not (isinstance(table, str) and re.match(r"^[\w-]+\.[\w-]+$", table)):
        problems.add(where, f"source {table!r} is not a table name database.table")
    if sql is not None and not (isinstance(sql, str) and sql.strip()):
        problems.add(where, "sql is empty")
    mode = str(item.get("import_mode", "DIRECT_QUERY")).upper()
    if mode not in IMPORT_MODES:
        problems.add(where, f"import_mode {mode!r} is not one of {', '.join(IMPORT_MODES)}")
    calculated = item.get("calculated_fields") or {}
    if isinstance(calculated, list):  # [{name: ..., expression: ...}]
        calculated = {str(c.get("name")): c.get("expression") for c in calculated if isinstance(c, Mapping)}
    fields: dict[str, str] = {}
    if not isinstance(calculated, Mapping):
        problems.add(where, "calculated_fields maps a field name to an SQL expression")
    else:
        for key, expression in calculated.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(key)):
                problems.add(where, f"calculated field name {key!r} must be letters, digits and _")
            elif not isinstance(expression, str) or not expression.strip():
                problems.add(where, f"calculated field {key}: the expression is empty")
            elif ";" in expression:
                problems.add(where, f"calculated field {key}: an expression is one SQL expression, without ';'")
            else:
                fields[str(key)] = expression.strip()
    rules = _row_rules(item.get("row_level_security") or [], where, problems)
    column_rules = _column_rules(item.get("column_level_security") or [], where, problems)
    refresh = _refresh(item.get("refresh"), mode, where, problems)
    problems.raise_if_any(hint="see docs/dashboards.md (datasets)")
    return DataSetDefinition(
        name=name,
        table=table.lower() if isinstance(table, str) else None,
        sql=sql.strip().rstrip(";") if isinstance(sql, str) else None,
        database=str(item.get("database") or "default"),
        import_mode=mode,
        calculated_fields=fields,
        row_rules=rules,
        column_rules=column_rules,
        description=str(item.get("description") or ""),
        refresh=refresh,
    )


def _refresh(raw: Any, mode: str, where: str, problems: Problems) -> RefreshDefinition | None:
    from lakeport.dashboards.schedules import schedule_problem

    if raw is None:
        return None
    at = f"{where}, refresh"
    if not isinstance(raw, Mapping):
        problems.add(at, "refresh is {schedule: 'rate(1 day)', after: [{state_machine: NAME} | {job: NAME}]}")
        return None
    if mode != "SPICE":
        problems.add(at, "only a SPICE dataset is refreshed (a DIRECT_QUERY one always reads its source)")
    for key in raw:
        if key not in ("schedule", "after"):
            problems.add(at, f"unknown key {key!r}{did_you_mean(str(key), ('schedule', 'after'))}")
    schedule = raw.get("schedule")
    if schedule is not None:
        problem = schedule_problem(schedule)
        if problem:
            problems.add(at, problem)
    after_raw = raw.get("after") or []
    after: list[tuple[str, str]] = []
    if not isinstance(after_raw, list):
        problems.add(at, "after is a list of {state_machine: NAME} or {job: NAME}")
        after_raw = []
    for entry in after_raw:
        kinds = [k for k in _AFTER_KINDS if isinstance(entry, Mapping) and k in entry]
        if not isinstance(entry, Mapping) or len(entry) != 1 or len(kinds) != 1:
            problems.add(at, f"after: {entry!r} is not {{state_machine: NAME}} or {{job: NAME}}")
            continue
        name = entry[kinds[0]]
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_.-]{1,255}$", name):
            problems.add(at, f"after: {kinds[0]} {name!r} is not a name")
            continue
        if (kinds[0], name) in after:
            problems.add(at, f"after: {kinds[0]} {name} is listed twice")
            continue
        after.append((kinds[0], name))
    if schedule is None and not after:
        problems.add(at, "give a schedule, an after list, or both")
    return RefreshDefinition(str(schedule).strip() if schedule is not None else None, tuple(after))


def _principal_of(rule: Mapping[str, Any], where: str, problems: Problems) -> str | None:
    kinds = [k for k in ("user", "group") if k in rule]
    if len(kinds) != 1 or not isinstance(rule[kinds[0]], str):
        problems.add(where, "each rule names one user or one group (user: NAME or group: NAME)")
        return None
    return f"{kinds[0]}/{rule[kinds[0]]}"


def _row_rules(raw: Any, where: str, problems: Problems) -> tuple[RowRule, ...]:
    if not isinstance(raw, list):
        problems.add(where, "row_level_security is a list of rules ({user|group: NAME, values: {column: [...]}})")
        return ()
    out: list[RowRule] = []
    for rule in raw:
        if not isinstance(rule, Mapping):
            problems.add(where, "row_level_security: a rule is a mapping")
            continue
        principal = _principal_of(rule, f"{where}, row_level_security", problems)
        values = rule.get("values") or {}
        if not isinstance(values, Mapping):
            problems.add(where, "row_level_security: values maps a column to its allowed values")
            continue
        allowed: dict[str, tuple[Any, ...]] = {}
        for column, vals in values.items():
            listed = vals if isinstance(vals, list) else [vals]
            if any(isinstance(v, Mapping | list) for v in listed):
                problems.add(where, f"row_level_security: values of {column} must be plain values")
            allowed[str(column)] = tuple(listed)
        if principal is not None:
            out.append(RowRule(principal, allowed))
    return tuple(out)


def _column_rules(raw: Any, where: str, problems: Problems) -> tuple[ColumnRule, ...]:
    if not isinstance(raw, list):
        problems.add(where, "column_level_security is a list of {columns: [...], principals: [user/NAME, ...]}")
        return ()
    out: list[ColumnRule] = []
    for rule in raw:
        columns = rule.get("columns") if isinstance(rule, Mapping) else None
        principals = rule.get("principals", []) if isinstance(rule, Mapping) else None
        if not isinstance(columns, list) or not columns or not isinstance(principals, list):
            problems.add(where, "column_level_security: a rule has columns: [...] and principals: [...]")
            continue
        for p in principals:
            if not (isinstance(p, str) and re.match(r"^(user|group)/.+$", p)):
                problems.add(where, f"column_level_security: principal {p!r} is not user/NAME or group/NAME")
        out.append(ColumnRule(tuple(map(str, columns)), tuple(map(str, principals))))
    return tuple(out)
