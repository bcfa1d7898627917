"""The errors a state machine raises at run time, named as Step Functions names them (``States.*``)."""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
BRANCH_FAILED = "States.BranchFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
PERMISSIONS = "States.Permissions"

PAYLOAD_LIMIT_BYTES = 262_144  # 256 KiB of UTF-8 JSON: the most a state's input, output or a task result may hold

# Terminal errors: neither States.ALL nor an explicit name retries or catches them (AWS error-handling docs).
UNCATCHABLE = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesFailure(Exception):
    """A failure inside an execution: an error name and a cause, as they appear in the history."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class TaskFailed(StatesFailure):
    """Raised by a task integration: the task ran and failed with ``error`` (any name) and ``cause``."""


def check_payload(value: object, what: str) -> None:
    """Raise States.DataLimitExceeded when ``value`` as JSON is over the payload quota (256 KiB)."""
    import json

    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))
    if size > PAYLOAD_LIMIT_BYTES:
        raise StatesFailure(
            DATA_LIMIT_EXCEEDED,
            f"The {what} has {size} bytes, more than the payload limit of {PAYLOAD_LIMIT_BYTES} bytes",
        )
