"""``Lake``: the composition root. It finds a lake, reads its settings and wires the services; nothing more.

Every front end (CLI, HTTP API, web console, tests) starts from ``Lake.open()``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lakeport.errors import ConfigError, LakeNotFound
from lakeport.iam import IAM, Principal
from lakeport.metadata import MetadataDB
from lakeport.settings import SETTINGS_FILE, Settings, load_settings, write_settings_file

if TYPE_CHECKING:
    from lakeport.catalog import Catalog
    from lakeport.crawler import Crawlers
    from lakeport.dashboards import Dashboards
    from lakeport.etl import Jobs
    from lakeport.functions import Functions
    from lakeport.notify import Notifications
    from lakeport.observe import Alarms, EventBus, LogStore, Metrics
    from lakeport.observe.log_access import CloudWatchLogs
    from lakeport.query.service import Queries, QueryExecution
    from lakeport.states.service import StateMachines
    from lakeport.storage import Backend, EventLog, ObjectWatcher, Storage, Transfers
    from lakeport.triggers import Triggers
    from lakeport.warehouse import Warehouse

LAKE_ENV = "LAKEPORT_LAKE"
AREAS = ("staging/", "warehouse/", "results/")


def find_lake_root(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The lake folder: ``explicit`` (``--lake``), then ``$LAKEPORT_LAKE``, then the current folder upward."""
    environ = os.environ if environ is None else environ
    for given, origin in ((explicit, "--lake"), (environ.get(LAKE_ENV), LAKE_ENV)):
        if given:
            root = Path(given).expanduser().resolve()
            if not (root / SETTINGS_FILE).is_file():
                raise LakeNotFound(
                    f"{root} ({origin}) is not a lakeport lake: it has no {SETTINGS_FILE}",
                    hint=f"create one with: lakeport init {given}",
                )
            return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise LakeNotFound(
        f"no lake in {here} or any folder above it",
        hint=f"run `lakeport init`, pass --lake PATH, or set {LAKE_ENV}",
    )


class Lake:
    """One lake: settings, metadata database and services, acting as one principal."""

    def __init__(
        self, settings: Settings, db: MetadataDB, principal: Principal | None = None, iam: IAM | None = None
    ) -> None:
        self.settings = settings
        self.root = settings.root
        self.db = db
        shared = iam or IAM(
            settings.iam.account_id,
            settings.iam.admin_user,
            db,
            audit_admin=settings.iam.audit_admin,
            audit_retention_days=settings.iam.audit_retention_days,
        )
        self.principal = principal or shared.admin
        self.iam = shared.as_principal(self.principal)  # IAM's own operations act as this principal too

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        overrides: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Lake:
        root = find_lake_root(path, environ)
        settings = load_settings(root, overrides, environ)
        db = MetadataDB.for_lake(settings.metadata.url, root, busy_timeout_ms=settings.metadata.busy_timeout_ms)
        from lakeport.schemas import load_all

        db.ensure_schema(load_tables=load_all)
        return cls(settings, db)

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        values: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Lake:
        """Create a lake at ``path`` (or complete one that exists): settings, metadata DB, default bucket."""
        root = Path(path).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        settings_path = root / SETTINGS_FILE
        if not settings_path.exists():
            write_settings_file(settings_path, dict(values or {}))
        elif values:
            raise ConfigError(
                f"{root} is already a lake; its settings are in {settings_path}",
                hint="edit lakeport.toml, or use -c section.key=value for one command",
            )
        lake = cls.open(root, environ=environ)
        lake.db.set_info_default("lake_id", secrets.token_hex(8))
        lake.db.set_info_default("presign_secret", secrets.token_hex(32))
        lake.iam.ensure_user(lake.settings.iam.admin_user)
        lake.ensure_default_bucket()
        return lake

    def ensure_default_bucket(self) -> None:
        bucket = self.settings.storage.default_bucket
        if not self.storage.bucket_exists(bucket):
            self.storage.create_bucket(bucket)
        from lakeport.storage.local import LocalBackend

        if isinstance(self.backend, LocalBackend):  # folders to drop files into by hand
            for area in AREAS:
                (self.backend.root / bucket / area).mkdir(parents=True, exist_ok=True)

    # ---- services

    @cached_property
    def backend(self) -> Backend:
        from lakeport.storage import open_backend

        return open_backend(self.settings.storage, self.root)

    @cached_property
    def events(self) -> EventLog:
        from lakeport.storage import EventLog

        return EventLog(self.db)

    @cached_property
    def storage(self) -> Storage:
        from lakeport.storage import Storage

        server = self.settings.server
        return Storage(
            self.backend,
            self.iam,
            self.events,
            self.principal,
            default_bucket=self.settings.storage.default_bucket,
            presign_base_url=f"http://{server.host}:{server.port}",
            presign_secret=self.db.get_info("presign_secret") or "",
        )

    @cached_property
    def transfers(self) -> Transfers:
        from lakeport.storage import Transfers

        return Transfers(self.storage)

    @cached_property
    def logs(self) -> LogStore:
        """The services' own log store: writes through it are not authorized (see ``cloudwatch_logs``)."""
        from lakeport.observe import LogStore

        iam = self.settings.iam
        return LogStore(self.db, region=iam.region, account_id=iam.account_id)

    @cached_property
    def cloudwatch_logs(self) -> CloudWatchLogs:
        """CloudWatch Logs for this principal: reads and administration, each call authorized (logs:*)."""
        from lakeport.observe.log_access import CloudWatchLogs

        return CloudWatchLogs(self.logs, self.iam, self.principal)

    @cached_property
    def catalog(self) -> Catalog:
        from lakeport.catalog import Catalog

        iam = self.settings.iam
        return Catalog(self.db, self.iam, self.principal, region=iam.region, account_id=iam.account_id)

    @cached_property
    def crawlers(self) -> Crawlers:
        from lakeport.crawler import Crawlers

        iam = self.settings.iam
        return Crawlers(
            db=self.db,
            catalog=self.catalog,
            storage=self.storage,
            events=self.events,
            logs=self.logs,
            iam=self.iam,
            principal=self.principal,
            region=iam.region,
            account_id=iam.account_id,
            lake_root=self.root,
            act_as=lambda principal: self.as_principal(principal).crawlers,
        )

    @property
    def objects_root(self) -> Path | None:
        """The local backend's folder (objects/<bucket>/<key>), or None when objects live in S3."""
        from lakeport.storage.local import LocalBackend

        return self.backend.root if isinstance(self.backend, LocalBackend) else None

    @cached_property
    def warehouse(self) -> Warehouse:
        from lakeport.warehouse import Warehouse

        iam = self.settings.iam
        return Warehouse(
            db=self.db,
            catalog=self.catalog,
            iam=self.iam,
            principal=self.principal,
            storage=self.settings.storage,
            objects_root=self.objects_root,
            bucket=self.settings.storage.default_bucket,
            region=iam.region,
            account_id=iam.account_id,
        )

    @cached_property
    def jobs(self) -> Jobs:
        from lakeport.etl import Jobs

        iam = self.settings.iam
        return Jobs(
            db=self.db,
            catalog=self.catalog,
            warehouse=self.warehouse,
            storage=self.storage,
            logs=self.logs,
            iam=self.iam,
            principal=self.principal,
            region=iam.region,
            account_id=iam.account_id,
            lake_root=self.root,
            objects_root=self.objects_root,
            act_as=lambda principal: self.as_principal(principal).jobs,
        )

    @cached_property
    def queries(self) -> Queries:
        from lakeport.query.service import Queries

        iam = self.settings.iam
        return Queries(
            db=self.db,
            catalog=self.catalog,
            warehouse=self.warehouse,
            storage=self.storage,
            iam=self.iam,
            principal=self.principal,
            work_root=self.root / ".lakeport" / "queries",
            objects_root=self.objects_root,
            results_bucket=self.settings.storage.default_bucket,
            region=iam.region,
            account_id=iam.account_id,
            settings=self.settings.query,
        )

    @cached_property
    def states(self) -> StateMachines:
        from lakeport.states.service import StateMachines

        iam = self.settings.iam
        return StateMachines(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            logs=self.logs,
            services=self.as_principal,
            region=iam.region,
            account_id=iam.account_id,
            lake_root=self.root,
        )

    @cached_property
    def bus(self) -> EventBus:
        from lakeport.observe import EventBus

        iam = self.settings.iam
        return EventBus(self.db, region=iam.region, account_id=iam.account_id)

    @cached_property
    def triggers(self) -> Triggers:
        from lakeport.triggers import Triggers

        iam = self.settings.iam
        return Triggers(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            region=iam.region,
            account_id=iam.account_id,
            default_bucket=self.settings.storage.default_bucket,
        )

    @cached_property
    def functions(self) -> Functions:
        from lakeport.functions import Functions

        iam = self.settings.iam
        return Functions(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            region=iam.region,
            account_id=iam.account_id,
            functions_root=self.root / "functions",
        )

    @cached_property
    def notify(self) -> Notifications:
        from lakeport.notify import Notifications

        iam = self.settings.iam
        server = self.settings.server
        return Notifications(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            logs=self.logs,
            region=iam.region,
            account_id=iam.account_id,
            settings=self.settings.notify,
            invoke=lambda name, payload: self.functions.invoke(name, payload),
            base_dir=self.root,
            public_url=f"http://{server.host}:{server.port}",
        )

    @cached_property
    def metrics(self) -> Metrics:
        from lakeport.observe import Metrics

        iam = self.settings.iam
        return Metrics(self.db, self.iam, self.principal, region=iam.region, account_id=iam.account_id)

    @cached_property
    def alarms(self) -> Alarms:
        from lakeport.observe import Alarms

        iam = self.settings.iam
        return Alarms(
            self.db,
            self.iam,
            self.principal,
            self.metrics,
            lambda topic, message, subject: self.notify.publish(topic, message, subject=subject),
            region=iam.region,
            account_id=iam.account_id,
        )

    @cached_property
    def dashboards(self) -> Dashboards:
        """Dashboards and their datasets (``lake.dashboards.datasets``); viewers' queries run as the lake's
        service identity (QuickSight's service role), after the viewer is authorized and their rules applied."""
        from lakeport.dashboards import Dashboards, DataSets

        iam = self.settings.iam
        service = self if self.principal.arn == self.iam.admin.arn else self.as_principal(self.iam.admin)
        datasets = DataSets(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            queries=self.queries,
            service_queries=lambda: service.queries,
            service_catalog=lambda: service.catalog,
            service_storage=lambda: service.storage,
            groups_of=lambda user: service.iam.groups_for_user(user),
            region=iam.region,
            account_id=iam.account_id,
            bucket=self.settings.storage.default_bucket,
        )
        board = Dashboards(
            db=self.db,
            iam=self.iam,
            principal=self.principal,
            datasets=datasets,
            service_queries=lambda: service.queries,
            region=iam.region,
            account_id=iam.account_id,
        )
        # default views are answered ahead (kept for SPICE datasets) as the service: no viewer's rules
        board.service = lambda: service.dashboards
        datasets.on_ingested = lambda name: service.dashboards.warm(dataset=name)
        return board

    def query(self, sql: str, *, database: str = "default") -> QueryExecution:
        """Run one Athena SQL statement to its end (``lake.queries.get_query_results`` reads the rows)."""
        return self.queries.start_query_execution(sql, database=database, wait=True)

    def watcher(self) -> ObjectWatcher:
        from lakeport.storage import ObjectWatcher

        return ObjectWatcher(self.storage, self.settings.events)

    def as_principal(self, principal: Principal) -> Lake:
        return Lake(self.settings, self.db, principal, self.iam)

    # ---- lifetime

    def close(self) -> None:
        self.iam.close()  # the audit events still buffered
        self.db.dispose()

    def __enter__(self) -> Lake:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
