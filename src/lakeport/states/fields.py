"""Which fields each part of a definition may hold (JSONPath query language)."""

from __future__ import annotations

TOP = frozenset({"StartAt", "States", "Comment", "TimeoutSeconds", "Version", "QueryLanguage"})
BRANCH = frozenset({"StartAt", "States", "Comment"})
PROCESSOR = BRANCH | {"ProcessorConfig"}

_COMMON = {"Type", "Comment", "InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_RESULT = {"ResultPath", "ResultSelector", "Parameters", "Retry", "Catch"}

BY_TYPE: dict[str, frozenset[str]] = {
    "Task": frozenset(
        _COMMON
        | _FLOW
        | _RESULT
        | {
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        }
    ),
    "Pass": frozenset(_COMMON | _FLOW | {"Parameters", "Result", "ResultPath"}),
    "Choice": frozenset(_COMMON | {"Choices", "Default"}),
    "Wait": frozenset(_COMMON | _FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}),
    "Succeed": frozenset(_COMMON),
    "Fail": frozenset({"Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"}),
    "Parallel": frozenset(_COMMON | _FLOW | _RESULT | {"Branches"}),
    "Map": frozenset(
        _COMMON
        | _FLOW
        | _RESULT
        | {
            "ItemsPath",
            "ItemSelector",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "ToleratedFailureCount",
            "ToleratedFailurePercentage",
        }
    ),
}

# Fields AWS accepts that lakeport does not run yet, with what they belong to.
LATER: dict[str, str] = {
    "Assign": "variables, JSONata mode",
    "Arguments": "JSONata mode",
    "Output": "JSONata mode",
    "QueryLanguage": "per-state query language, JSONata mode",
    "ItemReader": "Distributed Map",
    "ItemBatcher": "Distributed Map",
    "ResultWriter": "Distributed Map",
    "Label": "Distributed Map",
    "MaxConcurrencyPath": "Distributed Map",
    "ToleratedFailureCountPath": "Distributed Map",
    "ToleratedFailurePercentagePath": "Distributed Map",
}

RETRIER = frozenset(
    {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"}
)
CATCHER = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment"})
