"""State machines and executions as the service returns them (Step Functions' shapes), and their names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.metadata.times import iso, utc

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"
STATUSES = (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED)
STANDARD = "STANDARD"

# Step Functions: 1-80 characters, no whitespace, brackets, wildcards, quotes or the punctuation below.
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f]{1,80}$")


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not valid",
            hint='1-80 characters, without spaces, brackets, wildcards, quotes or <>{}[]?*"#%\\^|~`$&,;:/',
            code="InvalidName",
        )
    return name


def input_text(value: Any) -> str:
    """An execution input as canonical JSON text: JSON text is parsed first; None is ``{}``."""
    if value is None:
        return "{}"
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidInput(f"the execution input is not JSON: {exc}", code="InvalidExecutionInput") from None
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class StateMachine:
    name: str
    arn: str
    definition: str
    role_arn: str | None
    type: str
    created_at: datetime
    updated_at: datetime

    def to_aws(self) -> dict[str, Any]:
        """DescribeStateMachine's shape."""
        return {
            "stateMachineArn": self.arn,
            "name": self.name,
            "status": "ACTIVE",
            "definition": self.definition,
            "roleArn": self.role_arn,
            "type": self.type,
            "creationDate": iso(self.created_at),
            "updateDate": iso(self.updated_at),
        }

    def to_list_item(self) -> dict[str, Any]:
        """ListStateMachines' item shape."""
        return {
            "stateMachineArn": self.arn,
            "name": self.name,
            "type": self.type,
            "creationDate": iso(self.created_at),
        }


@dataclass(frozen=True)
class Execution:
    arn: str
    machine_arn: str
    machine: str
    name: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    principal: str
    started_at: datetime
    stopped_at: datetime | None
    current_state: str | None = None  # the state last entered while RUNNING (lakeport's addition)

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    def output_value(self) -> Any:
        return None if self.output is None else json.loads(self.output)

    def to_aws(self) -> dict[str, Any]:
        """DescribeExecution's shape (and lakeport's ``currentState``)."""
        out: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": iso(self.started_at),
            "input": self.input,
            "inputDetails": {"included": True},
        }
        if self.stopped_at is not None:
            out["stopDate"] = iso(self.stopped_at)
        if self.output is not None:
            out["output"] = self.output
            out["outputDetails"] = {"included": True}
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        if self.current_state is not None:
            out["currentState"] = self.current_state
        return out

    def to_list_item(self) -> dict[str, Any]:
        """ListExecutions' item shape."""
        out: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": iso(self.started_at),
        }
        if self.stopped_at is not None:
            out["stopDate"] = iso(self.stopped_at)
        return out


def machine_from_row(row: Any) -> StateMachine:
    return StateMachine(
        name=row.name,
        arn=row.arn,
        definition=row.definition,
        role_arn=row.role_arn,
        type=row.type,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def execution_from_row(row: Any, machine_arn: str, current_state: str | None = None) -> Execution:
    return Execution(
        arn=row.arn,
        machine_arn=machine_arn,
        machine=row.machine,
        name=row.name,
        status=row.status,
        input=row.input,
        output=row.output,
        error=row.error,
        cause=row.cause,
        principal=row.principal,
        started_at=utc(row.started_at),
        stopped_at=None if row.stopped_at is None else utc(row.stopped_at),
        current_state=current_state,
    )


def jsonable(value: Any) -> Any:
    """History details as JSON: datetimes become ISO text."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
