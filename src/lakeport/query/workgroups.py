"""Workgroups (Athena's CreateWorkGroup, GetWorkGroup, ListWorkGroups, UpdateWorkGroup, DeleteWorkGroup): where
queries' results go, whether the workgroup's settings override the client's, and how many bytes a query may scan.

``primary`` always exists (it is made on first use) and cannot be deleted. A query in a DISABLED workgroup is
refused. The workgroup's ``ResultConfiguration.OutputLocation`` is used when the client gives none, and instead
of the client's when ``EnforceWorkGroupConfiguration`` is true. ``BytesScannedCutoffPerQuery`` (at least
Athena's 10 MB; the ``query.min_bytes_scanned_cutoff`` setting lowers the floor for tests) cancels a query that
reads more (``query/watch.py``). ``PublishCloudWatchMetricsEnabled``, ``RequesterPaysEnabled`` and
``EngineVersion`` are stored and returned.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.metadata.times import now
from lakeport.query.limits import ATHENA_MIN_CUTOFF
from lakeport.query.schema import query_named_queries, query_prepared_statements, query_workgroups

if TYPE_CHECKING:
    from lakeport.metadata.database import MetadataDB

PRIMARY = "primary"
ENABLED, DISABLED = "ENABLED", "DISABLED"
_NAME = re.compile(r"[a-zA-Z0-9._-]{1,128}")
_FLAGS = ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "RequesterPaysEnabled")
_KEYS = (*_FLAGS, "ResultConfiguration", "BytesScannedCutoffPerQuery", "EngineVersion")
_UPDATE_KEYS = (
    *_FLAGS,
    "ResultConfigurationUpdates",
    "BytesScannedCutoffPerQuery",
    "RemoveBytesScannedCutoffPerQuery",
    "EngineVersion",
)

Authorize = Callable[[str, str], None]  # (action without "athena:", workgroup)


class WorkGroupError(InvalidInput):
    default_code = "InvalidRequestException"


class WorkGroupNotFound(NotFound):
    default_code = "InvalidRequestException"


class WorkGroupExists(AlreadyExists):
    default_code = "InvalidRequestException"


@dataclass(frozen=True)
class WorkGroup:
    name: str
    state: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    created_at: datetime | None = None

    @property
    def output_location(self) -> str | None:
        location: str | None = (self.configuration.get("ResultConfiguration") or {}).get("OutputLocation")
        return location

    @property
    def enforced(self) -> bool:
        return bool(self.configuration.get("EnforceWorkGroupConfiguration", False))

    @property
    def bytes_scanned_cutoff(self) -> int | None:
        cutoff = self.configuration.get("BytesScannedCutoffPerQuery")
        return int(cutoff) if cutoff is not None else None

    def results_location(self, client: str | None) -> str | None:
        """Where a query's results go: the workgroup's when enforced, else the client's, else the workgroup's."""
        if self.enforced and self.output_location:
            return self.output_location
        return client or self.output_location

    def to_athena(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "State": self.state, "Configuration": dict(self.configuration)}
        if self.description:
            out["Description"] = self.description
        if self.created_at is not None:
            out["CreationTime"] = self.created_at.isoformat()
        return out

    def summary(self) -> dict[str, Any]:
        """The shape ListWorkGroups returns."""
        out = {k: v for k, v in self.to_athena().items() if k != "Configuration"}
        out["EngineVersion"] = self.configuration.get("EngineVersion", {"SelectedEngineVersion": "AUTO"})
        return out


def _workgroup(row: Any) -> WorkGroup:
    return WorkGroup(row.name, row.state, row.configuration or {}, row.description, row.created_at)


def check_workgroup_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise WorkGroupError(
            f"workgroup name {name!r} is not valid",
            hint="1 to 128 letters, digits, '.', '_' or '-'",
        )
    return name


class WorkGroups:
    def __init__(self, db: MetadataDB, authorize: Authorize, *, min_cutoff: int = ATHENA_MIN_CUTOFF) -> None:
        self.db = db
        self.authorize = authorize
        self.min_cutoff = min_cutoff

    # ---- Athena's API

    def create_work_group(
        self, name: str, *, configuration: Mapping[str, Any] | None = None, description: str | None = None
    ) -> WorkGroup:
        check_workgroup_name(name)
        self.authorize("CreateWorkGroup", name)
        self._ensure_primary()
        group = WorkGroup(name, ENABLED, self._configuration(name, configuration or {}), _description(description))
        try:
            self.db.run_write(
                lambda conn: conn.execute(
                    query_workgroups.insert().values(
                        name=name,
                        description=group.description,
                        state=ENABLED,
                        configuration=dict(group.configuration),
                        created_at=now(),
                    )
                )
            )
        except IntegrityError:
            raise WorkGroupExists(
                f"workgroup {name} already exists", hint="update it with update_work_group, or pick another name"
            ) from None
        return self._get(name)

    def get_work_group(self, name: str) -> WorkGroup:
        self.authorize("GetWorkGroup", name)
        return self._get(name)

    def list_work_groups(self) -> list[WorkGroup]:
        self.authorize("ListWorkGroups", "*")
        self._ensure_primary()
        with self.db.read() as conn:
            rows = conn.execute(select(query_workgroups).order_by(query_workgroups.c.name)).all()
        return [_workgroup(r) for r in rows]

    def update_work_group(
        self,
        name: str,
        *,
        description: str | None = None,
        state: str | None = None,
        configuration_updates: Mapping[str, Any] | None = None,
    ) -> WorkGroup:
        self.authorize("UpdateWorkGroup", name)
        current = self._get(name)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = _description(description)
        if state is not None:
            if state not in (ENABLED, DISABLED):
                raise WorkGroupError(f"workgroup {name}: state {state!r} is not ENABLED or DISABLED")
            values["state"] = state
        if configuration_updates:
            values["configuration"] = self._updated(name, dict(current.configuration), configuration_updates)
        if values:
            self.db.run_write(
                lambda conn: conn.execute(
                    update(query_workgroups).where(query_workgroups.c.name == name).values(**values)
                )
            )
        return self._get(name)

    def delete_work_group(self, name: str, *, recursive_delete_option: bool = False) -> None:
        """Delete a workgroup; one holding named queries or prepared statements only with
        ``recursive_delete_option`` (which deletes them too)."""
        self.authorize("DeleteWorkGroup", name)
        if name == PRIMARY:
            raise WorkGroupError("the primary workgroup cannot be deleted", hint="disable it instead")
        self._get(name)
        with self.db.read() as conn:
            held = sum(
                conn.execute(select(func.count()).select_from(t).where(t.c.workgroup == name)).scalar_one()
                for t in (query_named_queries, query_prepared_statements)
            )
        if held and not recursive_delete_option:
            raise WorkGroupError(
                f"workgroup {name} holds {held} named queries or prepared statements",
                hint="delete them first, or pass recursive_delete_option=True (--recursive) to delete them too",
            )

        def work(conn: Any) -> None:
            for table in (query_named_queries, query_prepared_statements):
                conn.execute(delete(table).where(table.c.workgroup == name))
            conn.execute(delete(query_workgroups).where(query_workgroups.c.name == name))

        self.db.run_write(work)

    # ---- for the query service

    def for_execution(self, name: str) -> WorkGroup:
        """The workgroup a query starts in: it must exist and be ENABLED."""
        group = self._get(name)
        if group.state != ENABLED:
            raise WorkGroupError(
                f"workgroup {name} is disabled", hint=f"enable it: lakeport workgroups update {name} --state ENABLED"
            )
        return group

    def require(self, name: str) -> WorkGroup:
        return self._get(name)

    # ---- storage and checks

    def _get(self, name: str) -> WorkGroup:
        if name == PRIMARY:
            self._ensure_primary()
        with self.db.read() as conn:
            row = conn.execute(select(query_workgroups).where(query_workgroups.c.name == name)).first()
        if row is None:
            raise WorkGroupNotFound(f"workgroup {name} is not found", hint="lakeport workgroups list shows them")
        return _workgroup(row)

    def _ensure_primary(self) -> None:
        with self.db.read() as conn:
            found = conn.execute(select(query_workgroups.c.name).where(query_workgroups.c.name == PRIMARY)).first()
        if found is not None:
            return
        with contextlib.suppress(IntegrityError):  # made by a racing caller
            self.db.run_write(
                lambda conn: conn.execute(
                    query_workgroups.insert().values(
                        name=PRIMARY, description=None, state=ENABLED, configuration={}, created_at=now()
                    )
                )
            )

    def _configuration(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - set(_KEYS))
        if unknown:
            raise WorkGroupError(
                f"workgroup {name}: configuration key {unknown[0]!r} is not known",
                hint=f"known keys: {', '.join(_KEYS)}",
            )
        out: dict[str, Any] = {}
        for flag in _FLAGS:
            if flag in given:
                out[flag] = _flag(name, flag, given[flag])
        if "ResultConfiguration" in given:
            result = dict(given["ResultConfiguration"] or {})
            extra = sorted(set(result) - {"OutputLocation"})
            if extra:
                raise WorkGroupError(
                    f"workgroup {name}: ResultConfiguration.{extra[0]} is not supported by lakeport",
                    hint="ResultConfiguration takes OutputLocation",
                )
            if result.get("OutputLocation") is not None:
                out["ResultConfiguration"] = {"OutputLocation": _location(name, result["OutputLocation"])}
        if given.get("BytesScannedCutoffPerQuery") is not None:
            out["BytesScannedCutoffPerQuery"] = self._cutoff(name, given["BytesScannedCutoffPerQuery"])
        if "EngineVersion" in given:
            out["EngineVersion"] = dict(given["EngineVersion"] or {})
        return out

    def _updated(self, name: str, current: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(updates) - set(_UPDATE_KEYS))
        if unknown:
            raise WorkGroupError(
                f"workgroup {name}: configuration update {unknown[0]!r} is not known",
                hint=f"known updates: {', '.join(_UPDATE_KEYS)}",
            )
        for flag in _FLAGS:
            if flag in updates:
                current[flag] = _flag(name, flag, updates[flag])
        result = dict(updates.get("ResultConfigurationUpdates") or {})
        if result.get("RemoveOutputLocation"):
            current.pop("ResultConfiguration", None)
        elif result.get("OutputLocation") is not None:
            current["ResultConfiguration"] = {"OutputLocation": _location(name, result["OutputLocation"])}
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            current.pop("BytesScannedCutoffPerQuery", None)
        elif updates.get("BytesScannedCutoffPerQuery") is not None:
            current["BytesScannedCutoffPerQuery"] = self._cutoff(name, updates["BytesScannedCutoffPerQuery"])
        if "EngineVersion" in updates:
            current["EngineVersion"] = dict(updates["EngineVersion"] or {})
        return current

    def _cutoff(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < self.min_cutoff:
            raise WorkGroupError(
                f"workgroup {name}: BytesScannedCutoffPerQuery {value!r} is not a whole number of at least "
                f"{self.min_cutoff:,} bytes",
                hint="Athena's minimum is 10 MB (10000000); the query.min_bytes_scanned_cutoff setting lowers it",
            )
        return value


def _flag(name: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise WorkGroupError(f"workgroup {name}: {key} must be true or false, not {value!r}")
    return value


def _location(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("s3://") or len(value) <= len("s3://"):
        raise WorkGroupError(
            f"workgroup {name}: OutputLocation {value!r} is not an s3:// location",
            hint="for example s3://lakeport/results/etl/",
        )
    return value.rstrip("/") + "/"


def _description(text: str | None) -> str | None:
    if text is not None and len(text) > 1024:
        raise WorkGroupError("a workgroup description is at most 1024 characters")
    return text or None
