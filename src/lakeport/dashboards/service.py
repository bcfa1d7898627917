"""``lake.dashboards``: dashboards as code over datasets (QuickSight), answered by the query service.

A dashboard is a validated definition (``definition.py``) stored in the metadata DB. ``visual_data`` turns one
visual, the dashboard's filters and parameters and the viewer's row rules into one SQL statement
(``visual_sql.py``) that the query service runs as the lake's service identity; ``dashboard_data`` does so for
every visual of a sheet; ``drill_down`` returns the rows behind one point. Every call is authorized with
QuickSight's action names on ``arn:aws:quicksight:REGION:ACCOUNT:dashboard/NAME``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row

from lakeport.dashboards import answers
from lakeport.dashboards.datasets import DataSets, ResourceNotFound
from lakeport.dashboards.definition import (
    MAX_LIMIT,
    DashboardDefinition,
    Sheet,
    Visual,
    check_fields,
    check_parameter_value,
    did_you_mean,
    parse_dashboard,
    parse_text,
)
from lakeport.dashboards.figures import sheet_payload
from lakeport.dashboards.model import SPICE, Dashboard, DataSet, VisualData, VisualError
from lakeport.dashboards.runner import run_query
from lakeport.dashboards.schedules import remove_rules, report_target, sync_report_rules
from lakeport.dashboards.schema import dashboards_dashboards
from lakeport.dashboards.visual_sql import dimension_sql, filter_predicate, value_literal, visual_plan, where_clause
from lakeport.errors import AccessDenied, AlreadyExists, InvalidInput, LakeportError
from lakeport.metadata.times import now
from lakeport.sqltext import ident

if TYPE_CHECKING:
    from lakeport.iam import IAM, Principal
    from lakeport.metadata import MetadataDB
    from lakeport.query.service import Queries

DRILL_LIMIT = 100
PARALLEL_VISUALS = 4  # visuals of a sheet whose queries are submitted at once


class Dashboards:
    """Dashboards (QuickSight Dashboard) and their datasets (``datasets``)."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        datasets: DataSets,
        service_queries: Callable[[], Queries],
        region: str,
        account_id: str,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.datasets = datasets
        """CreateDataSet, DescribeDataSet, ListDataSets, UpdateDataSet, DeleteDataSet, Create/ListIngestions."""
        self.service_queries = service_queries
        self.region = region
        self.account_id = account_id
        # the service's own instance (viewers' rules do not apply to it), for answering default views
        self.service: Callable[[], Dashboards] | None = None

    def arn(self, name: str) -> str:
        return f"arn:aws:quicksight:{self.region}:{self.account_id}:dashboard/{name}"

    def _authorize(self, action: str, name: str = "*") -> None:
        self.iam.authorize(self.principal, f"quicksight:{action}", self.arn(name))

    # ---- definitions

    def validate_dashboard(self, document: Mapping[str, Any] | str, *, name: str | None = None) -> DashboardDefinition:
        """Check a definition (YAML/JSON text or a mapping) against its datasets' columns without storing it;
        DefinitionError lists every error, each naming the sheet, visual and field."""
        parsed = parse_dashboard(parse_text(document) if isinstance(document, str) else document, name)
        for dataset in parsed.datasets():
            self.iam.authorize(self.principal, "quicksight:DescribeDataSet", self.datasets.arn(dataset))
        check_fields(parsed, self.datasets._columns_of(parsed.datasets()))
        return parsed

    def create_dashboard(self, document: Mapping[str, Any] | str, *, name: str | None = None) -> Dashboard:
        parsed = parse_dashboard(parse_text(document) if isinstance(document, str) else document, name)
        self._authorize("CreateDashboard", parsed.name)
        check_fields(parsed, self.datasets._columns_of(parsed.datasets()))
        if self._row(parsed.name) is not None:
            raise AlreadyExists(
                f"dashboard {parsed.name} already exists",
                hint=f"update it: lakeport dashboards update {parsed.name} --from FILE",
            )
        sync_report_rules(self.datasets._triggers(), parsed)
        stamp = now()
        self.db.run_write(
            lambda conn: conn.execute(
                dashboards_dashboards.insert().values(
                    name=parsed.name,
                    arn=self.arn(parsed.name),
                    definition=dict(parsed.document),
                    source=document if isinstance(document, str) else None,
                    version=1,
                    owner=self.principal.arn,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        )
        self._warm(parsed.name)
        return self._dashboard(parsed.name)

    def update_dashboard(self, document: Mapping[str, Any] | str, *, name: str | None = None) -> Dashboard:
        """Replace a dashboard's definition (a new version)."""
        parsed = parse_dashboard(parse_text(document) if isinstance(document, str) else document, name)
        self._authorize("UpdateDashboard", parsed.name)
        current = self._dashboard(parsed.name)
        check_fields(parsed, self.datasets._columns_of(parsed.datasets()))
        sync_report_rules(self.datasets._triggers(), parsed)
        self.db.run_write(
            lambda conn: conn.execute(
                update(dashboards_dashboards)
                .where(dashboards_dashboards.c.name == parsed.name)
                .values(
                    definition=dict(parsed.document),
                    source=document if isinstance(document, str) else None,
                    version=current.version + 1,
                    updated_at=now(),
                )
            )
        )
        self._warm(parsed.name)
        return self._dashboard(parsed.name)

    def describe_dashboard(self, name: str) -> Dashboard:
        self._authorize("DescribeDashboard", name)
        return self._dashboard(name)

    def list_dashboards(self) -> list[Dashboard]:
        self._authorize("ListDashboards")
        with self.db.read() as conn:
            rows = conn.execute(select(dashboards_dashboards).order_by(dashboards_dashboards.c.name)).all()
        return [_dashboard(r) for r in rows]

    def delete_dashboard(self, name: str) -> None:
        self._authorize("DeleteDashboard", name)
        self._dashboard(name)
        remove_rules(self.datasets._triggers(), report_target(name, ""))
        self.db.run_write(
            lambda conn: conn.execute(delete(dashboards_dashboards).where(dashboards_dashboards.c.name == name))
        )

    # ---- data (viewers: quicksight:QueryDashboard)

    def visual_data(
        self,
        name: str,
        sheet: str,
        visual: str,
        *,
        filters: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> VisualData:
        """One visual's columns and rows for this viewer, with the filters and parameters given (the
        definition's defaults for the others)."""
        self._authorize("QueryDashboard", name)
        definition = self._definition(name)
        found = definition.visual(sheet, visual)
        return self._visual_data(definition, sheet, found, filters or {}, self._parameters(definition, parameters))

    def dashboard_data(
        self,
        name: str,
        sheet: str | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> list[VisualData | VisualError]:
        """Every visual of a sheet (the first when none is named); a visual that fails is a VisualError."""
        self._authorize("QueryDashboard", name)
        definition = self._definition(name)
        chosen = definition.sheet(sheet) if sheet is not None else definition.sheets[0]
        return self._sheet_answers(definition, chosen, filters or {}, parameters)

    def sheet_figures(
        self,
        name: str,
        sheet: str | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A sheet as the console and the exports draw it (``figures.sheet_payload``): every visual's answer with
        its Plotly figure in the dashboard's theme, or its error."""
        self._authorize("QueryDashboard", name)
        definition = self._definition(name)
        chosen = definition.sheet(sheet) if sheet is not None else definition.sheets[0]
        answers = self._sheet_answers(definition, chosen, filters or {}, parameters)
        return sheet_payload(name, chosen.name, definition.theme, answers)

    def _sheet_answers(
        self,
        definition: DashboardDefinition,
        chosen: Sheet,
        filters: Mapping[str, Any],
        parameters: Mapping[str, Any] | None,
    ) -> list[VisualData | VisualError]:
        values = self._parameters(definition, parameters)
        self._check_filter_names(definition, filters)

        def answer(visual: Visual) -> VisualData | VisualError:
            try:
                return self._visual_data(definition, chosen.name, visual, filters, values)
            except LakeportError as exc:
                return VisualError(chosen.name, visual.id, visual.kind, visual.title, exc.code, exc.message, exc.hint)

        # the visuals' queries wait in the query service's pool together (it runs as many at once as it may)
        with ThreadPoolExecutor(max_workers=min(PARALLEL_VISUALS, len(chosen.visuals))) as pool:
            return list(pool.map(answer, chosen.visuals))

    def drill_down(
        self,
        name: str,
        sheet: str,
        visual: str,
        point: Mapping[str, Any],
        *,
        filters: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        limit: int = DRILL_LIMIT,
    ) -> VisualData:
        """The rows behind one point of a visual (a bar, a slice, a cell): its dimensions' values as filters,
        with the dashboard's filters and the viewer's rules; at most ``limit`` rows of the columns they may see."""
        self._authorize("QueryDashboard", name)
        definition = self._definition(name)
        found = definition.visual(sheet, visual)
        where = f"dashboard {name}, sheet {sheet}, visual {visual}"
        keys = {d.name: d for d in (*found.dimensions, *found.columns)}
        if not keys:
            raise InvalidInput(f"{where}: a {found.kind} visual has no dimensions to drill into")
        for key in point:
            if key not in keys:
                raise InvalidInput(f"{where}: {key!r} is not a dimension of the visual{did_you_mean(key, keys)}",
                                   hint=f"its dimensions: {', '.join(keys)}")  # fmt: skip
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"{where}: limit {limit} is not from 1 to {MAX_LIMIT}")
        dataset = self.datasets._dataset(found.dataset)
        predicates, hidden = self._predicates(definition, found, dataset, filters or {},
                                              self._parameters(definition, parameters), where)  # fmt: skip
        self._check_columns(where, found, dataset, hidden)
        types = dataset.column_types()
        for key, value in point.items():
            d = keys[key]
            kind = "timestamp" if d.granularity else types[d.field]
            column = dimension_sql(d)
            what = f"{where}: drill-down value of {key}"
            predicates.append(
                f"{column} IS NULL" if value is None else f"{column} = {value_literal(value, kind, what)}"
            )
        shown = [c for c, _ in dataset.columns if c not in hidden]
        relation = self.datasets._relation(dataset)
        sql = (
            f"WITH {ident('dataset')} AS ({relation})\nSELECT {', '.join(ident(c) for c in shown)} "
            f"FROM {ident('dataset')}{where_clause(predicates)} LIMIT {int(limit)}"
        )
        answer = run_query(self.service_queries(), sql, what=where, max_rows=limit)
        columns = [{"Name": n, "Type": t, "Role": "value"} for n, t in answer.columns]
        return VisualData(name, sheet, visual, "table", f"{found.title}: rows", columns, answer.rows, sql,
                          answer.execution_id, {"drill_down": dict(point)})  # fmt: skip

    def filter_values(self, name: str, filter_name: str, *, limit: int = 1000) -> dict[str, Any]:
        """What a filter's control offers this viewer: the distinct values of its field (a dropdown or
        multi-select; the definition's ``values`` when it lists them) or its minimum and maximum (a range), over
        the datasets it applies to, with the viewer's row rules applied."""
        self._authorize("QueryDashboard", name)
        definition = self._definition(name)
        found = next((f for f in definition.filters if f.name == filter_name), None)
        if found is None:
            known = [f.name for f in definition.filters]
            raise InvalidInput(f"dashboard {name} has no filter {filter_name!r}{did_you_mean(filter_name, known)}",
                               hint=f"its filters: {', '.join(known) or 'none'}")  # fmt: skip
        out: dict[str, Any] = {"Filter": found.name, "Field": found.field, "Type": found.type,
                               "Control": found.control, "Default": found.default}  # fmt: skip
        if found.values:
            return {**out, "Values": list(found.values)}
        if found.type == "text":
            return out
        where = f"dashboard {name}, filter {filter_name}"
        parts: list[str] = []
        for dataset_name in found.datasets or tuple(definition.datasets()):
            dataset = self.datasets._dataset(dataset_name)
            if found.field not in dataset.column_types():
                continue
            rows, hidden = self.datasets._rules(dataset, self.principal, where)
            if found.field in hidden:
                continue
            relation = self.datasets._relation(dataset)
            parts.append(f"SELECT {ident(found.field)} AS v FROM ({relation}){where_clause([rows] if rows else [])}")
        if not parts:
            return {**out, "Values": []} if found.type == "values" else {**out, "Minimum": None, "Maximum": None}
        union = " UNION ALL ".join(parts)
        if found.type == "range":
            answer = run_query(self.service_queries(), f"SELECT min(v), max(v) FROM ({union})", what=where)
            low, high = answer.rows[0]
            return {**out, "Minimum": low, "Maximum": high}
        sql = f"SELECT DISTINCT v FROM ({union}) ORDER BY v NULLS LAST LIMIT {int(limit)}"
        answer = run_query(self.service_queries(), sql, what=where, max_rows=limit)
        return {**out, "Values": [r[0] for r in answer.rows]}

    def warm(self, *, dataset: str | None = None, dashboard: str | None = None) -> int:
        """Answer the default view (no filters, the parameters' defaults) of every visual over a SPICE snapshot,
        of one dataset or one dashboard or both, as this service's principal, so that the first viewer finds the
        answers kept (``answers.py``; called after an ingestion and when a dashboard is created or updated).
        Direct-query visuals are left alone (their answers are not kept); a visual that fails is skipped (its
        viewers see the error). Returns the number answered."""
        query = select(dashboards_dashboards).order_by(dashboards_dashboards.c.name)
        if dashboard is not None:
            query = query.where(dashboards_dashboards.c.name == dashboard)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        cached = {d.name for d in self.datasets.list_cached()}
        work: list[tuple[DashboardDefinition, str, Visual]] = []
        for row in rows:
            definition = parse_dashboard(row.definition)
            for sheet in definition.sheets:
                work += [(definition, sheet.name, v) for v in sheet.visuals
                         if v.dataset in cached and dataset in (None, v.dataset)]  # fmt: skip

        def answer(item: tuple[DashboardDefinition, str, Visual]) -> bool:
            definition, sheet, visual = item
            try:
                self._visual_data(definition, sheet, visual, {}, self._parameters(definition, None))
            except LakeportError:
                return False
            return True

        if not work:
            return 0
        with ThreadPoolExecutor(max_workers=min(PARALLEL_VISUALS, len(work))) as pool:
            return sum(pool.map(answer, work))

    def _warm(self, dashboard: str) -> None:
        (self.service() if self.service is not None else self).warm(dashboard=dashboard)

    # ---- internals

    def _visual_data(
        self,
        definition: DashboardDefinition,
        sheet: str,
        visual: Visual,
        filters: Mapping[str, Any],
        parameters: Mapping[str, Any],
    ) -> VisualData:
        where = f"dashboard {definition.name}, sheet {sheet}, visual {visual.id}"
        self._check_filter_names(definition, filters)
        dataset = self.datasets._dataset(visual.dataset)
        predicates, hidden = self._predicates(definition, visual, dataset, filters, parameters, where)
        self._check_columns(where, visual, dataset, hidden)
        limit = visual.limit
        if isinstance(limit, str):
            limit = int(parameters[limit[2:-1]])
        if limit is not None:
            limit = max(1, min(int(limit), MAX_LIMIT))
        plan = visual_plan(visual, self.datasets._relation(dataset), predicates, limit)
        snapshot = dataset.snapshot if dataset.import_mode == SPICE else None
        answer = answers.cached(self.db, plan.sql) if snapshot else None
        if answer is None:
            answer = run_query(self.service_queries(), plan.sql, what=where, max_rows=MAX_LIMIT + 1)
            if snapshot:
                answers.keep(self.db, snapshot, plan.sql, answer)
        rows, truncated = answer.rows[:MAX_LIMIT], len(answer.rows) > MAX_LIMIT
        roles = dict(plan.roles)
        formats = {m.name: m.format for m in visual.measures if m.format}
        columns = [
            {"Name": n, "Type": t, "Role": roles.get(n, "value"), **({"Format": formats[n]} if n in formats else {})}
            for n, t in answer.columns
        ]
        options = {**visual.options, "theme": definition.theme}
        if truncated:  # more groups than a visual shows: the first MAX_LIMIT, in the visual's order
            options["truncated"] = True
        granular = [d for d in visual.dimensions if d.granularity]
        if granular:
            options["granularity"] = {d.name: d.granularity for d in granular}
        return VisualData(definition.name, sheet, visual.id, visual.kind, visual.title, columns, rows,
                          plan.sql, answer.execution_id, options)  # fmt: skip

    def _predicates(
        self,
        definition: DashboardDefinition,
        visual: Visual,
        dataset: DataSet,
        filters: Mapping[str, Any],
        parameters: Mapping[str, Any],
        where: str,
    ) -> tuple[list[str], set[str]]:
        """The viewer's row rule and the active filters that apply to this visual's dataset; the hidden columns."""
        types = dataset.column_types()
        predicates: list[str] = []
        rows, hidden = self.datasets._rules(dataset, self.principal, where)
        if rows is not None:
            predicates.append(rows)
        for item in definition.filters:
            if item.field not in types or (item.datasets and dataset.name not in item.datasets):
                continue
            if item.name in filters:
                if item.field in hidden:  # a viewer may not probe a column they may not see
                    raise AccessDenied(
                        f"dashboard {definition.name}, filter {item.name}: field {item.field} of dataset "
                        f"{dataset.name} is restricted for {self.principal.arn} (column-level security)",
                        hint="leave this filter at its default",
                    )
                value = filters[item.name]
            elif item.parameter is not None:
                value = parameters[item.parameter]
            else:
                value = item.default
            found = filter_predicate(item.field, types[item.field], item.type, value,
                                     f"dashboard {definition.name}, filter {item.name}")  # fmt: skip
            if found is not None:
                predicates.append(found)
        return predicates, hidden

    def _check_columns(self, where: str, visual: Visual, dataset: DataSet, hidden: set[str]) -> None:
        for role, field in visual.fields():
            if field in hidden:
                raise AccessDenied(
                    f"{where}: {role} field {field} of dataset {dataset.name} is restricted for {self.principal.arn} "
                    f"(column-level security)",
                    hint="ask the dataset's owner to add you to its column_level_security rule",
                )

    def _check_filter_names(self, definition: DashboardDefinition, filters: Mapping[str, Any]) -> None:
        known = [f.name for f in definition.filters]
        for key in filters:
            if key not in known:
                raise InvalidInput(
                    f"dashboard {definition.name} has no filter {key!r}{did_you_mean(key, known)}",
                    hint=f"its filters: {', '.join(known) or 'none'}",
                )

    def _parameters(self, definition: DashboardDefinition, given: Mapping[str, Any] | None) -> dict[str, Any]:
        known = {p.name: p for p in definition.parameters}
        values = {p.name: p.default for p in definition.parameters}
        for key, value in (given or {}).items():
            if key not in known:
                raise InvalidInput(
                    f"dashboard {definition.name} has no parameter {key!r}{did_you_mean(key, known)}",
                    hint=f"its parameters: {', '.join(known) or 'none'}",
                )
            where = f"dashboard {definition.name}, parameter {key}"
            values[key] = check_parameter_value(known[key].type, value, where)
            spec = known[key]
            if spec.values and value not in spec.values:
                raise InvalidInput(f"{where}: {value!r} is not one of its values", hint=f"one of {list(spec.values)}")
            low, high = spec.minimum, spec.maximum
            if isinstance(value, int | float) and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                raise InvalidInput(f"{where}: {value!r} is outside {low}..{high}")
        return values

    def _definition(self, name: str) -> DashboardDefinition:
        return parse_dashboard(self._dashboard(name).definition)

    def _row(self, name: str) -> Row[Any] | None:
        with self.db.read() as conn:
            return conn.execute(select(dashboards_dashboards).where(dashboards_dashboards.c.name == name)).first()

    def _dashboard(self, name: str) -> Dashboard:
        row = self._row(name)
        if row is None:
            with self.db.read() as conn:
                names = list(conn.execute(select(dashboards_dashboards.c.name)).scalars())
            raise ResourceNotFound(f"dashboard {name} does not exist{did_you_mean(name, names)}",
                                   hint="lakeport dashboards list")  # fmt: skip
        return _dashboard(row)


def _dashboard(row: Row[Any]) -> Dashboard:
    return Dashboard(
        name=row.name,
        arn=row.arn,
        definition=row.definition,
        source=row.source,
        version=row.version,
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
