"""The event bus (EventBridge's default bus): lakeport's own state-change events, kept in the metadata DB.

Services put an event when their work reaches a terminal state (a Glue job run, a crawl, an Athena query, a
Step Functions execution), shaped as the event AWS sends for the same change::

    {"version": "0", "id": "…", "detail-type": "Glue Job State Change", "source": "aws.glue",
     "account": "000000000000", "time": "2026-11-21T17:00:00Z", "region": "us-east-1", "resources": [],
     "detail": {"jobName": "…", "jobRunId": "…", "state": "SUCCEEDED", "message": "…"}}

Consumers (the triggers' rules) read with a named cursor, as the object event log's consumers do: :meth:`poll`
returns the events after the cursor and :meth:`ack` moves it, so a consumer that dies before acknowledging
sees the events again. The ``emit_*`` functions never raise: an event that cannot be written is logged and
dropped, and never fails the run that announced it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, func, select, update

from lakeport.metadata.schema import metadata_obj
from lakeport.metadata.times import now, utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lakeport.metadata.database import MetadataDB

log = logging.getLogger(__name__)

bus_events = Table(
    "bus_events",
    metadata_obj,
    Column("position", Integer, primary_key=True, autoincrement=True),  # the order consumers read in
    Column("id", String(64), nullable=False, unique=True),  # the event's id (a UUID), as EventBridge's
    Column("source", String(256), nullable=False),
    Column("detail_type", String(256), nullable=False),
    Column("account", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("resources", JSON, nullable=False),
    Column("detail", JSON, nullable=False),
)

bus_cursors = Table(
    "bus_cursors",
    metadata_obj,
    Column("consumer", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class BusEvent:
    position: int
    id: str
    source: str
    detail_type: str
    account: str
    region: str
    time: datetime
    resources: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_aws(self) -> dict[str, Any]:
        """The event as EventBridge delivers it to a target."""
        return {
            "version": "0",
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": utc(self.time).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(self.resources),
            "detail": dict(self.detail),
        }


def _event(row: Any) -> BusEvent:
    return BusEvent(
        position=int(row.position),
        id=row.id,
        source=row.source,
        detail_type=row.detail_type,
        account=row.account,
        region=row.region,
        time=utc(row.time),
        resources=list(row.resources or []),
        detail=dict(row.detail or {}),
    )


class EventBus:
    """Put events on the default bus and read them with named cursors."""

    def __init__(self, db: MetadataDB, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT) -> None:
        self.db = db
        self.region = region
        self.account_id = account_id

    def put(
        self,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str] = (),
        *,
        time: datetime | None = None,
    ) -> str:
        """Append one event (PutEvents' entry); return its id."""
        event_id = str(uuid.uuid4())
        values = {
            "id": event_id,
            "source": source,
            "detail_type": detail_type,
            "account": self.account_id,
            "region": self.region,
            "time": time or now(),
            "resources": list(resources),
            "detail": dict(detail),
        }
        self.db.run_write(lambda conn: conn.execute(bus_events.insert().values(**values)))
        return event_id

    def read(self, *, after: int = 0, limit: int = 100) -> list[BusEvent]:
        query = select(bus_events).where(bus_events.c.position > after).order_by(bus_events.c.position).limit(limit)
        with self.db.read() as conn:
            return [_event(row) for row in conn.execute(query)]

    def latest_position(self) -> int:
        """The newest event's position (0 when there is none): a consumer starting now begins after it."""
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(bus_events.c.position))).scalar() or 0)

    # ---- consumers

    def position(self, consumer: str) -> int:
        with self.db.read() as conn:
            value = conn.execute(select(bus_cursors.c.position).where(bus_cursors.c.consumer == consumer)).scalar()
        return int(value or 0)

    def poll(self, consumer: str, limit: int = 100) -> list[BusEvent]:
        """Events the consumer has not acknowledged yet, oldest first."""
        return self.read(after=self.position(consumer), limit=limit)

    def ack(self, consumer: str, id: int | str) -> None:
        """Mark every event up to ``id`` (an event id, or a position) as handled; the cursor never moves back."""
        if isinstance(id, str):
            with self.db.read() as conn:
                found = conn.execute(select(bus_events.c.position).where(bus_events.c.id == id)).scalar()
            if found is None:
                return
            id = int(found)
        position = id
        self.db.run_write(lambda conn: move_cursor(conn, consumer, position))


def move_cursor(conn: Connection, consumer: str, position: int) -> None:
    """Move a bus cursor forward inside the caller's transaction (creating it at ``position``)."""
    where = bus_cursors.c.consumer == consumer
    current = conn.execute(select(bus_cursors.c.position).where(where)).scalar()
    if current is None:
        conn.execute(bus_cursors.insert().values(consumer=consumer, position=position, updated_at=now()))
    elif position > current:
        conn.execute(update(bus_cursors).where(where).values(position=position, updated_at=now()))


# ---- what lakeport's services announce (never raising: an announcement never fails the run)


def _emit(
    db: MetadataDB,
    region: str,
    account_id: str,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str],
) -> str | None:
    try:
        return EventBus(db, region=region, account_id=account_id).put(source, detail_type, detail, resources)
    except Exception as exc:  # the bus is a convenience for the run that announces: it never fails that run
        log.warning("could not put %s event: %s", detail_type, exc)
        return None


def emit_job_state(
    db: MetadataDB, *, job_name: str, run_id: str, state: str, message: str | None, region: str, account_id: str
) -> str | None:
    """A Glue job run reached ``state`` (SUCCEEDED, FAILED, STOPPED, TIMEOUT): "Glue Job State Change"."""
    severity = "INFO" if state == "SUCCEEDED" else "ERROR"
    detail = {
        "jobName": job_name,
        "severity": severity,
        "state": state,
        "jobRunId": run_id,
        "message": message or f"Job run {state.lower()}",
    }
    return _emit(db, region, account_id, "aws.glue", "Glue Job State Change", detail, [])


def emit_crawler_state(
    db: MetadataDB,
    *,
    crawler_name: str,
    run_id: str,
    state: str,
    message: str | None,
    region: str,
    account_id: str,
    counters: Mapping[str, Any] | None = None,
) -> str | None:
    """A crawl ended: "Glue Crawler State Change" with state Succeeded, Failed or Cancelled (AWS's spelling)."""
    detail: dict[str, Any] = {
        "crawlerName": crawler_name,
        "state": state,
        "message": message or f"Crawler {state}",
        "accountId": account_id,
        "runId": run_id,
        "completionDate": utc(now()).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if state == "Failed":
        detail["errorMessage"] = message or "the crawl failed"
    detail.update({k: str(v) for k, v in (counters or {}).items()})
    resource = f"arn:aws:glue:{region}:{account_id}:crawler/{crawler_name}"
    return _emit(db, region, account_id, "aws.glue", "Glue Crawler State Change", detail, [resource])


def emit_query_state(
    db: MetadataDB,
    *,
    query_execution_id: str,
    state: str,
    workgroup: str | None,
    region: str,
    account_id: str,
    statement_type: str | None = None,
    previous_state: str = "RUNNING",
) -> str | None:
    """An Athena query execution finished (SUCCEEDED, FAILED, CANCELLED): "Athena Query State Change"."""
    detail: dict[str, Any] = {
        "currentState": state,
        "previousState": previous_state,
        "queryExecutionId": query_execution_id,
        "sequenceNumber": "3",
        "versionId": "0",
        "workgroupName": workgroup or "primary",
    }
    if statement_type:
        detail["statementType"] = statement_type
    return _emit(db, region, account_id, "aws.athena", "Athena Query State Change", detail, [])


def _millis(value: Any) -> int | None:
    """An ISO time (``2026-11-21T17:00:00.000Z``) or datetime as epoch milliseconds, as Step Functions' events."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return int(utc(moment).timestamp() * 1000)


def emit_execution_status(db: MetadataDB, execution: Mapping[str, Any], *, region: str, account_id: str) -> str | None:
    """A state-machine execution finished: "Step Functions Execution Status Change".

    ``execution`` is DescribeExecution's shape (``Execution.to_aws()``): executionArn, stateMachineArn, name,
    status, startDate, stopDate, input, output, error, cause."""
    try:
        detail: dict[str, Any] = {
            "executionArn": execution["executionArn"],
            "stateMachineArn": execution["stateMachineArn"],
            "name": execution["name"],
            "status": execution["status"],
            "startDate": _millis(execution.get("startDate")),
            "stopDate": _millis(execution.get("stopDate")),
            "input": execution.get("input"),
            "output": execution.get("output"),
            "inputDetails": {"included": True},
            "outputDetails": {"included": execution.get("output") is not None},
            "error": execution.get("error"),
            "cause": execution.get("cause"),
        }
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("could not describe an execution status event: %s", exc)
        return None
    resources = [str(execution["executionArn"])]
    return _emit(db, region, account_id, "aws.states", "Step Functions Execution Status Change", detail, resources)
