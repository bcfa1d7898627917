"""``lake.states``: state machines and their executions, persisted in the metadata DB (Step Functions' API).

Executions run on a thread pool of this process (``wait=True`` runs one in the caller's thread; ``detach=True``
in a worker process of their own). Each history event is written as the interpreter emits it, and each step's
outcome is journaled, so an execution whose process dies is resumed by :meth:`StateMachines.recover` without
redoing what it finished (see :mod:`lakeport.states.runners`). An execution's tasks call lakeport's services
as the principal that started it (or, when the machine has a role, as that role assumed by
``states.amazonaws.com``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, desc, func, select, update
from sqlalchemy.engine import Connection

from lakeport.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from lakeport.iam import IAM, Principal, service_principal
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import now, utc
from lakeport.observe import LogStore
from lakeport.observe.bus import emit_execution_status
from lakeport.observe.metrics_emit import emit_execution
from lakeport.processes import start_worker
from lakeport.states import definition as asl
from lakeport.states import graph, integrations
from lakeport.states.callbacks import callback_key, heartbeat_key, read_token
from lakeport.states.clock import Clock, SystemClock
from lakeport.states.executions import (
    ABORTED,
    FAILED,
    RUNNING,
    STANDARD,
    STATUSES,
    Execution,
    StateMachine,
    check_name,
    execution_from_row,
    input_text,
    jsonable,
    machine_from_row,
)
from lakeport.states.failure import RUNTIME
from lakeport.states.interpreter import run
from lakeport.states.runners import RENEW_SECONDS, StoredJournal, lease_end, orphaned, this_runner
from lakeport.states.schema import state_checkpoints, state_executions, state_history, state_machines

__all__ = ["StateMachines"]

_RUNNING: dict[str, threading.Event] = {}  # execution ARN → its stop event, for executions running in this process
_RUNNING_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
WATCH_SECONDS = 0.5  # how often a running execution looks for a stop recorded by another process


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _RUNNING_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeport-states")
        return _POOL


class StateMachineDoesNotExist(NotFound):
    default_code = "StateMachineDoesNotExist"


class ExecutionDoesNotExist(NotFound):
    default_code = "ExecutionDoesNotExist"


class StateMachineAlreadyExists(AlreadyExists):
    default_code = "StateMachineAlreadyExists"


class ExecutionAlreadyExists(AlreadyExists):
    default_code = "ExecutionAlreadyExists"


class _Interruptible:
    """A clock whose real sleeps end early when the execution is stopped."""

    def __init__(self, clock: Clock, stop: threading.Event) -> None:
        self.clock = clock
        self.stop = stop

    @property
    def real_time(self) -> bool:
        return bool(getattr(self.clock, "real_time", True))

    def now(self) -> datetime:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        if isinstance(self.clock, SystemClock):
            self.stop.wait(max(seconds, 0))
        else:
            self.clock.sleep(seconds)


class StateMachines:
    """Create, run and inspect state machines (Step Functions)."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        logs: LogStore,
        services: Callable[[Principal], integrations.Services],
        region: str,
        account_id: str,
        clock: Clock | None = None,
        lake_root: Path | None = None,
    ) -> None:
        self.lake_root = lake_root  # where detached runs keep their worker logs
        self.db = db
        self.iam = iam
        self.principal = principal
        self.logs = logs
        self.services = services
        self.region = region
        self.account_id = account_id
        self.clock: Clock = clock or SystemClock()

    # ---- names

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{name}"

    def execution_arn(self, machine: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:execution:{machine}:{name}"

    @staticmethod
    def machine_name(ref: str) -> str:
        """A machine's name from its name or ARN."""
        if ref.startswith("arn:"):
            parts = ref.split(":")
            if len(parts) != 7 or parts[5] != "stateMachine":
                raise InvalidInput(f"{ref!r} is not a state machine ARN", code="InvalidArn")
            return parts[6]
        return ref

    def _execution_ref(self, ref: str) -> tuple[str, str]:
        """(machine, execution) from an execution ARN, ``MACHINE/EXECUTION`` or ``MACHINE:EXECUTION``."""
        if ref.startswith("arn:"):
            parts = ref.split(":")
            if len(parts) != 8 or parts[5] != "execution":
                raise InvalidInput(f"{ref!r} is not an execution ARN", code="InvalidArn")
            return parts[6], parts[7]
        for separator in ("/", ":"):
            if separator in ref:
                machine, _, name = ref.partition(separator)
                return machine, name
        raise InvalidInput(
            f"{ref!r} names no execution", hint="give an execution ARN or MACHINE/EXECUTION", code="InvalidArn"
        )

    def _authorize(self, action: str, resource: str) -> None:
        self.iam.authorize(self.principal, f"states:{action}", resource)

    # ---- state machines

    def validate(self, definition: str | dict[str, Any]) -> list[asl.Problem]:
        """Every problem of a definition, each naming the state and the field (ValidateStateMachineDefinition)."""
        self._authorize("ValidateStateMachineDefinition", "*")
        return asl.validate(definition)

    def create_state_machine(
        self,
        name: str,
        definition: str | dict[str, Any],
        *,
        role_arn: str | None = None,
        type: str = STANDARD,
    ) -> StateMachine:
        check_name("state machine", name)
        arn = self.machine_arn(name)
        self._authorize("CreateStateMachine", arn)
        text = _definition_text(definition)
        if type != STANDARD:
            raise InvalidInput(f"state machine type {type!r} is not supported", hint="use STANDARD")

        def work(conn: Connection) -> None:
            row = conn.execute(select(state_machines).where(state_machines.c.name == name)).first()
            if row is not None:
                if row.definition == text and row.role_arn == role_arn:
                    return  # Step Functions: the same request again is idempotent
                raise StateMachineAlreadyExists(
                    f"state machine {name} already exists with another definition or role",
                    hint=f"update it with: lakeport sfn update {name}",
                )
            stamp = now()
            conn.execute(
                state_machines.insert().values(
                    name=name,
                    arn=arn,
                    definition=text,
                    role_arn=role_arn,
                    type=type,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )

        self.db.run_write(work)
        return self._machine(name)

    def update_state_machine(
        self, ref: str, *, definition: str | dict[str, Any] | None = None, role_arn: str | None = None
    ) -> StateMachine:
        name = self.machine_name(ref)
        self._authorize("UpdateStateMachine", self.machine_arn(name))
        values: dict[str, Any] = {"updated_at": now()}
        if definition is not None:
            values["definition"] = _definition_text(definition)
        if role_arn is not None:
            values["role_arn"] = role_arn
        self._machine(name)
        self.db.run_write(
            lambda conn: conn.execute(update(state_machines).where(state_machines.c.name == name).values(**values))
        )
        return self._machine(name)

    def describe_state_machine(self, ref: str) -> StateMachine:
        name = self.machine_name(ref)
        self._authorize("DescribeStateMachine", self.machine_arn(name))
        return self._machine(name)

    def machine_graph(
        self, ref: str, *, execution: str | None = None
    ) -> tuple[StateMachine, graph.Graph, dict[str, str] | None]:
        """The machine, its graph, and — with ``execution`` (a name, ``MACHINE/NAME`` or an ARN) — each state's
        status as that execution saw it (what ``sfn graph`` and the console draw)."""
        machine = self.describe_state_machine(ref)
        drawn = graph.build(machine.definition)
        if execution is None:
            return machine, drawn, None
        found = execution if execution.startswith("arn:") or "/" in execution else f"{machine.name}/{execution}"
        run = self.describe_execution(found)
        return machine, drawn, graph.statuses_from_history(self.get_execution_history(run.arn), run.status)

    def list_state_machines(self) -> list[StateMachine]:
        self._authorize("ListStateMachines", "*")
        with self.db.read() as conn:
            rows = conn.execute(select(state_machines).order_by(state_machines.c.name)).all()
        return [machine_from_row(r) for r in rows]

    def delete_state_machine(self, ref: str) -> None:
        """Delete a machine: its running executions are stopped; its executions and history go with it."""
        name = self.machine_name(ref)
        self._authorize("DeleteStateMachine", self.machine_arn(name))
        self._machine(name)
        with self.db.read() as conn:
            arns = list(
                conn.execute(select(state_executions.c.arn).where(state_executions.c.machine == name)).scalars()
            )
        for arn in arns:
            _signal_stop(arn)

        def work(conn: Connection) -> None:
            if arns:
                conn.execute(delete(state_history).where(state_history.c.execution.in_(arns)))
                conn.execute(delete(state_checkpoints).where(state_checkpoints.c.execution.in_(arns)))
            conn.execute(delete(state_executions).where(state_executions.c.machine == name))
            conn.execute(delete(state_machines).where(state_machines.c.name == name))

        self.db.run_write(work)

    def _machine(self, name: str) -> StateMachine:
        with self.db.read() as conn:
            row = conn.execute(select(state_machines).where(state_machines.c.name == name)).first()
        if row is None:
            raise StateMachineDoesNotExist(
                f"state machine {name} does not exist", hint="lakeport sfn list shows the machines"
            )
        return machine_from_row(row)

    # ---- executions

    def start_execution(
        self, ref: str, input: Any = None, *, name: str | None = None, wait: bool = False, detach: bool = False
    ) -> Execution:
        """Start an execution: on this process's pool; in this thread with ``wait`` (returning it finished); in a
        worker process of its own with ``detach`` (it outlives this process: the CLI's ``start`` without --wait).

        A ``name`` already used with the same input returns that execution; with another input it is refused
        with ExecutionAlreadyExists."""
        machine_name = self.machine_name(ref)
        self._authorize("StartExecution", self.machine_arn(machine_name))
        machine = self._machine(machine_name)
        text = input_text(input)
        execution_name = check_name("execution", name or str(uuid.uuid4()))
        arn = self.execution_arn(machine_name, execution_name)
        runner = self._runner_principal(machine, execution_name)
        me = this_runner()

        def work(conn: Connection) -> bool:
            row = conn.execute(select(state_executions).where(state_executions.c.arn == arn)).first()
            if row is not None:
                if row.input == text:
                    return False
                raise ExecutionAlreadyExists(
                    f"execution {execution_name} of {machine_name} already exists with another input",
                    hint="give the execution another name, or none",
                )
            started = now()
            conn.execute(
                state_executions.insert().values(
                    arn=arn,
                    machine=machine_name,
                    name=execution_name,
                    status=RUNNING,
                    input=text,
                    output=None,
                    error=None,
                    cause=None,
                    definition=machine.definition,
                    role_arn=machine.role_arn,
                    principal=runner.arn,
                    started_at=started,
                    stopped_at=None,
                    runner=me,
                    lease_until=lease_end(started),
                )
            )
            return True

        if not self.db.run_write(work):
            return self._execution(arn)
        if detach and self.lake_root is not None:
            self._detach(arn, runner, me)
            return self._execution(arn)
        stop = threading.Event()
        with _RUNNING_LOCK:
            _RUNNING[arn] = stop
        if wait:
            self._execute(arn, runner, stop)
        else:
            _pool().submit(self._execute, arn, runner, stop)
        return self._execution(arn)

    def _detach(self, arn: str, runner: Principal, me: str) -> None:
        """Hand a recorded execution to a worker process (it claims the execution from ``me``)."""
        assert self.lake_root is not None
        log = self.lake_root / ".lakeport" / "workers" / f"execution-{uuid.uuid5(uuid.NAMESPACE_URL, arn)}.log"
        start_worker(["execution", str(self.lake_root), arn, me, runner.arn], log, before_fork=self.db.dispose)

    def run_claimed(self, arn: str, previous_runner: str) -> Execution:
        """Run (or resume) an execution in this thread, if this process can claim it from ``previous_runner``
        (the worker side of ``detach``); another process that claimed it first keeps it."""
        if not self._claim(arn, previous_runner):
            return self._execution(arn)
        with self.db.read() as conn:
            row = conn.execute(select(state_executions).where(state_executions.c.arn == arn)).one()
        self._run_resumed(row, wait=True)
        return self._execution(arn)

    def recover(self, *, wait: bool = False) -> list[str]:
        """Resume every execution whose runner has died (lease lapsed, or its process on this host is gone).

        Each resumes from its journal: finished tasks are not run again, a Wait sleeps only what is left of it.
        Returns the ARNs this process claimed; with ``wait``, returns when they have ended."""
        moment = now()
        with self.db.read() as conn:
            rows = conn.execute(select(state_executions).where(state_executions.c.status == RUNNING)).all()
        claimed: list[str] = []
        for row in rows:
            if not orphaned(row.runner, row.lease_until, moment):
                continue
            try:
                self._authorize("StartExecution", self.machine_arn(row.machine))
            except Exception:  # the caller may not run this machine: leave it for one who may
                continue
            if not self._claim(row.arn, row.runner):
                continue
            claimed.append(row.arn)
            self._log(row.machine, row.name, f"execution {row.name} resumed by {this_runner()}")
            self._run_resumed(row, wait=wait)
        return claimed

    def _claim(self, arn: str, previous_runner: str | None) -> bool:
        me = this_runner()

        def work(conn: Connection) -> bool:
            where = [state_executions.c.arn == arn, state_executions.c.status == RUNNING]
            if previous_runner is None:
                where.append(state_executions.c.runner.is_(None))
            else:
                where.append(state_executions.c.runner == previous_runner)
            done = conn.execute(update(state_executions).where(*where).values(runner=me, lease_until=lease_end()))
            return bool(done.rowcount == 1)

        return self.db.run_write(work)

    def _run_resumed(self, row: Any, *, wait: bool) -> None:
        if row.role_arn:
            role = row.role_arn.rsplit("/", 1)[-1]
            runner = self.iam.assume_role(service_principal("states.amazonaws.com"), role, row.name)
        else:
            runner = Principal(arn=row.principal, name=row.principal.rsplit("/", 1)[-1])
        stop = threading.Event()
        with _RUNNING_LOCK:
            _RUNNING[row.arn] = stop
        if wait:
            self._execute(row.arn, runner, stop)
        else:
            _pool().submit(self._execute, row.arn, runner, stop)

    def _runner_principal(self, machine: StateMachine, execution_name: str) -> Principal:
        if not machine.role_arn:
            return self.principal
        role = machine.role_arn.rsplit("/", 1)[-1]
        return self.iam.assume_role(service_principal("states.amazonaws.com"), role, execution_name)

    def describe_execution(self, ref: str) -> Execution:
        machine, name = self._execution_ref(ref)
        arn = self.execution_arn(machine, name)
        self._authorize("DescribeExecution", arn)
        return self._execution(arn)

    def list_executions(self, ref: str, *, status: str | None = None, limit: int = 100) -> list[Execution]:
        """Executions of a machine, newest first; with ``status``, only those."""
        name = self.machine_name(ref)
        self._authorize("ListExecutions", self.machine_arn(name))
        self._machine(name)
        statement = select(state_executions).where(state_executions.c.machine == name)
        if status is not None:
            if status not in STATUSES:
                raise InvalidInput(f"status {status!r} is not one of {', '.join(STATUSES)}")
            statement = statement.where(state_executions.c.status == status)
        statement = statement.order_by(desc(state_executions.c.started_at)).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(statement).all()
        return [execution_from_row(r, self.machine_arn(name)) for r in rows]

    def get_execution_history(self, ref: str, *, reverse: bool = False) -> list[dict[str, Any]]:
        """The execution's events as GetExecutionHistory returns them (timestamps as ISO text)."""
        machine, name = self._execution_ref(ref)
        arn = self.execution_arn(machine, name)
        self._authorize("GetExecutionHistory", arn)
        self._execution(arn)
        order = desc(state_history.c.id) if reverse else state_history.c.id
        with self.db.read() as conn:
            rows = conn.execute(select(state_history).where(state_history.c.execution == arn).order_by(order)).all()
        events = []
        for row in rows:
            event: dict[str, Any] = {
                "id": row.id,
                "previousEventId": row.previous_id,
                "timestamp": jsonable(utc(row.timestamp)),
                "type": row.type,
            }
            event.update(row.details or {})
            events.append(event)
        return events

    def stop_execution(self, ref: str, *, error: str | None = None, cause: str | None = None) -> Execution:
        """Stop a running execution: ABORTED at once; its running task is stopped too."""
        machine, name = self._execution_ref(ref)
        arn = self.execution_arn(machine, name)
        self._authorize("StopExecution", arn)
        current = self._execution(arn)
        if current.status != RUNNING:
            raise Conflict(f"execution {name} of {machine} is already {current.status}", code="ValidationException")
        self.db.run_write(
            lambda conn: conn.execute(
                update(state_executions)
                .where(state_executions.c.arn == arn, state_executions.c.status == RUNNING)
                .values(status=ABORTED, error=error, cause=cause, stopped_at=now())
            )
        )
        _signal_stop(arn)
        self._announce(arn)
        self._log(machine, name, f"execution ABORTED on request{': ' + error if error else ''}")
        return self._execution(arn)

    # ---- callbacks (.waitForTaskToken)

    def send_task_success(self, token: str, output: Any) -> None:
        """Answer a ``.waitForTaskToken`` task: it succeeds with ``output`` (SendTaskSuccess)."""
        self._answer(token, "SendTaskSuccess", callback_key, {"output": output})

    def send_task_failure(self, token: str, *, error: str | None = None, cause: str | None = None) -> None:
        """Answer a ``.waitForTaskToken`` task: it fails with ``error`` and ``cause`` (SendTaskFailure)."""
        self._answer(token, "SendTaskFailure", callback_key, {"error": error or "", "cause": cause or ""})

    def send_task_heartbeat(self, token: str) -> None:
        """Tell a waiting task its worker is alive: its HeartbeatSeconds count again from now."""
        self._answer(token, "SendTaskHeartbeat", heartbeat_key, now().isoformat())

    def _answer(self, token: str, action: str, key_of: Callable[[str], str], value: Any) -> None:
        arn, step = read_token(token)
        with self.db.read() as conn:
            row = conn.execute(
                select(state_executions.c.machine, state_executions.c.status).where(state_executions.c.arn == arn)
            ).first()
        if row is None:
            raise InvalidInput("the task token names no execution", code="InvalidToken")
        self._authorize(action, self.machine_arn(row.machine))
        if row.status != RUNNING:
            raise Conflict(f"the task's execution is {row.status}: the token is no longer valid", code="TaskTimedOut")
        key = key_of(step)

        def work(conn: Connection) -> bool:
            if action == "SendTaskHeartbeat":
                conn.execute(
                    delete(state_checkpoints).where(
                        state_checkpoints.c.execution == arn, state_checkpoints.c.key == key
                    )
                )
            elif conn.execute(
                select(state_checkpoints.c.key).where(
                    state_checkpoints.c.execution == arn, state_checkpoints.c.key == key
                )
            ).first():
                return False
            conn.execute(state_checkpoints.insert().values(execution=arn, key=key, value=value, created_at=now()))
            return True

        if not self.db.run_write(work):
            raise Conflict("the task was answered already: the token is no longer valid", code="TaskTimedOut")

    def wait(
        self, ref: str, *, timeout: float | None = None, on_update: Callable[[Execution], None] | None = None
    ) -> Execution:
        """Poll an execution until it has finished (or ``timeout`` seconds have passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            execution = self.describe_execution(ref)
            if on_update is not None:
                on_update(execution)
            if execution.finished or (deadline is not None and time.monotonic() > deadline):
                return execution
            time.sleep(0.1)

    def _execution(self, arn: str) -> Execution:
        with self.db.read() as conn:
            row = conn.execute(select(state_executions).where(state_executions.c.arn == arn)).first()
            current = None
            if row is not None and row.status == RUNNING:
                current = conn.execute(
                    select(state_history.c.details)
                    .where(state_history.c.execution == arn, state_history.c.type.like("%StateEntered"))
                    .order_by(desc(state_history.c.id))
                    .limit(1)
                ).scalar()
        if row is None:
            raise ExecutionDoesNotExist(f"execution {arn} does not exist")
        state = (current or {}).get("stateEnteredEventDetails", {}).get("name")
        return execution_from_row(row, self.machine_arn(row.machine), state)

    # ---- running

    def _execute(self, arn: str, runner: Principal, stop: threading.Event) -> None:
        """Run an execution this process has claimed, replaying its journal if it ran before."""
        execution = self._execution(arn)
        machine, name = execution.machine, execution.name
        with self.db.read() as conn:
            row = conn.execute(select(state_executions).where(state_executions.c.arn == arn)).one()
            recorded = conn.execute(
                select(func.coalesce(func.max(state_history.c.id), 0)).where(state_history.c.execution == arn)
            ).scalar_one()
        journal = StoredJournal(self.db, arn)
        lost = threading.Event()  # another process has claimed the execution: this one lets go, writing nothing

        def on_event(event: dict[str, Any]) -> None:
            details = {k: jsonable(v) for k, v in event.items() if k.endswith("EventDetails")}

            def write(conn: Connection) -> str:
                conn.execute(
                    state_history.insert().values(
                        execution=arn,
                        id=event["id"],
                        previous_id=event["previousEventId"],
                        type=event["type"],
                        timestamp=event["timestamp"],
                        details=details,
                    )
                )
                status: str = conn.execute(
                    select(state_executions.c.status).where(state_executions.c.arn == arn)
                ).scalar_one()
                return status

            if self.db.run_write(write) != RUNNING:  # stopped from another process
                stop.set()
            entered = details.get("stateEnteredEventDetails")
            if entered is not None:
                self._log(machine, name, f"{event['type']}: {entered.get('name')}")

        context = {
            "Execution": {"Id": arn, "Name": name, "RoleArn": row.role_arn},
            "StateMachine": {"Id": self.machine_arn(machine), "Name": machine},
        }
        if not recorded:
            self._log(machine, name, f"execution {name} started as {runner.arn}")
        finished = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(arn, stop, finished, lost), daemon=True)
        watcher.start()
        try:
            tasks = integrations.registry(self.services(runner), stop)
            result = run(
                row.definition,
                json.loads(row.input),
                tasks=tasks,
                clock=_Interruptible(self.clock, stop),
                context=context,
                stop=stop,
                on_event=on_event,
                journal=journal,
                replayed_events=int(recorded),
                started=utc(row.started_at),
            )
            status, output, error, cause = result.status, result.output, result.error, result.cause
        except Exception as exc:  # a bug or a lost database: the execution fails, saying why
            status, output, error, cause = FAILED, None, RUNTIME, f"{type(exc).__name__}: {exc}"
        finally:
            finished.set()
            with _RUNNING_LOCK:
                _RUNNING.pop(arn, None)
        if lost.is_set():
            return
        values: dict[str, Any] = {"status": status, "error": error, "cause": cause, "stopped_at": now()}
        if status == "SUCCEEDED":
            values["output"] = json.dumps(output)

        def finish(conn: Connection) -> bool:
            done = conn.execute(
                update(state_executions)
                .where(
                    state_executions.c.arn == arn,
                    state_executions.c.status == RUNNING,
                    state_executions.c.runner == this_runner(),
                )
                .values(**values, lease_until=None)
            )
            if done.rowcount == 1:  # the journal is needed only while the execution may resume
                conn.execute(delete(state_checkpoints).where(state_checkpoints.c.execution == arn))
            return bool(done.rowcount == 1)

        if self.db.run_write(finish):
            self._announce(arn)
        level = "INFO" if status == "SUCCEEDED" else "ERROR"
        self._log(machine, name, f"execution {status}" + (f": {error}: {cause}" if error else ""), level)

    def _watch(self, arn: str, stop: threading.Event, finished: threading.Event, lost: threading.Event) -> None:
        """Renew this process's lease on the execution, and stop it when another process has marked it ABORTED
        (``lakeport sfn stop``) or claimed it (this process was thought dead)."""
        me = this_runner()
        renewed = time.monotonic()
        while not finished.wait(WATCH_SECONDS):
            try:
                with self.db.read() as conn:
                    row = conn.execute(
                        select(state_executions.c.status, state_executions.c.runner).where(
                            state_executions.c.arn == arn
                        )
                    ).first()
                if row is not None and row.status == RUNNING and row.runner == me:
                    if time.monotonic() - renewed >= RENEW_SECONDS:
                        self.db.run_write(
                            lambda conn: conn.execute(
                                update(state_executions)
                                .where(state_executions.c.arn == arn, state_executions.c.runner == me)
                                .values(lease_until=lease_end())
                            )
                        )
                        renewed = time.monotonic()
                    continue
            except Exception:  # the database is briefly unreachable: look again later
                continue
            if row is not None and row.status == RUNNING:
                lost.set()
            stop.set()
            return

    def _announce(self, arn: str) -> None:
        """Put "Step Functions Execution Status Change" on the bus (rules on finished executions read it)."""
        try:
            emit_execution_status(
                self.db, self._execution(arn).to_aws(), region=self.region, account_id=self.account_id
            )
            emit_execution(self.db, self._execution(arn).to_aws())  # AWS/States metrics; never raises
        except Exception:  # the bus is a convenience: it never fails an execution
            return

    def _log(self, machine: str, execution: str, message: str, level: str = "INFO") -> None:
        try:
            self.logs.put(f"/lakeport/states/{machine}", execution, message, level=level)
        except Exception:  # logs are a convenience: they never fail an execution
            return


def _signal_stop(arn: str) -> None:
    with _RUNNING_LOCK:
        found = _RUNNING.get(arn)
    if found is not None:
        found.set()


def _definition_text(definition: str | dict[str, Any]) -> str:
    """The definition as text, after validation (InvalidInput naming the first problem's state and field)."""
    asl.parse(definition)
    return definition if isinstance(definition, str) else json.dumps(definition, indent=2)
