"""Rules, schedules and deliveries as the service returns them, and the events targets receive.

Input shapes (see docs/triggers.md):

* an object event becomes EventBridge's S3 event ("Object Created" / "Object Deleted", source ``aws.s3``);
* a bus event is passed as it is (EventBridge's shape);
* a rule's schedule gives a "Scheduled Event" (source ``aws.events``); a Scheduler schedule gives its fixed
  input (``{}`` without one);
* a batch is ``{"events": [event, …]}`` (and ``"input"``: the rule's fixed input, when it has one);
* a fixed input on an unbatched rule replaces the event, as EventBridge's ``Input`` does.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.iam import Principal
from lakeport.iam.principal import ASSUMED_ROLE
from lakeport.metadata.times import iso, utc
from lakeport.storage.events import ObjectEvent

ENABLED, DISABLED = "ENABLED", "DISABLED"
RULE, SCHEDULE = "rule", "schedule"
OBJECT, EVENT, TIMER = "object", "event", "schedule"
MACHINE, JOB, DASHBOARDS = "machine", "job", "dashboards"  # dashboards: report/DASHBOARD/REPORT | refresh/DATASET
PENDING, STARTING, STARTED, FAILED = "PENDING", "STARTING", "STARTED", "FAILED"

_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "PostObject",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
}


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not valid",
            hint="1-64 characters: letters, digits, '.', '-' and '_'",
            code="ValidationException",
        )
    return name


def digest(*parts: str) -> str:
    """A short, stable hash of ``parts`` (20 hex characters)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def execution_name(rule: str, key: str) -> str:
    """The execution name a delivery starts its state machine with: the rule's name and the delivery's key, at most
    80 characters of the ones Step Functions allows (rule names use only letters, digits, '.', '-', '_')."""
    return f"{rule[: 80 - len(key) - 1]}-{key}"


def principal_of(arn: str) -> Principal:
    """A principal from the ARN recorded on a rule (a user, or an assumed-role session)."""
    if ":assumed-role/" in arn:
        _, role, session = arn.rsplit(":", 1)[-1].split("/", 2)
        return Principal(arn=arn, name=role, kind=ASSUMED_ROLE, session=session)
    return Principal(arn=arn, name=arn.rsplit("/", 1)[-1])


# ---- the events targets receive


def _time(value: datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_event_key(event: ObjectEvent) -> str:
    return digest(event.bucket, event.key, event.etag, event.sequencer)


def object_event(event: ObjectEvent, *, region: str, account_id: str) -> dict[str, Any]:
    """EventBridge's S3 event ("Object Created" or "Object Deleted") for an object event."""
    obj: dict[str, Any] = {"key": event.key, "sequencer": event.sequencer}
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": event.bucket},
        "object": obj,
        "request-id": f"{event.id:016X}",
        "requester": account_id,
        "reason": _REASONS.get(event.event_name, event.event_name.partition(":")[2]),
    }
    if event.created:
        obj.update(size=event.size, etag=event.etag)
        detail_type = "Object Created"
    else:
        detail_type = "Object Deleted"
        detail["deletion-type"] = "Permanently Deleted"
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"lakeport:s3://{event.bucket}/{event.key}#{event.sequencer}")),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": _time(event.event_time),
        "region": region,
        "resources": [f"arn:aws:s3:::{event.bucket}"],
        "detail": detail,
    }


def scheduled_event(rule_arn: str, fire: datetime, *, region: str, account_id: str) -> dict[str, Any]:
    """The "Scheduled Event" a scheduled rule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"lakeport:{rule_arn}@{iso(fire)}")),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": _time(fire),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def job_arguments(payload: Any, parameters: set[str], fixed: dict[str, Any] | None) -> dict[str, str]:
    """A job target's arguments: the fixed input's keys (``--``-less), then, for the job's declared parameters
    only, ``bucket``, ``key``, ``size``, ``etag``, ``sequencer`` (an object event), ``event`` (the whole event or
    batch as JSON text) and ``events`` (a batch's events as JSON text)."""
    values: dict[str, str] = {}
    for name, value in (fixed or {}).items():
        values[name.removeprefix("--")] = value if isinstance(value, str) else json.dumps(value)
    offered: dict[str, str] = {"event": json.dumps(payload, sort_keys=True)}
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        offered["events"] = json.dumps(payload["events"], sort_keys=True)
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, dict) and isinstance(detail.get("object"), dict):
        obj = detail["object"]
        offered["bucket"] = str(detail.get("bucket", {}).get("name", ""))
        for name in ("key", "size", "etag", "sequencer"):
            if name in obj:
                offered[name] = str(obj[name])
    for name, value in offered.items():
        if name in parameters and name not in values:
            values[name] = value
    return values


# ---- what the service returns


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule (kind ``rule``) or an EventBridge Scheduler schedule (kind ``schedule``)."""

    kind: str
    name: str
    arn: str
    description: str
    state: str
    source: str  # object | event | schedule
    pattern: dict[str, Any] | None
    schedule: str | None
    target_kind: str  # machine | job | dashboards
    target: str
    target_input: str | None
    batch_window: int | None
    batch_size: int | None
    principal: str
    next_fire: datetime | None
    last_fire: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def owner(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def consumer(self) -> str:
        """The name of this rule's cursor on the object event log or the bus."""
        return f"trigger:{self.owner}"

    @property
    def fixed_input(self) -> Any:
        return None if self.target_input is None else json.loads(self.target_input)

    def target_arn(self, region: str, account_id: str) -> str:
        if self.target.startswith("arn:"):
            return self.target
        if self.target_kind == MACHINE:
            return f"arn:aws:states:{region}:{account_id}:stateMachine:{self.target}"
        if self.target_kind == DASHBOARDS:  # a report of a dashboard, or a dataset's refresh
            action, _, rest = self.target.partition("/")
            resource = f"dashboard/{rest.partition('/')[0]}" if action == "report" else f"dataset/{rest}"
            return f"arn:aws:quicksight:{region}:{account_id}:{resource}"
        return f"arn:aws:glue:{region}:{account_id}:job/{self.target}"

    def to_dict(self, region: str = "us-east-1", account_id: str = "000000000000") -> dict[str, Any]:
        target: dict[str, Any] = {"Id": self.target_kind, "Arn": self.target_arn(region, account_id)}
        if self.target_input is not None:
            target["Input"] = self.target_input
        out: dict[str, Any] = {"Name": self.name, "Arn": self.arn, "State": self.state}
        if self.kind == SCHEDULE:
            out.update(
                GroupName="default",
                ScheduleExpression=self.schedule,
                ScheduleExpressionTimezone="UTC",
                Target=target,
                CreationDate=iso(self.created_at),
                LastModificationDate=iso(self.updated_at),
            )
        else:
            out.update(EventBusName="default", Targets=[target])
            if self.source == OBJECT:
                out["ObjectPattern"] = self.pattern
            elif self.source == EVENT:
                out["EventPattern"] = json.dumps(self.pattern, sort_keys=True)
            else:
                out["ScheduleExpression"] = self.schedule
            if self.batch_window is not None:
                out["Batching"] = {"WindowSeconds": self.batch_window, "MaxBatchSize": self.batch_size}
        if self.description:
            out["Description"] = self.description
        out["CreatedBy"] = self.principal
        if self.next_fire is not None:
            out["NextFire"] = iso(self.next_fire)
        if self.last_fire is not None:
            out["LastFire"] = iso(self.last_fire)
        return out


def rule_from_row(row: Any) -> Rule:
    return Rule(
        kind=row.kind,
        name=row.name,
        arn=row.arn,
        description=row.description,
        state=row.state,
        source=row.source,
        pattern=row.pattern,
        schedule=row.schedule,
        target_kind=row.target_kind,
        target=row.target,
        target_input=row.target_input,
        batch_window=row.batch_window,
        batch_size=row.batch_size,
        principal=row.principal,
        next_fire=None if row.next_fire is None else utc(row.next_fire),
        last_fire=None if row.last_fire is None else utc(row.last_fire),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


@dataclass(frozen=True)
class Delivery:
    """One target start owed by a rule: PENDING → (STARTING, for jobs) → STARTED, or FAILED after many tries."""

    owner: str
    key: str
    status: str
    target_kind: str
    target: str
    name: str
    input: str
    principal: str
    run_id: str | None
    attempts: int
    error: str | None
    created_at: datetime
    attempted_at: datetime | None
    started_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "key": self.key,
            "status": self.status,
            "target": self.target,
            "name": self.name,
            "runId": self.run_id,
            "attempts": self.attempts,
            "error": self.error,
            "createdAt": iso(self.created_at),
            "startedAt": iso(self.started_at),
        }


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        owner=row.owner,
        key=row.key,
        status=row.status,
        target_kind=row.target_kind,
        target=row.target,
        name=row.name,
        input=row.input,
        principal=row.principal,
        run_id=row.run_id,
        attempts=row.attempts,
        error=row.error,
        created_at=utc(row.created_at),
        attempted_at=None if row.attempted_at is None else utc(row.attempted_at),
        started_at=None if row.started_at is None else utc(row.started_at),
    )
