"""Dashboards and datasets as code: YAML or JSON documents read into typed definitions, with every error found
named by its place (``dashboard spotify, sheet Overview, visual top-artists: …``).

``parse_dashboard`` checks the document's shape (kinds, aggregations, controls, names); ``check_fields`` then
checks every field a visual, filter or sort names against its dataset's columns (``did you mean …?``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeport.dashboards.model import NUMERIC_TYPES, TEMPORAL_TYPES, base_type
from lakeport.errors import InvalidInput

KINDS = ("kpi", "bar", "line", "area", "pie", "donut", "scatter", "histogram", "heatmap", "box", "table", "pivot")
AGGREGATIONS = ("sum", "avg", "min", "max", "count", "count_distinct", "median")
NUMERIC_AGGREGATIONS = ("sum", "avg", "median")
GRANULARITIES = ("year", "quarter", "month", "week", "day")
FILTER_TYPES = ("range", "values", "text")
CONTROLS = ("dropdown", "multi_select", "date_range", "number_range", "slider", "text")
CONTROLS_OF = {
    "range": ("slider", "number_range", "date_range"),
    "values": ("dropdown", "multi_select"),
    "text": ("text",),
}
PARAMETER_TYPES = ("integer", "decimal", "string", "date")
THEMES = ("default", "classic", "midnight", "seaside", "rainier", "dark")
MAX_LIMIT = 10_000
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_MEASURE_TEXT = re.compile(r"^\s*([a-z_]+)\s*\(\s*(\*|[^()]*?)\s*\)\s*$")
_PARAMETER_REF = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")


class DefinitionError(InvalidInput):
    """A dashboard or dataset definition with errors; ``errors`` holds every one found, each naming its place."""

    default_code = "InvalidParameterValueException"

    def __init__(self, errors: Sequence[str], *, hint: str | None = None) -> None:
        shown = list(errors[:3])
        more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
        super().__init__("; ".join(shown) + more, hint=hint)
        self.errors = list(errors)


class Problems:
    """Errors collected while reading one document."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def raise_if_any(self, hint: str | None = None) -> None:
        if self.errors:
            raise DefinitionError(self.errors, hint=hint)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


# ---- reading files


def load_document(path: str | Path) -> tuple[Any, str]:
    """A YAML or JSON file's content and text."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    return parse_text(text, str(file)), text


def parse_text(text: str, origin: str = "definition") -> Any:
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{origin}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise InvalidInput(f"{origin}: {where}{getattr(exc, 'problem', None) or exc}") from None


# ---- dashboards


@dataclass(frozen=True)
class Dimension:
    field: str
    name: str
    granularity: str | None = None


@dataclass(frozen=True)
class Measure:
    field: str | None  # None: count(*)
    aggregation: str | None  # None: the field's own values (a raw scatter or table)
    name: str
    format: str | None = None


@dataclass(frozen=True)
class Visual:
    id: str
    kind: str
    title: str
    dataset: str
    dimensions: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    columns: tuple[Dimension, ...] = ()  # pivot: column dimensions; table: raw columns
    sort: tuple[tuple[str, bool], ...] = ()  # (output name, descending)
    limit: int | str | None = None  # a number or ${parameter}
    options: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> list[tuple[str, str]]:
        """Every (role, field) the visual reads."""
        out = [("dimension", d.field) for d in self.dimensions]
        out += [("column", d.field) for d in self.columns]
        out += [("measure", m.field) for m in self.measures if m.field is not None]
        if self.options.get("field"):
            out.append(("field", str(self.options["field"])))
        return out


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    visuals: tuple[Visual, ...]


@dataclass(frozen=True)
class FilterDefinition:
    name: str
    field: str
    type: str
    control: str
    default: Any = None
    datasets: tuple[str, ...] = ()  # empty: every dataset that has the field
    parameter: str | None = None
    values: tuple[Any, ...] = ()  # the choices a dropdown offers (empty: the column's values)


@dataclass(frozen=True)
class ParameterDefinition:
    name: str
    type: str
    default: Any
    control: str
    values: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ReportDefinition:
    """A scheduled report: the dashboard exported as ``format`` and published to an SNS topic."""

    name: str
    schedule: str  # rate(…) | cron(…)
    topic: str
    format: str = "pdf"
    subject: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardDefinition:
    name: str
    title: str
    theme: str
    parameters: tuple[ParameterDefinition, ...]
    filters: tuple[FilterDefinition, ...]
    sheets: tuple[Sheet, ...]
    document: Mapping[str, Any]
    reports: tuple[ReportDefinition, ...] = ()

    def report(self, name: str) -> ReportDefinition:
        for report in self.reports:
            if report.name == name:
                return report
        from lakeport.errors import NotFound

        known = [r.name for r in self.reports]
        raise NotFound(
            f"dashboard {self.name} has no report {name!r}{did_you_mean(name, known)}",
            hint=f"its reports: {', '.join(known) or 'none (add reports: [...] to its definition)'}",
        )

    def datasets(self) -> list[str]:
        return sorted({v.dataset for s in self.sheets for v in s.visuals})

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        from lakeport.errors import NotFound

        raise NotFound(
            f"dashboard {self.name} has no sheet {name!r}{did_you_mean(name, [s.name for s in self.sheets])}",
            hint=f"its sheets: {', '.join(s.name for s in self.sheets)}",
        )

    def visual(self, sheet: str, visual: str) -> Visual:
        found = self.sheet(sheet)
        for v in found.visuals:
            if v.id == visual:
                return v
        from lakeport.errors import NotFound

        ids = [v.id for v in found.visuals]
        raise NotFound(
            f"dashboard {self.name}, sheet {sheet} has no visual {visual!r}{did_you_mean(visual, ids)}",
            hint=f"its visuals: {', '.join(ids)}",
        )


_DASHBOARD_KEYS = {"name", "title", "theme", "parameters", "filters", "sheets", "description", "reports"}
_REPORT_KEYS = {"name", "schedule", "topic", "format", "subject", "filters", "parameters"}
REPORT_FORMATS = ("html", "pdf", "png")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SUBJECT = re.compile(r"^[\x20-\x7e]{1,99}$")
_VISUAL_KEYS = {
    "id", "kind", "title", "dataset", "dimensions", "measures", "color", "sort", "limit", "orientation", "mode",
    "granularity", "x", "y", "size", "trend_line", "field", "bins", "rows", "columns", "totals", "format",
}  # fmt: skip


def parse_dashboard(document: Any, name: str | None = None) -> DashboardDefinition:
    """The dashboard in ``document`` (its ``name``, or ``name`` given); DefinitionError listing every error."""
    problems = Problems()
    if not isinstance(document, Mapping):
        raise DefinitionError(["dashboard: the document is a mapping with name and sheets"])
    name = str(name or document.get("name") or "")
    where = f"dashboard {name or '?'}"
    if not NAME_PATTERN.match(name):
        problems.add(where, "name must be 1-128 letters, digits, '.', '_' or '-'")
    for key in document:
        if key not in _DASHBOARD_KEYS:
            problems.add(where, f"unknown key {key!r}{did_you_mean(str(key), _DASHBOARD_KEYS)}")
    theme = str(document.get("theme") or "default")
    if theme not in THEMES:
        problems.add(where, f"theme {theme!r} is not one of {', '.join(THEMES)}")
    parameters = _parameters(document.get("parameters") or [], where, problems)
    known = {p.name: p for p in parameters}
    filters = _filters(document.get("filters") or [], where, problems, known)
    sheets_raw = document.get("sheets")
    sheets: list[Sheet] = []
    if not isinstance(sheets_raw, list) or not sheets_raw:
        problems.add(where, "sheets is a list of at least one sheet ({name: ..., visuals: [...]})")
    else:
        for index, raw in enumerate(sheets_raw):
            sheet = _sheet(raw, index, where, problems, known)
            if sheet is not None:
                if any(s.name == sheet.name for s in sheets):
                    problems.add(where, f"two sheets are named {sheet.name}")
                sheets.append(sheet)
    reports = _reports(document.get("reports") or [], where, problems, known, {f.name for f in filters})
    problems.raise_if_any(hint="see docs/dashboards.md for the YAML reference")
    return DashboardDefinition(
        name=name,
        title=str(document.get("title") or name),
        theme=theme,
        parameters=tuple(parameters),
        filters=tuple(filters),
        sheets=tuple(sheets),
        document=dict(document, name=name),
        reports=tuple(reports),
    )


def _reports(
    raw: Any, where: str, problems: Problems, parameters: Mapping[str, ParameterDefinition], filters: set[str]
) -> list[ReportDefinition]:
    from lakeport.dashboards.schedules import schedule_problem

    if not isinstance(raw, list):
        problems.add(where, "reports is a list of {name, schedule, topic, format}")
        return []
    out: list[ReportDefinition] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or not item.get("name"):
            problems.add(where, f"report {index + 1} has no name")
            continue
        name = str(item["name"])
        at = f"{where}, report {name}"
        count = len(problems.errors)
        if not NAME_PATTERN.match(name):
            problems.add(at, "name must be 1-128 letters, digits, '.', '_' or '-'")
        if name in seen:
            problems.add(at, "two reports have this name")
        seen.add(name)
        for key in item:
            if key not in _REPORT_KEYS:
                problems.add(at, f"unknown key {key!r}{did_you_mean(str(key), _REPORT_KEYS)}")
        schedule = item.get("schedule")
        problem = schedule_problem(schedule)
        if problem:
            problems.add(at, problem)
        topic = item.get("topic")
        if not isinstance(topic, str) or not _TOPIC_NAME.match(topic):
            problems.add(at, f"topic {topic!r} is not an SNS topic name (letters, digits, '-' and '_')")
        fmt = str(item.get("format", "pdf")).lower()
        if fmt not in REPORT_FORMATS:
            problems.add(at, f"format {fmt!r} is not one of {', '.join(REPORT_FORMATS)}")
        subject = item.get("subject")
        if subject is not None and not (isinstance(subject, str) and _SUBJECT.match(subject)):
            problems.add(at, "subject must be 1-99 printable ASCII characters on one line (an email subject)")
        chosen_filters = item.get("filters") or {}
        if not isinstance(chosen_filters, Mapping):
            problems.add(at, "filters maps a filter name to its value")
            chosen_filters = {}
        for key in chosen_filters:
            if key not in filters:
                problems.add(at, f"filter {key!r} is not a filter of the dashboard{did_you_mean(str(key), filters)}")
        chosen_parameters = item.get("parameters") or {}
        if not isinstance(chosen_parameters, Mapping):
            problems.add(at, "parameters maps a parameter name to its value")
            chosen_parameters = {}
        for key, value in chosen_parameters.items():
            if key not in parameters:
                problems.add(at, f"parameter {key!r} is not a parameter of the dashboard"
                                 f"{did_you_mean(str(key), parameters)}")  # fmt: skip
                continue
            try:
                check_parameter_value(parameters[key].type, value, f"{at}, parameter {key}")
            except InvalidInput as exc:
                problems.errors.append(exc.message)
        if len(problems.errors) > count:
            continue
        out.append(
            ReportDefinition(
                name=name,
                schedule=str(schedule).strip(),
                topic=str(topic),
                format=fmt,
                subject=subject,
                filters=dict(chosen_filters),
                parameters=dict(chosen_parameters),
            )
        )
    return out


def _parameters(raw: Any, where: str, problems: Problems) -> list[ParameterDefinition]:
    if not isinstance(raw, list):
        problems.add(where, "parameters is a list")
        return []
    out: list[ParameterDefinition] = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("name"):
            problems.add(where, "a parameter is a mapping with a name")
            continue
        at = f"{where}, parameter {item['name']}"
        kind = str(item.get("type", "string"))
        if kind not in PARAMETER_TYPES:
            problems.add(at, f"type {kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
        control = str(item.get("control", "text"))
        if control not in CONTROLS:
            problems.add(at, f"control {control!r} is not one of {', '.join(CONTROLS)}")
        if "default" not in item:
            problems.add(at, "a parameter needs a default value")
        else:
            try:
                check_parameter_value(kind, item["default"], at)
            except InvalidInput as exc:
                problems.errors.append(exc.message)
        values = item.get("values") or []
        out.append(
            ParameterDefinition(
                name=str(item["name"]),
                type=kind,
                default=item.get("default"),
                control=control,
                values=tuple(values) if isinstance(values, list) else (),
                minimum=item.get("min"),
                maximum=item.get("max"),
            )
        )
    return out


def check_parameter_value(kind: str, value: Any, where: str) -> Any:
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "decimal": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "date": isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value) is not None,
    }.get(kind, False)
    if not ok:
        raise InvalidInput(f"{where}: value {value!r} is not a {kind}")
    return value


def _filters(
    raw: Any, where: str, problems: Problems, parameters: Mapping[str, ParameterDefinition]
) -> list[FilterDefinition]:
    if not isinstance(raw, list):
        problems.add(where, "filters is a list")
        return []
    out: list[FilterDefinition] = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("field"):
            problems.add(where, "a filter is a mapping with a name and a field")
            continue
        at = f"{where}, filter {item['name']}"
        kind = str(item.get("type", "values"))
        if kind not in FILTER_TYPES:
            problems.add(at, f"type {kind!r} is not one of {', '.join(FILTER_TYPES)}")
            continue
        control = str(item.get("control") or CONTROLS_OF[kind][0])
        if control not in CONTROLS_OF[kind]:
            problems.add(at, f"control {control!r} does not fit a {kind} filter: use {', '.join(CONTROLS_OF[kind])}")
        parameter = item.get("parameter")
        if parameter is not None and parameter not in parameters:
            problems.add(at, f"parameter {parameter!r} is not defined{did_you_mean(str(parameter), parameters)}")
        datasets = item.get("datasets") or []
        if any(f.name == item["name"] for f in out):
            problems.add(at, "two filters have this name")
        out.append(
            FilterDefinition(
                name=str(item["name"]),
                field=str(item["field"]),
                type=kind,
                control=control,
                default=item.get("default"),
                datasets=tuple(map(str, datasets)) if isinstance(datasets, list) else (str(datasets),),
                parameter=str(parameter) if parameter is not None else None,
                values=tuple(item.get("values") or ()),
            )
        )
    return out


def _sheet(
    raw: Any, index: int, where: str, problems: Problems, parameters: Mapping[str, ParameterDefinition]
) -> Sheet | None:
    if not isinstance(raw, Mapping) or not raw.get("name"):
        problems.add(where, f"sheet {index + 1} has no name")
        return None
    name = str(raw["name"])
    at = f"{where}, sheet {name}"
    visuals_raw = raw.get("visuals")
    if not isinstance(visuals_raw, list) or not visuals_raw:
        problems.add(at, "visuals is a list of at least one visual")
        return None
    visuals: list[Visual] = []
    for position, item in enumerate(visuals_raw):
        visual = _visual(item, position, at, problems, parameters)
        if visual is not None:
            if any(v.id == visual.id for v in visuals):
                problems.add(at, f"two visuals have the id {visual.id}")
            visuals.append(visual)
    return Sheet(name, str(raw.get("title") or name), tuple(visuals))


def _dimension(raw: Any, at: str, problems: Problems, what: str = "dimension") -> Dimension | None:
    if isinstance(raw, str):
        return Dimension(raw, raw)
    if isinstance(raw, Mapping) and isinstance(raw.get("field"), str):
        granularity = raw.get("granularity")
        if granularity is not None and granularity not in GRANULARITIES:
            problems.add(at, f"{what} {raw['field']}: granularity {granularity!r} is not one of "
                             f"{', '.join(GRANULARITIES)}")  # fmt: skip
        return Dimension(str(raw["field"]), str(raw.get("name") or raw["field"]), granularity)
    problems.add(at, f"a {what} is a field name or {{field: ..., granularity: ...}}")
    return None


def _measure(raw: Any, at: str, problems: Problems, *, raw_allowed: bool = False) -> Measure | None:
    if isinstance(raw, str):
        match = _MEASURE_TEXT.match(raw)
        if match:
            aggregation, column = match.group(1).lower(), match.group(2)
            raw = {"aggregation": aggregation, "field": None if column == "*" else column}
        else:
            raw = {"field": raw}
    if not isinstance(raw, Mapping):
        problems.add(at, "a measure is 'sum(field)' or {field: ..., aggregation: ...}")
        return None
    column = raw.get("field")
    aggregation = raw.get("aggregation")
    if aggregation is None and not raw_allowed:
        aggregation = "sum"
    if aggregation is not None:
        aggregation = str(aggregation).lower()
        if aggregation not in AGGREGATIONS:
            problems.add(at, f"measure {column}: aggregation {aggregation!r} is not one of {', '.join(AGGREGATIONS)}"
                             f"{did_you_mean(aggregation, AGGREGATIONS)}")  # fmt: skip
            return None
    if column is None and aggregation != "count":
        problems.add(at, "a measure without a field must be count(*)")
        return None
    default = "count" if column is None else (str(column) if aggregation is None else f"{aggregation}_{column}")
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        problems.add(at, f"measure {column}: format is a d3-format text such as ',.0f' or '.1%'")
    return Measure(None if column is None else str(column), aggregation, str(raw.get("name") or default), fmt)


def _list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]


def _visual(
    raw: Any, position: int, sheet_at: str, problems: Problems, parameters: Mapping[str, ParameterDefinition]
) -> Visual | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        problems.add(sheet_at, f"visual {position + 1} has no id")
        return None
    vid = str(raw["id"])
    at = f"{sheet_at}, visual {vid}"
    count = len(problems.errors)
    for key in raw:
        if key not in _VISUAL_KEYS:
            problems.add(at, f"unknown key {key!r}{did_you_mean(str(key), _VISUAL_KEYS)}")
    kind = str(raw.get("kind") or "")
    if kind not in KINDS:
        problems.add(at, f"kind {kind!r} is not one of {', '.join(KINDS)}{did_you_mean(kind, KINDS)}")
        return None
    dataset = raw.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        problems.add(at, "every visual names its dataset")
        dataset = ""
    dims = [d for d in (_dimension(x, at, problems) for x in _list(raw.get("dimensions") or raw.get("rows"))) if d]
    if raw.get("color") is not None and kind in ("bar", "line", "area"):
        color = _dimension(raw["color"], at, problems, "color")
        if color is not None:
            dims.append(color)
    granularity = raw.get("granularity")
    if granularity is not None and dims:
        if granularity not in GRANULARITIES:
            problems.add(at, f"granularity {granularity!r} is not one of {', '.join(GRANULARITIES)}")
        else:
            first = dims[0]
            dims[0] = Dimension(first.field, first.name, granularity)
    measures = [m for m in (_measure(x, at, problems) for x in _list(raw.get("measures"))) if m]
    options: dict[str, Any] = {}
    columns: list[Dimension] = []
    if kind == "bar":
        options["orientation"] = str(raw.get("orientation", "vertical"))
        options["mode"] = str(raw.get("mode", "grouped"))
        if options["orientation"] not in ("vertical", "horizontal"):
            problems.add(at, f"orientation {options['orientation']!r} is not vertical or horizontal")
        if options["mode"] not in ("grouped", "stacked"):
            problems.add(at, f"mode {options['mode']!r} is not grouped or stacked")
    if kind in ("bar", "line", "area", "pie", "donut", "heatmap") and not dims:
        problems.add(at, f"a {kind} visual needs a dimension")
    if kind in ("kpi", "bar", "line", "area", "pie", "donut", "heatmap", "pivot") and not measures:
        problems.add(at, f"a {kind} visual needs a measure")
    if kind == "kpi" and dims:
        problems.add(at, "a kpi visual has measures only, no dimensions")
    if kind in ("pie", "donut") and (len(dims) > 1 or len(measures) > 1):
        problems.add(at, f"a {kind} visual has one dimension and one measure")
    if kind == "heatmap" and (len(dims) != 2 or len(measures) != 1):
        problems.add(at, "a heatmap visual has two dimensions (x, y) and one measure")
    if kind == "scatter":
        aggregated = bool(dims)
        for axis in ("x", "y", "size"):
            if raw.get(axis) is None:
                if axis != "size":
                    problems.add(at, f"a scatter visual needs {axis}")
                continue
            m = _measure(raw[axis], at, problems, raw_allowed=not aggregated)
            if m is not None:
                measures.append(Measure(m.field, m.aggregation, axis, m.format))
        if raw.get("color") is not None:
            color = _dimension(raw["color"], at, problems, "color")
            if color is not None:
                columns.append(Dimension(color.field, "color", None))
        options["trend_line"] = bool(raw.get("trend_line", False))
    if kind in ("histogram", "box"):
        if not isinstance(raw.get("field"), str):
            problems.add(at, f"a {kind} visual needs field (the numeric column)")
        else:
            options["field"] = raw["field"]
        if kind == "histogram":
            bins = raw.get("bins", 20)
            if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= 500:
                problems.add(at, f"bins {bins!r} is not a whole number from 1 to 500")
            options["bins"] = bins
        if kind == "box" and len(dims) > 1:
            problems.add(at, "a box visual groups by at most one dimension")
    if kind == "table":
        columns = [d for d in (_dimension(x, at, problems, "column") for x in _list(raw.get("columns"))) if d]
        if columns and (dims or measures):
            problems.add(at, "a table lists either columns (rows as they are) or dimensions and measures")
        if not columns and not measures:
            problems.add(at, "a table needs columns, or dimensions and measures")
    if kind == "pivot":
        columns = [d for d in (_dimension(x, at, problems, "column") for x in _list(raw.get("columns"))) if d]
        if not dims and not columns:
            problems.add(at, "a pivot visual needs rows or columns (dimensions)")
        options["totals"] = bool(raw.get("totals", True))
    limit = raw.get("limit")
    if isinstance(limit, str):
        ref = _PARAMETER_REF.match(limit)
        if ref is None or ref.group(1) not in parameters:
            problems.add(at, f"limit {limit!r} is neither a number nor ${{parameter}} of this dashboard")
        elif parameters[ref.group(1)].type != "integer":
            problems.add(at, f"limit {limit}: parameter {ref.group(1)} is not an integer")
    elif limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT):
        problems.add(at, f"limit {limit!r} is not a whole number from 1 to {MAX_LIMIT}")
    sort: list[tuple[str, bool]] = []
    for item in _list(raw.get("sort")):
        if isinstance(item, str):
            sort.append((item.lstrip("-"), item.startswith("-")))
        elif isinstance(item, Mapping) and isinstance(item.get("field"), str):
            order = str(item.get("order", "asc")).lower()
            if order not in ("asc", "desc"):
                problems.add(at, f"sort {item['field']}: order {order!r} is not asc or desc")
            sort.append((item["field"], order == "desc"))
        else:
            problems.add(at, "sort is a list of output names ('-name' for descending) or {field, order}")
    if raw.get("format") is not None:
        options["format"] = raw["format"]
    if len(problems.errors) > count:
        return None
    return Visual(
        id=vid,
        kind=kind,
        title=str(raw.get("title") or vid),
        dataset=dataset,
        dimensions=tuple(dims),
        measures=tuple(measures),
        columns=tuple(columns),
        sort=tuple(sort),
        limit=limit,
        options=options,
    )


# ---- fields against dataset columns


def check_fields(definition: DashboardDefinition, columns_of: Mapping[str, Mapping[str, str] | None]) -> None:
    """Every field a visual, filter or sort names exists in its dataset with a type that fits;
    ``columns_of[dataset]`` is None for a dataset that does not exist."""
    problems = Problems()
    where = f"dashboard {definition.name}"
    for sheet in definition.sheets:
        for visual in sheet.visuals:
            at = f"{where}, sheet {sheet.name}, visual {visual.id}"
            columns = columns_of.get(visual.dataset)
            if columns is None:
                existing = [n for n, c in columns_of.items() if c is not None]
                problems.add(at, f"dataset {visual.dataset} does not exist{did_you_mean(visual.dataset, existing)}")
                continue
            _check_visual(visual, columns, at, problems)
    for item in definition.filters:
        at = f"{where}, filter {item.name}"
        targets = item.datasets or tuple(definition.datasets())
        having = [d for d in targets if columns_of.get(d) is not None and item.field in (columns_of[d] or {})]
        for dataset in item.datasets:
            columns = columns_of.get(dataset)
            if columns is None:
                problems.add(at, f"dataset {dataset} does not exist")
            elif item.field not in columns:
                problems.add(at, f"field {item.field!r} is not a column of dataset {dataset}"
                                 f"{did_you_mean(item.field, columns)}")  # fmt: skip
        if not item.datasets and not having:
            known = {c for d in targets for c in (columns_of.get(d) or {})}
            problems.add(at, f"field {item.field!r} is not a column of any dataset the dashboard uses"
                             f"{did_you_mean(item.field, known)}")  # fmt: skip
        for dataset in having:
            kind = base_type((columns_of[dataset] or {})[item.field])
            if item.default is not None and item.parameter is None:
                from lakeport.dashboards.visual_sql import filter_predicate  # visual_sql reads this module's types

                try:
                    filter_predicate(item.field, kind, item.type, item.default, f"{at}: default")
                except InvalidInput as exc:
                    problems.errors.append(exc.message)
            if item.type == "range" and kind not in NUMERIC_TYPES | TEMPORAL_TYPES:
                problems.add(at, f"a range filter needs a number or date column; {item.field} is {kind}")
            if item.type == "text" and kind != "varchar":
                problems.add(at, f"a text filter needs a string column; {item.field} is {kind}")
    _check_report_filters(definition, columns_of, problems)
    problems.raise_if_any(hint="the dataset's columns: lakeport data-sets show NAME")


def _check_report_filters(
    definition: DashboardDefinition, columns_of: Mapping[str, Mapping[str, str] | None], problems: Problems
) -> None:
    """A report's filter values fit their columns (as a viewer's would be checked when the report runs)."""
    from lakeport.dashboards.visual_sql import filter_predicate  # visual_sql reads this module's types

    known = {f.name: f for f in definition.filters}
    for report in definition.reports:
        for key, value in report.filters.items():
            item = known.get(key)
            if item is None:
                continue
            for dataset in item.datasets or tuple(definition.datasets()):
                columns = columns_of.get(dataset) or {}
                if item.field in columns:
                    what = f"dashboard {definition.name}, report {report.name}, filter {key}"
                    try:
                        filter_predicate(item.field, base_type(columns[item.field]), item.type, value, what)
                    except InvalidInput as exc:
                        problems.errors.append(exc.message)
                    break


def _check_visual(visual: Visual, columns: Mapping[str, str], at: str, problems: Problems) -> None:
    ds = f"dataset {visual.dataset}"
    for role, name in visual.fields():
        if name not in columns:
            problems.add(at, f'{role} field "{name}" is not a column of {ds}{did_you_mean(name, columns)}')
    for d in (*visual.dimensions, *visual.columns):
        kind = base_type(columns.get(d.field, ""))
        if d.granularity is not None and d.field in columns and kind not in TEMPORAL_TYPES:
            problems.add(at, f"dimension {d.field}: granularity {d.granularity} needs a date or timestamp column, "
                             f"not {kind}")  # fmt: skip
    for m in visual.measures:
        kind = base_type(columns.get(m.field or "", ""))
        numeric_needed = m.aggregation in NUMERIC_AGGREGATIONS or (visual.kind == "scatter" and m.aggregation is None)
        if m.field in columns and numeric_needed and kind not in NUMERIC_TYPES:
            what = f"{m.aggregation} of" if m.aggregation else "a scatter axis needs a number;"
            problems.add(at, f'measure field "{m.field}": {what} a {kind} column is not possible')
    value = visual.options.get("field")
    if visual.kind in ("histogram", "box") and value in columns and base_type(columns[str(value)]) not in NUMERIC_TYPES:
        problems.add(at, f'field "{value}" is {columns[str(value)]}; a {visual.kind} needs a number column')
    outputs = output_names(visual)
    for name, _ in visual.sort:
        if name not in outputs:
            problems.add(at, f"sort {name!r} is not an output of the visual{did_you_mean(name, outputs)} "
                             f"(outputs: {', '.join(outputs)})")  # fmt: skip
    seen: set[str] = set()
    for name in outputs:
        if name in seen:
            problems.add(at, f"two outputs are named {name}: give one of them a name (name: ...)")
        seen.add(name)


def output_names(visual: Visual) -> list[str]:
    """The columns a visual's query answers with, in order (sort names one of them)."""
    if visual.kind == "histogram":
        return ["bin", "bin_start", "bin_end", "count"]
    if visual.kind == "box":
        return [*(d.name for d in visual.dimensions), "min", "q1", "median", "q3", "max", "count"]
    if visual.kind == "table" and visual.columns:
        return [c.name for c in visual.columns]
    names = [d.name for d in visual.dimensions] + [c.name for c in visual.columns] + [m.name for m in visual.measures]
    if visual.kind == "scatter" and visual.options.get("trend_line"):
        names += ["trend_slope", "trend_intercept"]
    return names
