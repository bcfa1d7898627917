"""``lake.dashboards.datasets``: QuickSight's DataSet API — a catalog table or an Athena query, direct or
imported (SPICE, ``snapshots.py``), with calculated fields and row- and column-level security.

The author's own query rights are checked when a dataset is created or updated: its columns are read with a
``LIMIT 0`` query run as the author. Viewers' queries run as the lake's service identity (QuickSight's service
role), after the dashboards service has authorized the viewer and applied the dataset's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row

from lakeport.dashboards import answers, snapshots
from lakeport.dashboards.dataset_definition import DataSetDefinition, parse_dataset
from lakeport.dashboards.definition import DefinitionError, did_you_mean
from lakeport.dashboards.model import SPICE, DataSet, Ingestion
from lakeport.dashboards.runner import QueryFailed, run_query
from lakeport.dashboards.schema import dashboards_datasets, dashboards_ingestions
from lakeport.dashboards.security import hidden_columns, row_predicate, viewer_keys
from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.metadata.times import now
from lakeport.sqltext import ident

if TYPE_CHECKING:
    from lakeport.catalog import Catalog
    from lakeport.iam import IAM, Principal
    from lakeport.metadata import MetadataDB
    from lakeport.query.service import Queries
    from lakeport.storage import Storage
    from lakeport.triggers import Triggers


class ResourceNotFound(NotFound):
    """QuickSight's error code for a dataset, dashboard or ingestion that does not exist."""

    default_code = "ResourceNotFoundException"


class DataSets:
    """Datasets (QuickSight DataSet) and their SPICE ingestions."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        queries: Queries,
        service_queries: Callable[[], Queries],
        service_catalog: Callable[[], Catalog],
        service_storage: Callable[[], Storage],
        groups_of: Callable[[str], Sequence[str]],
        region: str,
        account_id: str,
        bucket: str,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.queries = queries
        self.service_queries = service_queries
        self.service_catalog = service_catalog
        self.service_storage = service_storage
        self.groups_of = groups_of
        self.region = region
        self.account_id = account_id
        self.bucket = bucket
        # called with the dataset's name after an ingestion succeeded (the dashboards service answers its
        # dashboards' default views then, so that their first viewer finds them kept)
        self.on_ingested: Callable[[str], Any] | None = None

    def arn(self, name: str) -> str:
        return f"arn:aws:quicksight:{self.region}:{self.account_id}:dataset/{name}"

    def _authorize(self, action: str, name: str = "*") -> None:
        self.iam.authorize(self.principal, f"quicksight:{action}", self.arn(name))

    def _triggers(self) -> Triggers:
        """The triggers as this caller: a dataset's refresh schedules and a dashboard's report schedules are rules
        they put (``schedules.py``)."""
        from lakeport.triggers import Triggers

        return Triggers(db=self.db, iam=self.iam, principal=self.principal, region=self.region,
                        account_id=self.account_id)  # fmt: skip

    def _sync_refresh(self, definition: DataSetDefinition | None, name: str) -> None:
        """Put (or remove) the rules that refresh a SPICE dataset on schedule or after a run (``schedules.py``)."""
        from lakeport.dashboards.schedules import refresh_target, remove_rules, sync_refresh_rules

        triggers = self._triggers()
        if definition is None:
            remove_rules(triggers, refresh_target(name), exact=True)
        else:
            sync_refresh_rules(triggers, definition, self.region, self.account_id)

    # ---- the API

    def create_data_set(self, definition: DataSetDefinition | Mapping[str, Any]) -> DataSet:
        """Create a dataset (its columns read as the caller); a SPICE dataset is ingested at once."""
        parsed = definition if isinstance(definition, DataSetDefinition) else parse_dataset(definition)
        self._authorize("CreateDataSet", parsed.name)
        if self._row(parsed.name) is not None:
            raise AlreadyExists(
                f"dataset {parsed.name} already exists", hint=f"update it: lakeport data-sets update {parsed.name}"
            )
        columns = self._probe(parsed)
        self._sync_refresh(parsed, parsed.name)
        stamp = now()
        self.db.run_write(
            lambda conn: conn.execute(
                dashboards_datasets.insert().values(
                    name=parsed.name,
                    arn=self.arn(parsed.name),
                    definition=parsed.to_dict(),
                    columns=[list(c) for c in columns],
                    import_mode=parsed.import_mode,
                    snapshot=None,
                    owner=self.principal.arn,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        )
        if parsed.import_mode == SPICE:
            self._ingest(parsed.name)
        return self._dataset(parsed.name)

    def update_data_set(self, definition: DataSetDefinition | Mapping[str, Any]) -> DataSet:
        """Replace a dataset's definition (columns read again as the caller); a SPICE dataset is re-ingested."""
        parsed = definition if isinstance(definition, DataSetDefinition) else parse_dataset(definition)
        self._authorize("UpdateDataSet", parsed.name)
        current = self._dataset(parsed.name)
        columns = self._probe(parsed)
        self._sync_refresh(parsed, parsed.name)
        self.db.run_write(
            lambda conn: conn.execute(
                update(dashboards_datasets)
                .where(dashboards_datasets.c.name == parsed.name)
                .values(
                    definition=parsed.to_dict(),
                    columns=[list(c) for c in columns],
                    import_mode=parsed.import_mode,
                    updated_at=now(),
                )
            )
        )
        if parsed.import_mode == SPICE:
            self._ingest(parsed.name)
        elif current.snapshot:  # now DIRECT_QUERY: the snapshot goes
            self.db.run_write(
                lambda conn: conn.execute(
                    update(dashboards_datasets).where(dashboards_datasets.c.name == parsed.name).values(snapshot=None)
                )
            )
            answers.forget(self.db, current.snapshot)
            snapshots.drop(current.snapshot, self.service_catalog(), self.service_storage(), self.bucket)
        return self._dataset(parsed.name)

    def describe_data_set(self, name: str) -> DataSet:
        self._authorize("DescribeDataSet", name)
        return self._dataset(name)

    def list_data_sets(self) -> list[DataSet]:
        self._authorize("ListDataSets")
        with self.db.read() as conn:
            rows = conn.execute(select(dashboards_datasets).order_by(dashboards_datasets.c.name)).all()
        return [_dataset(r) for r in rows]

    def delete_data_set(self, name: str) -> None:
        """Delete a dataset, its SPICE snapshot and its ingestion history."""
        self._authorize("DeleteDataSet", name)
        found = self._dataset(name)
        self._sync_refresh(None, name)

        def work(conn: Any) -> None:
            conn.execute(delete(dashboards_datasets).where(dashboards_datasets.c.name == name))
            conn.execute(delete(dashboards_ingestions).where(dashboards_ingestions.c.dataset == name))

        self.db.run_write(work)
        if found.snapshot:
            answers.forget(self.db, found.snapshot)
            snapshots.drop(found.snapshot, self.service_catalog(), self.service_storage(), self.bucket)

    def create_ingestion(self, name: str) -> Ingestion:
        """Refresh a SPICE dataset's snapshot now (CreateIngestion); it runs to its end. A failed ingestion is
        recorded with its error and the dataset keeps its last good snapshot."""
        self._authorize("CreateIngestion", name)
        found = self._dataset(name)
        if found.import_mode != SPICE:
            raise InvalidInput(
                f"dataset {name} is {found.import_mode}: only SPICE datasets have ingestions",
                hint="set import_mode: SPICE in its definition",
            )
        return self._ingest(name)

    def list_ingestions(self, name: str, *, limit: int = 100) -> list[Ingestion]:
        """The dataset's refresh history, newest first."""
        self._authorize("ListIngestions", name)
        self._dataset(name)
        with self.db.read() as conn:
            rows = conn.execute(
                select(dashboards_ingestions)
                .where(dashboards_ingestions.c.dataset == name)
                .order_by(dashboards_ingestions.c.created_at.desc(), dashboards_ingestions.c.id)
                .limit(limit)
            ).all()
        return [self._ingestion(r) for r in rows]

    def describe_ingestion(self, name: str, ingestion_id: str) -> Ingestion:
        self._authorize("DescribeIngestion", name)
        with self.db.read() as conn:
            row = conn.execute(
                select(dashboards_ingestions).where(
                    dashboards_ingestions.c.dataset == name, dashboards_ingestions.c.id == ingestion_id
                )
            ).first()
        if row is None:
            raise ResourceNotFound(
                f"dataset {name} has no ingestion {ingestion_id}", hint="lakeport data-sets ingestions NAME"
            )
        return self._ingestion(row)

    # ---- for the dashboards service (its calls are authorized there)

    def list_cached(self) -> list[DataSet]:
        """The SPICE datasets that have a snapshot (their visuals' answers are kept)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(dashboards_datasets).where(
                    dashboards_datasets.c.import_mode == SPICE, dashboards_datasets.c.snapshot.is_not(None)
                )
            ).all()
        return [_dataset(r) for r in rows]

    def _dataset(self, name: str) -> DataSet:
        row = self._row(name)
        if row is None:
            with self.db.read() as conn:
                names = list(conn.execute(select(dashboards_datasets.c.name)).scalars())
            raise ResourceNotFound(
                f"dataset {name} does not exist{did_you_mean(name, names)}", hint="lakeport data-sets list"
            )
        return _dataset(row)

    def _columns_of(self, names: Sequence[str]) -> dict[str, dict[str, str] | None]:
        with self.db.read() as conn:
            rows = conn.execute(select(dashboards_datasets.c.name, dashboards_datasets.c.columns)).all()
        known = {r.name: {n: t for n, t in r.columns} for r in rows}
        return {**{n: None for n in names}, **known}

    def _viewer(self, principal: Principal) -> set[str] | None:
        """The viewer's rule keys (None: the administrator, not restricted)."""
        if principal.arn == self.iam.admin.arn:
            return None
        if principal.kind != "user":
            return {f"role/{principal.name}"}
        return viewer_keys(principal.name, self.groups_of(principal.name))

    def _relation(self, dataset: DataSet, *, direct: bool = False) -> str:
        """The dataset's rows as one SELECT: its SPICE snapshot, or its source with the calculated fields."""
        if dataset.import_mode == SPICE and not direct:
            if not dataset.snapshot:
                last = self._last_ingestion(dataset.name)
                why = f" (its last ingestion failed: {last.error})" if last is not None and last.error else ""
                raise InvalidInput(
                    f"dataset {dataset.name} has no SPICE snapshot yet{why}",
                    hint=f"refresh it: lakeport data-sets refresh {dataset.name}",
                )
            db, _, table = dataset.snapshot.partition(".")
            return f"SELECT * FROM {ident(db)}.{ident(table)}"
        return _source_relation(_definition(dataset))

    def _rules(self, dataset: DataSet, principal: Principal, what: str) -> tuple[str | None, set[str]]:
        keys = self._viewer(principal)
        definition = _definition(dataset)
        return row_predicate(definition, dataset.column_types(), keys, what), hidden_columns(definition, keys)

    # ---- internals

    def _row(self, name: str) -> Row[Any] | None:
        with self.db.read() as conn:
            return conn.execute(select(dashboards_datasets).where(dashboards_datasets.c.name == name)).first()

    def _last_ingestion(self, name: str) -> Ingestion | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(dashboards_ingestions)
                .where(dashboards_ingestions.c.dataset == name)
                .order_by(dashboards_ingestions.c.created_at.desc())
                .limit(1)
            ).first()
        return None if row is None else self._ingestion(row)

    def _ingestion(self, row: Row[Any]) -> Ingestion:
        return Ingestion(
            id=row.id,
            dataset=row.dataset,
            arn=f"{self.arn(row.dataset)}/ingestion/{row.id}",
            status=row.status,
            rows=row.rows,
            bytes=row.bytes,
            table=row.table_name,
            query_execution_id=row.query_execution_id,
            error=row.error,
            principal=row.principal,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )

    def _probe(self, definition: DataSetDefinition) -> list[tuple[str, str]]:
        """The dataset's columns from a LIMIT 0 query run as the caller; errors name the dataset and field. One
        query when all is well (the source with its calculated fields); when it fails, the source and each
        calculated field are tried alone, to name the one at fault."""
        where = f"dataset {definition.name}"
        try:
            full = run_query(
                self.queries,
                f"SELECT * FROM ({_source_relation(definition)}) LIMIT 0",
                what=where,
                database=definition.database,
            )
        except QueryFailed:
            self._name_the_fault(definition)
            raise
        names = [n for n, _ in full.columns]
        errors = [
            f"{where}: calculated field {field} has the name of a column"
            for field in definition.calculated_fields
            if names.count(field) > 1
        ]
        columns = {n: t for n, t in full.columns}
        for rule in definition.row_rules:
            for column in rule.values:
                if column not in columns:
                    errors.append(f"{where}, row rule of {rule.principal}: column {column!r} is not a column of the "
                                  f"dataset{did_you_mean(column, columns)}")  # fmt: skip
        for column_rule in definition.column_rules:
            for column in column_rule.columns:
                if column not in columns:
                    errors.append(f"{where}, column_level_security: column {column!r} is not a column of the "
                                  f"dataset{did_you_mean(column, columns)}")  # fmt: skip
        if errors:
            raise DefinitionError(errors)
        return list(full.columns)

    def _name_the_fault(self, definition: DataSetDefinition) -> None:
        """Raise a DefinitionError naming what cannot be read: the source, or each calculated field that fails
        (or a calculated field with a column's name). Returns when each part alone works."""
        where = f"dataset {definition.name}"
        base = _source_relation(definition, calculated=False)
        try:
            found = run_query(self.queries, f"SELECT * FROM ({base}) LIMIT 0", what=where, database=definition.database)
        except QueryFailed as exc:
            raise DefinitionError([f"{where}: its source cannot be read: {exc.message.split(': ', 1)[-1]}"]) from None
        columns = {n: t for n, t in found.columns}
        errors: list[str] = []
        for field, expression in definition.calculated_fields.items():
            if field in columns:
                errors.append(f"{where}: calculated field {field} has the name of a column")
                continue
            sql = f"SELECT {expression} AS {ident(field)} FROM ({base}) LIMIT 0"
            try:
                run_query(self.queries, sql, what=where, database=definition.database)
            except QueryFailed as exc:
                errors.append(f"{where}: calculated field {field} ({expression}): {exc.message.split(': ', 2)[-1]}")
        if errors:
            raise DefinitionError(errors)

    def _ingest(self, name: str) -> Ingestion:
        dataset = self._dataset(name)
        ingestion_id = snapshots.start(self.db, name, self.principal.arn)
        result = snapshots.ingest(
            ingestion_id,
            name,
            self._relation(dataset, direct=True),
            database=_definition(dataset).database,
            queries=self.service_queries(),
            catalog=self.service_catalog(),
            storage=self.service_storage(),
            bucket=self.bucket,
        )
        previous = dataset.snapshot
        snapshots.finish(self.db, ingestion_id, name, result)
        if result.table is not None and previous and previous != result.table:
            answers.forget(self.db, previous)
            snapshots.drop(previous, self.service_catalog(), self.service_storage(), self.bucket)
        if result.table is not None and self.on_ingested is not None:
            self.on_ingested(name)
        with self.db.read() as conn:
            row = conn.execute(select(dashboards_ingestions).where(dashboards_ingestions.c.id == ingestion_id)).one()
        return self._ingestion(row)


def _definition(dataset: DataSet) -> DataSetDefinition:
    return parse_dataset(dataset.definition)


def _source_relation(definition: DataSetDefinition, *, calculated: bool = True) -> str:
    if definition.table is not None:
        db, _, table = definition.table.partition(".")
        base = f"SELECT * FROM {ident(db)}.{ident(table)}"
    else:
        base = str(definition.sql)
    if not calculated or not definition.calculated_fields:
        return base
    source = ident("source")
    extra = ", ".join(f"({e}) AS {ident(n)}" for n, e in definition.calculated_fields.items())
    return f"SELECT {source}.*, {extra} FROM ({base}) AS {source}"


def _dataset(row: Row[Any]) -> DataSet:
    return DataSet(
        name=row.name,
        arn=row.arn,
        definition=row.definition,
        columns=[(n, t) for n, t in row.columns],
        import_mode=row.import_mode,
        snapshot=row.snapshot,
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
