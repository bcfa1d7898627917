"""``lake.triggers``: EventBridge rules and EventBridge Scheduler schedules, stored in the metadata DB.

A rule takes object events (an object pattern), bus events (an event pattern) or a schedule expression, and
starts one target: a state machine or a Glue job. A schedule (Scheduler's) has an expression and a target. The
principal who puts a rule is recorded: the dispatcher (:mod:`lakeport.triggers.scheduler`) starts the rule's
targets as that principal. Every operation is authorized with EventBridge's action names (``events:PutRule``
on ``arn:aws:events:<region>:<account>:rule/<name>``; ``scheduler:CreateSchedule`` on
``arn:aws:scheduler:<region>:<account>:schedule/default/<name>``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.iam import IAM, Principal
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import now
from lakeport.observe.bus import bus_cursors, bus_events, move_cursor
from lakeport.storage.events import event_cursors, object_events
from lakeport.triggers.model import (
    DASHBOARDS,
    DISABLED,
    ENABLED,
    EVENT,
    JOB,
    MACHINE,
    OBJECT,
    RULE,
    SCHEDULE,
    TIMER,
    Delivery,
    Rule,
    check_name,
    delivery_from_row,
    rule_from_row,
)
from lakeport.triggers.patterns import check_event_pattern, parse_object_pattern
from lakeport.triggers.schedule_expressions import parse_schedule
from lakeport.triggers.schema import trigger_deliveries, trigger_pending, trigger_rules

__all__ = ["ResourceNotFound", "Triggers"]

DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 10_000


class ResourceNotFound(NotFound):
    default_code = "ResourceNotFoundException"


class Triggers:
    """Put, inspect and remove rules and schedules."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        region: str,
        account_id: str,
        default_bucket: str | None = None,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.default_bucket = default_bucket

    # ---- names and access

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:rule/{name}"

    def schedule_arn(self, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account_id}:schedule/default/{name}"

    def _authorize(self, action: str, resource: str) -> None:
        self.iam.authorize(self.principal, action, resource)

    # ---- rules

    def put_rule(
        self,
        name: str,
        *,
        object_pattern: str | Mapping[str, Any] | None = None,
        event_pattern: str | Mapping[str, Any] | None = None,
        schedule: str | None = None,
        target_machine: str | None = None,
        target_job: str | None = None,
        target_dashboards: str | None = None,
        input: str | Mapping[str, Any] | None = None,
        batch_window: int | None = None,
        batch_size: int | None = None,
        description: str = "",
        state: str = ENABLED,
    ) -> Rule:
        """Create or replace a rule (PutRule + PutTargets). A new rule takes the events that come after it.
        ``target_dashboards`` (``report/DASHBOARD/REPORT`` or ``refresh/DATASET``) is the dashboards service's
        own target: a scheduled report or a SPICE refresh (rules put by ``lake.dashboards``)."""
        check_name("rule", name)
        arn = self.rule_arn(name)
        self._authorize("events:PutRule", arn)
        self._authorize("events:PutTargets", arn)
        given = [v for v in (object_pattern, event_pattern, schedule) if v is not None]
        if len(given) != 1:
            raise InvalidInput(
                f"rule {name}: give exactly one of an object pattern, an event pattern or a schedule expression",
                hint="--object-pattern bucket=…,prefix=…  |  --event-pattern JSON  |  --schedule 'rate(5 minutes)'",
                code="ValidationException",
            )
        pattern: dict[str, Any] | None = None
        if object_pattern is not None:
            source, pattern = OBJECT, parse_object_pattern(object_pattern, self.default_bucket).to_dict()
        elif event_pattern is not None:
            source, pattern = EVENT, check_event_pattern(_json_of(event_pattern, "event pattern"))
        else:
            assert schedule is not None
            source = TIMER
            if parse_schedule(schedule).one_time:
                raise InvalidInput(
                    f"rule {name}: at(…) one-time expressions belong to schedules",
                    hint="lakeport schedules create NAME --expression 'at(…)'",
                    code="ValidationException",
                )
        window, size = _batching(name, source, batch_window, batch_size)
        if target_dashboards is not None:
            if target_machine is not None or target_job is not None:
                raise InvalidInput(f"{name}: give exactly one target", code="ValidationException")
            values: dict[str, Any] = {"target_kind": DASHBOARDS, "target": target_dashboards, "target_input": None}
        else:
            values = self._target_values(name, target_machine, target_job, input)
        values.update(
            arn=arn,
            description=description,
            state=_state(state),
            source=source,
            pattern=pattern,
            schedule=schedule.strip() if schedule else None,
            batch_window=window,
            batch_size=size,
        )
        return self._put(RULE, name, values)

    def describe_rule(self, name: str) -> Rule:
        self._authorize("events:DescribeRule", self.rule_arn(name))
        return self._get(RULE, name)

    def list_rules(self, prefix: str = "") -> list[Rule]:
        self._authorize("events:ListRules", self.rule_arn("*"))
        return [r for r in self._all(RULE) if r.name.startswith(prefix)]

    def delete_rule(self, name: str) -> None:
        """Delete a rule, its gathered batch and its delivery records (started targets run on)."""
        self._authorize("events:DeleteRule", self.rule_arn(name))
        self._delete(RULE, name)

    def enable_rule(self, name: str) -> Rule:
        self._authorize("events:EnableRule", self.rule_arn(name))
        return self._set_state(RULE, name, ENABLED)

    def disable_rule(self, name: str) -> Rule:
        """Disable a rule: it takes no events while disabled (and does not take them later either)."""
        self._authorize("events:DisableRule", self.rule_arn(name))
        return self._set_state(RULE, name, DISABLED)

    # ---- schedules (EventBridge Scheduler)

    def create_schedule(
        self,
        name: str,
        expression: str,
        *,
        target_machine: str | None = None,
        target_job: str | None = None,
        input: str | Mapping[str, Any] | None = None,
        description: str = "",
        state: str = ENABLED,
    ) -> Rule:
        check_name("schedule", name)
        arn = self.schedule_arn(name)
        self._authorize("scheduler:CreateSchedule", arn)
        parse_schedule(expression)
        values = self._target_values(name, target_machine, target_job, input)
        values.update(
            arn=arn,
            description=description,
            state=_state(state),
            source=TIMER,
            pattern=None,
            schedule=expression.strip(),
            batch_window=None,
            batch_size=None,
        )
        return self._put(SCHEDULE, name, values, replace=False)

    def get_schedule(self, name: str) -> Rule:
        self._authorize("scheduler:GetSchedule", self.schedule_arn(name))
        return self._get(SCHEDULE, name)

    def list_schedules(self, prefix: str = "") -> list[Rule]:
        self._authorize("scheduler:ListSchedules", self.schedule_arn("*"))
        return [r for r in self._all(SCHEDULE) if r.name.startswith(prefix)]

    def delete_schedule(self, name: str) -> None:
        self._authorize("scheduler:DeleteSchedule", self.schedule_arn(name))
        self._delete(SCHEDULE, name)

    # ---- deliveries

    def list_deliveries(
        self, owner: str | None = None, *, status: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The delivery records, newest first (``owner``: ``rule/NAME`` or ``schedule/NAME``)."""
        self._authorize("events:ListRules", self.rule_arn("*"))
        query = select(trigger_deliveries)
        if owner is not None:
            query = query.where(trigger_deliveries.c.owner == owner)
        if status is not None:
            query = query.where(trigger_deliveries.c.status == status)
        query = query.order_by(trigger_deliveries.c.created_at.desc(), trigger_deliveries.c.key).limit(limit)
        with self.db.read() as conn:
            return [delivery_from_row(r) for r in conn.execute(query)]

    def delivery_counts(self, owner: str) -> dict[str, int]:
        query = (
            select(trigger_deliveries.c.status, func.count())
            .where(trigger_deliveries.c.owner == owner)
            .group_by(trigger_deliveries.c.status)
        )
        with self.db.read() as conn:
            counts = {status: int(n) for status, n in conn.execute(query)}
            counts["GATHERING"] = int(
                conn.execute(
                    select(func.count()).select_from(trigger_pending).where(trigger_pending.c.owner == owner)
                ).scalar_one()
            )
        return counts

    # ---- for the dispatcher (no authorization: it acts for each rule's principal)

    def enabled(self) -> list[Rule]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(trigger_rules)
                .where(trigger_rules.c.state == ENABLED)
                .order_by(trigger_rules.c.kind, trigger_rules.c.name)
            ).all()
        return [rule_from_row(r) for r in rows]

    # ---- storage

    def _target_values(
        self, name: str, machine: str | None, job: str | None, input: str | Mapping[str, Any] | None
    ) -> dict[str, Any]:
        if (machine is None) == (job is None):
            raise InvalidInput(
                f"{name}: give exactly one target: a state machine or a job",
                hint="--target-machine NAME_OR_ARN  |  --target-job NAME",
                code="ValidationException",
            )
        text = None
        if input is not None:
            value = _json_of(input, "input")
            if job is not None and not isinstance(value, dict):
                raise InvalidInput(f"{name}: a job target's input must be a JSON object (its arguments)")
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        if machine is not None:
            if machine.startswith("arn:") and ":stateMachine:" not in machine:
                raise InvalidInput(f"{name}: {machine!r} is not a state machine ARN", code="ValidationException")
            return {"target_kind": MACHINE, "target": machine, "target_input": text}
        assert job is not None
        return {"target_kind": JOB, "target": job, "target_input": text}

    def _put(self, kind: str, name: str, values: dict[str, Any], *, replace: bool = True) -> Rule:
        stamp = now()
        consumer = f"trigger:{kind}/{name}"

        def work(conn: Connection) -> None:
            where = (trigger_rules.c.kind == kind) & (trigger_rules.c.name == name)
            row = conn.execute(select(trigger_rules).where(where)).first()
            same_source = row is not None and row.source == values["source"]
            if row is not None and not replace:
                raise AlreadyExists(
                    f"schedule {name} already exists",
                    hint=f"delete it first: lakeport schedules delete {name}",
                    code="ConflictException",
                )
            full = {
                **values,
                "principal": self.principal.arn,
                "updated_at": stamp,
                "next_fire": _first_fire(values.get("schedule"), stamp),
            }
            if row is not None and same_source and row.schedule == values.get("schedule"):
                full["next_fire"] = row.next_fire  # an unchanged schedule keeps its rhythm
            if row is None:
                conn.execute(
                    trigger_rules.insert().values(kind=kind, name=name, created_at=stamp, last_fire=None, **full)
                )
            else:
                conn.execute(update(trigger_rules).where(where).values(**full))
            if not same_source:  # a new (or re-sourced) rule takes the events that come after it
                self._start_cursor(conn, consumer, values["source"])

        self.db.run_write(work)
        return self._get(kind, name)

    @staticmethod
    def _start_cursor(conn: Connection, consumer: str, source: str) -> None:
        if source == OBJECT:
            latest = int(conn.execute(select(func.max(object_events.c.id))).scalar() or 0)
            conn.execute(delete(event_cursors).where(event_cursors.c.consumer == consumer))
            conn.execute(event_cursors.insert().values(consumer=consumer, position=latest, updated_at=now()))
        elif source == EVENT:
            latest = int(conn.execute(select(func.max(bus_events.c.position))).scalar() or 0)
            move_cursor(conn, consumer, latest)

    def _get(self, kind: str, name: str) -> Rule:
        with self.db.read() as conn:
            row = conn.execute(
                select(trigger_rules).where(trigger_rules.c.kind == kind, trigger_rules.c.name == name)
            ).first()
        if row is None:
            noun = "rule" if kind == RULE else "schedule"
            raise ResourceNotFound(f"{noun} {name} does not exist", hint=f"lakeport {noun}s list shows them")
        return rule_from_row(row)

    def _all(self, kind: str) -> list[Rule]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(trigger_rules).where(trigger_rules.c.kind == kind).order_by(trigger_rules.c.name)
            )
            return [rule_from_row(r) for r in rows]

    def _set_state(self, kind: str, name: str, state: str) -> Rule:
        current = self._get(kind, name)
        if current.state != state:
            consumer = f"trigger:{kind}/{name}"

            def work(conn: Connection) -> None:
                conn.execute(
                    update(trigger_rules)
                    .where(trigger_rules.c.kind == kind, trigger_rules.c.name == name)
                    .values(state=state, updated_at=now())
                )
                if state == ENABLED:  # events that came while it was disabled are not taken
                    self._start_cursor(conn, consumer, current.source)

            self.db.run_write(work)
        return self._get(kind, name)

    def _delete(self, kind: str, name: str) -> None:
        self._get(kind, name)
        owner, consumer = f"{kind}/{name}", f"trigger:{kind}/{name}"

        def work(conn: Connection) -> None:
            conn.execute(delete(trigger_rules).where(trigger_rules.c.kind == kind, trigger_rules.c.name == name))
            conn.execute(delete(trigger_pending).where(trigger_pending.c.owner == owner))
            conn.execute(delete(trigger_deliveries).where(trigger_deliveries.c.owner == owner))
            conn.execute(delete(event_cursors).where(event_cursors.c.consumer == consumer))
            conn.execute(delete(bus_cursors).where(bus_cursors.c.consumer == consumer))

        self.db.run_write(work)


def _json_of(value: str | Mapping[str, Any], what: str) -> Any:
    if not isinstance(value, str):
        return dict(value)
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InvalidInput(f"the {what} is not JSON: {exc}", code="ValidationException") from None


def _state(state: str) -> str:
    if state not in (ENABLED, DISABLED):
        raise InvalidInput(f"state {state!r} is not ENABLED or DISABLED", code="ValidationException")
    return state


def _batching(name: str, source: str, window: int | None, size: int | None) -> tuple[int | None, int | None]:
    if window is None and size is None:
        return None, None
    if source == TIMER:
        raise InvalidInput(f"rule {name}: a scheduled rule fires once per fire time; it has nothing to batch")
    window = 60 if window is None else window
    size = DEFAULT_BATCH_SIZE if size is None else size
    if window < 0:
        raise InvalidInput(f"rule {name}: the batch window must be 0 or more seconds", code="ValidationException")
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise InvalidInput(f"rule {name}: the batch size must be 1-{MAX_BATCH_SIZE}", code="ValidationException")
    return window, size


def _first_fire(expression: str | None, created: datetime) -> datetime | None:
    """When a schedule fires first: its next time after creation (a rate: one period after)."""
    if not expression:
        return None
    return parse_schedule(expression).next_after(created, anchor=created)
