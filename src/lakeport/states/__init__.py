"""Step Functions for lakeport: Amazon States Language definitions, validated and run.

This first slice is the interpreter core: :func:`parse`/:func:`validate` a definition, :func:`run` it with a
:class:`TaskRunner` (a :class:`TaskRegistry` of Python callables keyed by resource ARN) and a clock.
"""

from lakeport.states.clock import Clock, FakeClock, SystemClock
from lakeport.states.definition import Problem, parse, validate
from lakeport.states.failure import StatesFailure, TaskFailed
from lakeport.states.interpreter import ExecutionResult, run
from lakeport.states.tasks import TaskContext, TaskRegistry, TaskRunner

__all__ = [
    "Clock",
    "ExecutionResult",
    "FakeClock",
    "Problem",
    "StatesFailure",
    "SystemClock",
    "TaskContext",
    "TaskFailed",
    "TaskRegistry",
    "TaskRunner",
    "parse",
    "run",
    "validate",
]
