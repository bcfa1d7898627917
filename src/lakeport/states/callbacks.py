"""The callback pattern (``.waitForTaskToken``): a task hands out ``$$.Task.Token`` and waits for
SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat with that token.

The token names the execution and the task's journal step. The service's ``send_task_*`` calls record the
answer in the execution's journal (``<step>/callback``, heartbeats under ``<step>/heartbeat``), where the
waiting task finds it — also after a restart, since the journal is persisted.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakeport.errors import InvalidInput
from lakeport.states.failure import HEARTBEAT_TIMEOUT, TIMEOUT, StatesFailure
from lakeport.states.tasks import TaskContext

if TYPE_CHECKING:
    from lakeport.states.interpreter import Execution

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"
POLL_SECONDS = 0.2


def task_token(execution_arn: str, step: str) -> str:
    raw = json.dumps({"execution": execution_arn, "step": step}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str) -> tuple[str, str]:
    """(execution ARN, step) of a task token, or InvalidInput (code InvalidToken)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found = json.loads(raw)
        return str(found["execution"]), str(found["step"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            "the task token is not one lakeport issued", hint="pass $$.Task.Token as given", code="InvalidToken"
        ) from None


def callback_key(step: str) -> str:
    return f"{step}/callback"


def heartbeat_key(step: str) -> str:
    return f"{step}/heartbeat"


def await_callback(
    execution: Execution, context: TaskContext, started: datetime, timeout: int | None, heartbeat: int | None
) -> Any:
    """Wait for the token's answer: its output, or StatesFailure with the error and cause it was sent with."""
    journal = execution.journal
    answer_key, beat_key = callback_key(context.step), heartbeat_key(context.step)
    while True:
        found, answer = journal.refresh(answer_key)
        if found:
            if "error" in answer:
                raise StatesFailure(str(answer["error"] or ""), str(answer.get("cause") or ""))
            return answer.get("output")
        moment = execution.clock.now()
        if timeout is not None and (moment - started).total_seconds() > timeout:
            raise StatesFailure(TIMEOUT, f"No answer to the task token within TimeoutSeconds ({timeout})")
        if heartbeat is not None:
            beat, last = journal.refresh(beat_key)
            since = datetime.fromisoformat(last) if beat else started
            if (moment - since).total_seconds() > heartbeat:
                raise StatesFailure(HEARTBEAT_TIMEOUT, f"No heartbeat for more than HeartbeatSeconds ({heartbeat})")
        execution.check()  # stopped, or the execution's own deadline passed
        execution.clock.sleep(POLL_SECONDS)
