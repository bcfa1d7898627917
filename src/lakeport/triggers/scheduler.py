"""The dispatcher: takes object events, bus events and due schedules, and starts the rules' targets.

One pass (:meth:`Scheduler.run_once`):

1. **take** — for each enabled rule, read the events after its cursor (``trigger:rule/NAME`` on the object event
   log or on the bus) and, in **one transaction**, record what they owe and move the cursor: an unbatched rule
   records one delivery per matching event; a batched rule adds the events to its gathering batch. A schedule
   that is due records one delivery for its fire time and moves its next fire time on.
2. **batch** — a batched rule whose batch reached its size, or whose oldest event has waited its window, turns
   the batch into deliveries of at most that size (in one transaction, removing the events from the batch).
3. **deliver** — each PENDING delivery starts its target as the rule's principal, and is marked STARTED with the
   execution ARN or job run id. A start that fails is logged (``/lakeport/triggers/<rule>``) and retried on a
   later pass, with a growing pause; after ``MAX_ATTEMPTS`` the delivery is FAILED.

Delivery is at-least-once at the source (nothing is taken without being recorded) and deduplicated at the target:

* a state machine is started with a name derived from the rule and the delivery's key (the object's bucket,
  key, ETag and sequencer; the batch's members; the bus event's id; the fire time), and Step Functions returns
  the existing execution for a name used again with the same input — so a start repeated after a crash is
  harmless, and there is exactly one execution per delivery;
* a Glue job run has no such name: the delivery is marked STARTING before the run is started, and a delivery
  found STARTING after a crash looks for the run it may have started (same job, same arguments, started since
  the attempt, not claimed by another delivery) before starting one. One run per delivery, unless someone else
  started the same job with exactly the same arguments in that moment (that run is then taken as ours).

Only one dispatcher works at a time (a lease in ``trigger_leases``, taken over when its holder's process is gone
or its lease lapsed), so two ``lakeport scheduler`` processes never deliver the same delivery together.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from lakeport.errors import LakeportError
from lakeport.iam import Principal
from lakeport.metadata.times import now as utcnow
from lakeport.metadata.times import utc
from lakeport.observe.bus import bus_cursors, move_cursor
from lakeport.processes import HOST, process_alive
from lakeport.storage.events import event_cursors
from lakeport.triggers.model import (
    DASHBOARDS,
    EVENT,
    FAILED,
    JOB,
    MACHINE,
    OBJECT,
    PENDING,
    RULE,
    STARTED,
    STARTING,
    Rule,
    digest,
    execution_name,
    job_arguments,
    object_event,
    object_event_key,
    principal_of,
    scheduled_event,
)
from lakeport.triggers.patterns import ObjectPattern, matches
from lakeport.triggers.rules import Triggers
from lakeport.triggers.schedule_expressions import parse_schedule
from lakeport.triggers.schema import trigger_deliveries, trigger_leases, trigger_pending, trigger_rules
from lakeport.triggers.services import BusSource, EventSource, JobsTarget, LogSink, TargetServices

__all__ = ["PassReport", "Scheduler", "scheduler_for"]

log = logging.getLogger(__name__)

READ_LIMIT = 500  # events read per query
DELIVER_LIMIT = 5000  # deliveries attempted per pass
MAX_ATTEMPTS = 185  # as EventBridge's default retry policy
LEASE_SECONDS = 30.0
LEASE = "dispatcher"
MARK_EVERY = 50  # executions started between two writes marking them STARTED


@dataclass
class PassReport:
    """What one pass did."""

    taken: int = 0  # events taken by rules (deliveries recorded or events added to a batch)
    fired: int = 0  # schedule fires recorded
    batched: int = 0  # batch deliveries formed
    started: int = 0  # targets started
    failed: int = 0  # starts that failed (retried later)
    scanned: int = 0  # object events the watcher scan recorded
    resumed: int = 0  # orphaned state-machine executions this pass resumed
    skipped: bool = False  # another dispatcher holds the lease
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "taken": self.taken,
            "fired": self.fired,
            "batched": self.batched,
            "started": self.started,
            "failed": self.failed,
            "scanned": self.scanned,
            "resumed": self.resumed,
            "skipped": self.skipped,
            "errors": list(self.errors),
        }


class Scheduler:
    """Dispatch the triggers' rules and schedules (``lakeport scheduler``; ``lakeport serve`` runs it too)."""

    def __init__(
        self,
        *,
        triggers: Triggers,
        events: EventSource,
        bus: BusSource,
        logs: LogSink,
        services: Callable[[Principal], TargetServices],
        scan: Callable[[], int] | None = None,
        scan_interval: float = 10.0,
        recover: Callable[[], list[str]] | None = None,
        recover_interval: float = 5.0,
        evaluate: Callable[[], object] | None = None,
        evaluate_interval: float = 10.0,
        detach: bool = False,
    ) -> None:
        # detach: state machines start in a worker process of their own, which outlives this one (a single pass,
        # `lakeport scheduler --once`, exits at once); otherwise on this process's pool, as a long-lived loop does
        self.detach = detach
        self.recover = recover  # resumes state-machine executions whose runner died
        self.recover_interval = recover_interval
        self._last_recover = 0.0
        self.evaluate = evaluate  # one pass over the metric alarms (CloudWatch's evaluation)
        self.evaluate_interval = evaluate_interval
        self._last_evaluate = 0.0
        self.triggers = triggers
        self.db = triggers.db
        self.events = events
        self.bus = bus
        self.logs = logs
        self.services = services
        self.scan = scan
        self.scan_interval = scan_interval
        self.owner = f"{HOST}:{os.getpid()}"
        self._last_scan = 0.0
        self._services: dict[str, TargetServices] = {}

    # ---- the loop

    def run(
        self, stop: threading.Event, *, interval: float = 1.0, on_pass: Callable[[PassReport], None] | None = None
    ) -> None:
        """Run passes every ``interval`` seconds until ``stop`` is set (at once again after a busy pass). A pass
        that fails (the database unreachable, say) is reported and tried again after the interval."""
        try:
            while not stop.is_set():
                try:
                    report = self.run_once()
                except Exception as exc:  # the loop outlives a bad pass: nothing was lost, the next one retries
                    message = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
                    log.warning("scheduler pass failed: %s", message)
                    report = PassReport(errors=[f"pass failed, will retry: {message}"])
                if on_pass is not None:
                    on_pass(report)
                busy = report.taken or report.started or report.batched
                stop.wait(0 if busy and not report.skipped else interval)
        finally:
            self.release()

    def run_once(self, now: datetime | None = None, *, scan: bool | None = None) -> PassReport:
        """One pass; ``now`` (aware UTC) decides which schedules are due and which batches are ready."""
        report = PassReport()
        if not self._lease():
            report.skipped = True
            return report
        moment = now or utcnow()
        due_scan = scan if scan is not None else time.monotonic() - self._last_scan >= self.scan_interval
        if self.scan is not None and due_scan:
            self._last_scan = time.monotonic()
            try:
                report.scanned = self.scan()
            except LakeportError as exc:
                report.errors.append(f"scan: {exc.one_line()}")
        if self.recover is not None and time.monotonic() - self._last_recover >= self.recover_interval:
            self._last_recover = time.monotonic()
            try:
                report.resumed = len(self.recover())
            except LakeportError as exc:
                report.errors.append(f"resuming executions: {exc.one_line()}")
        if self.evaluate is not None and time.monotonic() - self._last_evaluate >= self.evaluate_interval:
            self._last_evaluate = time.monotonic()
            try:
                self.evaluate()
            except Exception as exc:  # alarms never stop the dispatcher
                text = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
                report.errors.append(f"evaluating alarms: {text}")
        for rule in self.triggers.enabled():
            try:
                if rule.source == OBJECT:
                    report.taken += self._take_objects(rule, moment)
                elif rule.source == EVENT:
                    report.taken += self._take_bus(rule, moment)
                else:
                    report.fired += self._fire(rule, moment)
                if rule.batch_window is not None:
                    report.batched += self._flush(rule, moment)
            except LakeportError as exc:
                report.errors.append(f"{rule.owner}: {exc.one_line()}")
                self._log(rule.owner, f"taking events failed, will retry: {exc.one_line()}", "ERROR")
        self._deliver(moment, report)
        return report

    def release(self) -> None:
        """Give up the lease (another dispatcher may start at once)."""
        try:
            self.db.run_write(
                lambda conn: conn.execute(
                    delete(trigger_leases).where(trigger_leases.c.name == LEASE, trigger_leases.c.owner == self.owner)
                )
            )
        except LakeportError:
            return

    # ---- the lease

    def _lease(self) -> bool:
        def work(conn: Connection) -> bool:
            stamp = utcnow()
            row = conn.execute(select(trigger_leases).where(trigger_leases.c.name == LEASE)).first()
            until = stamp + timedelta(seconds=LEASE_SECONDS)
            if row is None:
                conn.execute(trigger_leases.insert().values(name=LEASE, owner=self.owner, lease_until=until))
                return True
            if row.owner != self.owner and utc(row.lease_until) > stamp and _alive(row.owner):
                return False
            conn.execute(
                update(trigger_leases).where(trigger_leases.c.name == LEASE).values(owner=self.owner, lease_until=until)
            )
            return True

        return self.db.run_write(work)

    # ---- taking events

    def _take_objects(self, rule: Rule, moment: datetime) -> int:
        pattern = ObjectPattern.from_dict(rule.pattern or {})
        region, account = self.triggers.region, self.triggers.account_id
        taken = 0
        while True:
            position = self.events.position(rule.consumer)
            events = self.events.read(after=position, limit=READ_LIMIT)
            if not events:
                return taken
            wanted = [
                (object_event_key(e), object_event(e, region=region, account_id=account))
                for e in events
                if pattern.matches(e.bucket, e.key, e.event_name)
            ]
            last = events[-1].id
            if not self.db.run_write(
                partial(
                    self._take, rule=rule, wanted=wanted, expected=position, last=last, moment=moment, source=OBJECT
                )
            ):
                return taken  # another dispatcher moved the cursor meanwhile
            taken += len(wanted)

    def _take_bus(self, rule: Rule, moment: datetime) -> int:
        pattern = rule.pattern or {}
        taken = 0
        while True:
            position = self.bus.position(rule.consumer)
            events = self.bus.read(after=position, limit=READ_LIMIT)
            if not events:
                return taken
            shaped = [e.to_aws() for e in events]
            wanted = [(digest(e["id"]), e) for e in shaped if matches(pattern, e)]
            last = events[-1].position
            if not self.db.run_write(
                partial(self._take, rule=rule, wanted=wanted, expected=position, last=last, moment=moment, source=EVENT)
            ):
                return taken
            taken += len(wanted)

    def _take(
        self,
        conn: Connection,
        rule: Rule,
        wanted: list[tuple[str, dict[str, Any]]],
        expected: int,
        last: int,
        moment: datetime,
        source: str,
    ) -> bool:
        """Record what the events owe and move the cursor, in the caller's transaction."""
        cursors = event_cursors if source == OBJECT else bus_cursors
        current = conn.execute(select(cursors.c.position).where(cursors.c.consumer == rule.consumer)).scalar()
        if int(current or 0) != expected:
            return False
        if rule.batch_window is not None:
            known = _existing(conn, trigger_pending.c.event_key, trigger_pending.c.owner == rule.owner, wanted)
            rows = [
                {"owner": rule.owner, "event_key": key, "event": event, "received_at": moment}
                for key, event in wanted
                if key not in known
            ]
            if rows:
                conn.execute(trigger_pending.insert(), rows)
        else:
            self._record(conn, rule, [(key, target_input(rule, event)) for key, event in wanted], moment)
        if source == OBJECT:
            moved = conn.execute(
                update(event_cursors)
                .where(event_cursors.c.consumer == rule.consumer)
                .values(position=last, updated_at=moment)
            )
            if not moved.rowcount:
                conn.execute(event_cursors.insert().values(consumer=rule.consumer, position=last, updated_at=moment))
        else:
            move_cursor(conn, rule.consumer, last)
        return True

    def _record(self, conn: Connection, rule: Rule, items: list[tuple[str, Any]], moment: datetime) -> int:
        """Add deliveries (key, target input) for ``rule``; keys already recorded are left as they are."""
        known = _existing(conn, trigger_deliveries.c.key, trigger_deliveries.c.owner == rule.owner, items)
        rows = [
            {
                "owner": rule.owner,
                "key": key,
                "status": PENDING,
                "target_kind": rule.target_kind,
                "target": rule.target,
                "name": execution_name(rule.name, key),
                "input": json.dumps(payload, sort_keys=True, separators=(",", ":")),
                "principal": rule.principal,
                "run_id": None,
                "attempts": 0,
                "error": None,
                "created_at": moment,
                "attempted_at": None,
                "next_attempt_at": moment,
                "started_at": None,
            }
            for key, payload in items
            if key not in known
        ]
        if rows:
            conn.execute(trigger_deliveries.insert(), rows)
        return len(rows)

    # ---- batches

    def _flush(self, rule: Rule, moment: datetime) -> int:
        assert rule.batch_window is not None
        assert rule.batch_size is not None
        size, window = rule.batch_size, timedelta(seconds=rule.batch_window)

        def work(conn: Connection) -> int:
            rows = conn.execute(
                select(
                    trigger_pending.c.id,
                    trigger_pending.c.event_key,
                    trigger_pending.c.event,
                    trigger_pending.c.received_at,
                )
                .where(trigger_pending.c.owner == rule.owner)
                .order_by(trigger_pending.c.id)
            ).all()
            batches = [rows[i : i + size] for i in range(0, len(rows) - len(rows) % size, size)]
            rest = rows[len(batches) * size :]
            if rest and utc(rest[0].received_at) + window <= moment:
                batches.append(rest)
            if not batches:
                return 0
            items = [
                (
                    "b" + digest(*(r.event_key for r in batch))[:19],
                    target_input(rule, {"events": [r.event for r in batch]}),
                )
                for batch in batches
            ]
            self._record(conn, rule, items, moment)
            ids = [r.id for batch in batches for r in batch]
            for start in range(0, len(ids), 500):
                conn.execute(delete(trigger_pending).where(trigger_pending.c.id.in_(ids[start : start + 500])))
            return len(batches)

        return self.db.run_write(work)

    # ---- schedules

    def _fire(self, rule: Rule, moment: datetime) -> int:
        if rule.next_fire is None or rule.next_fire > moment or not rule.schedule:
            return 0
        expression = parse_schedule(rule.schedule)
        fire = rule.next_fire
        following = expression.next_after(max(moment, fire), anchor=rule.created_at)  # missed fires: once
        region, account = self.triggers.region, self.triggers.account_id
        event = scheduled_event(rule.arn, fire, region=region, account_id=account) if rule.kind == RULE else {}
        payload = target_input(rule, event)

        def work(conn: Connection) -> int:
            moved = conn.execute(
                update(trigger_rules)
                .where(
                    trigger_rules.c.kind == rule.kind,
                    trigger_rules.c.name == rule.name,
                    trigger_rules.c.next_fire == rule.next_fire,
                )
                .values(next_fire=following, last_fire=fire)
            )
            if not moved.rowcount:
                return 0  # fired by another pass meanwhile
            return self._record(conn, rule, [("t" + digest(fire.isoformat())[:19], payload)], moment)

        return self.db.run_write(work)

    # ---- delivering

    def _deliver(self, moment: datetime, report: PassReport) -> None:
        with self.db.read() as conn:
            rows = conn.execute(
                select(trigger_deliveries)
                .where(
                    trigger_deliveries.c.status.in_((PENDING, STARTING)),
                    trigger_deliveries.c.next_attempt_at <= moment,
                )
                .order_by(trigger_deliveries.c.created_at, trigger_deliveries.c.owner, trigger_deliveries.c.key)
                .limit(DELIVER_LIMIT)
            ).all()
        # Executions started are marked STARTED a few at a time: a start repeated after a crash returns the same
        # execution (same name, same input), so marking late loses nothing and saves a write per start.
        started: list[tuple[str, str, str]] = []
        try:
            for row in rows:
                try:
                    services = self._services_for(row.principal)
                    if row.target_kind == MACHINE:
                        arn = services.states.start_execution(
                            row.target, json.loads(row.input), name=row.name, detach=self.detach
                        ).arn
                        started.append((row.owner, row.key, arn))
                        if len(started) >= MARK_EVERY:
                            self._mark_started(started)
                    elif row.target_kind == DASHBOARDS:  # a report or a SPICE refresh, run here to its end
                        from lakeport.dashboards.schedules import run_target

                        run_id = run_target(services, row.target, json.loads(row.input))
                        self._mark_started([(row.owner, row.key, run_id)])
                    else:
                        run_id = self._start_job(services, row)
                        self._mark_started([(row.owner, row.key, run_id)])
                except Exception as exc:  # a failed start is retried on a later pass, never lost
                    report.failed += 1
                    message = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
                    self._failed(row, message, moment)
                    continue
                report.started += 1
        finally:
            self._mark_started(started)

    def _mark_started(self, started: list[tuple[str, str, str]]) -> None:
        if not started:
            return
        stamp = utcnow()

        def work(conn: Connection) -> None:
            for owner, key, run_id in started:
                conn.execute(
                    update(trigger_deliveries)
                    .where(trigger_deliveries.c.owner == owner, trigger_deliveries.c.key == key)
                    .values(status=STARTED, run_id=run_id, started_at=stamp, error=None)
                )

        self.db.run_write(work)
        started.clear()

    def _start_job(self, services: TargetServices, row: Any) -> str:
        jobs = services.jobs
        parameters = set(jobs.get_job(row.target).definition.parameters)
        stored = json.loads(row.input)
        arguments = job_arguments(stored["event"], parameters, stored.get("fixed"))
        if row.status == STARTING and row.attempted_at is not None:
            found = self._find_run(jobs, row, arguments)
            if found is not None:
                return found
        self._set(row.owner, row.key, status=STARTING, attempted_at=utcnow())
        return jobs.start_job_run(row.target, arguments=arguments).id

    def _find_run(self, jobs: JobsTarget, row: Any, arguments: dict[str, str]) -> str | None:
        """The run a crashed attempt may have started: same job and arguments, started since, not claimed."""
        since = utc(row.attempted_at) - timedelta(seconds=1)
        with self.db.read() as conn:
            claimed = set(
                conn.execute(
                    select(trigger_deliveries.c.run_id).where(
                        trigger_deliveries.c.target_kind == row.target_kind,
                        trigger_deliveries.c.target == row.target,
                        trigger_deliveries.c.run_id.is_not(None),
                    )
                ).scalars()
            )
        for run in jobs.list_job_runs(row.target, limit=100):
            same = {k: v for k, v in run.arguments.items() if k != "job-bookmark-option"} == arguments
            if same and utc(run.started_at) >= since and run.id not in claimed:
                return run.id
        return None

    def _failed(self, row: Any, message: str, moment: datetime) -> None:
        attempts = int(row.attempts) + 1
        pause = timedelta(seconds=min(2 ** min(attempts, 9), 300))
        status = FAILED if attempts >= MAX_ATTEMPTS else None
        values: dict[str, Any] = {"attempts": attempts, "error": message, "next_attempt_at": moment + pause}
        if status is not None:
            values["status"] = status
        try:
            self._set(row.owner, row.key, **values)
        except LakeportError as exc:
            log.warning("could not record a failed delivery: %s", exc.one_line())
        verdict = "gave up" if status else f"will retry in {int(pause.total_seconds())}s"
        self._log(
            row.owner,
            f"starting {row.target} for delivery {row.key} failed (attempt {attempts}), {verdict}: {message}",
            "ERROR",
        )

    def _set(self, owner: str, key: str, **values: Any) -> None:
        self.db.run_write(
            lambda conn: conn.execute(
                update(trigger_deliveries)
                .where(trigger_deliveries.c.owner == owner, trigger_deliveries.c.key == key)
                .values(**values)
            )
        )

    def _services_for(self, arn: str) -> TargetServices:
        found = self._services.get(arn)
        if found is None:
            found = self._services[arn] = self.services(principal_of(arn))
        return found

    def _log(self, owner: str, message: str, level: str = "INFO") -> None:
        try:
            self.logs.put(
                f"/lakeport/triggers/{owner.partition('/')[2]}", owner.partition("/")[0], message, level=level
            )
        except Exception:  # logs never stop the dispatcher
            log.warning("%s: %s", owner, message)


def target_input(rule: Rule, event: dict[str, Any]) -> Any:
    """What a delivery hands its target, from the event (or ``{"events": […]}``, a batch) and the fixed input.

    A state machine gets the event; a fixed input replaces it (EventBridge's ``Input``), except in a batch,
    which keeps its events and carries the fixed input as ``"input"``; a Scheduler schedule's event is its fixed
    input (``{}`` without one). A job gets ``{"event": …, "fixed": …}``, turned into arguments when it starts."""
    fixed = rule.fixed_input
    if rule.target_kind == JOB:
        return {"event": event, "fixed": fixed}
    if fixed is None:
        return event
    if "events" in event:
        return {**event, "input": fixed}
    return fixed


def _existing(conn: Connection, column: Any, where: Any, items: Sequence[tuple[str, Any]]) -> set[str]:
    keys = [key for key, _ in items]
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(conn.execute(select(column).where(where, column.in_(keys[start : start + 500]))).scalars())
    return found


def _alive(owner: str) -> bool:
    """Is the process holding the lease alive? (Only knowable on this host; elsewhere, trust the lease.)"""
    host, _, pid = owner.rpartition(":")
    if host != HOST or not pid.isdigit():
        return True
    return process_alive(int(pid))


class SchedulerHost(Protocol):
    """What :func:`scheduler_for` needs: the Lake has all of it."""

    @property
    def triggers(self) -> Triggers: ...
    @property
    def events(self) -> Any: ...
    @property
    def bus(self) -> Any: ...
    @property
    def logs(self) -> Any: ...
    @property
    def settings(self) -> Any: ...
    def as_principal(self, principal: Principal) -> Any: ...
    def watcher(self) -> Any: ...
    @property
    def states(self) -> Any: ...
    @property
    def alarms(self) -> Any: ...


def scheduler_for(lake: SchedulerHost, *, scan: bool = True, detach: bool = False) -> Scheduler:
    """The dispatcher of a lake: its rules, object events, bus, logs and services, and the watcher's scan (so
    files dropped into the lake's folders by hand trigger too) every ``events.scan_interval_seconds``. With
    ``detach``, the executions it starts run in worker processes of their own (for a pass that exits at once)."""

    def scan_store() -> int:
        return len(lake.watcher().scan().events)

    return Scheduler(
        triggers=lake.triggers,
        events=lake.events,
        bus=lake.bus,
        logs=lake.logs,
        services=lake.as_principal,
        scan=scan_store if scan else None,
        scan_interval=float(lake.settings.events.scan_interval_seconds),
        recover=lambda: lake.states.recover(),
        evaluate=lambda: lake.alarms.evaluate_alarms(),
        detach=detach,
    )
