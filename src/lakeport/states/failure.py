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
