"""Input and output processing of one state, in the order the spec gives.

JSONPath mode: ``InputPath`` → ``Parameters`` (or ``ItemSelector``) → the state's work → ``ResultSelector`` →
``ResultPath`` → ``OutputPath``. Each step is a method of :class:`JsonPathProcessing`; a JSONata processor (the
``QueryLanguage`` switch: ``Arguments``/``Output``/``Assign``) will implement the same :class:`Processing` protocol
and be chosen by :func:`processing_for`.
"""

from __future__ import annotations

from typing import Any, Protocol

from lakeport.states import intrinsics, paths
from lakeport.states.failure import PARAMETER_PATH_FAILURE, RUNTIME, StatesFailure

_MISSING = object()


class Processing(Protocol):
    def effective_input(self, state: dict[str, Any], raw: Any, context: Any) -> Any: ...

    def result(self, state: dict[str, Any], raw_result: Any, context: Any) -> Any: ...

    def output(self, state: dict[str, Any], raw_input: Any, result: Any) -> Any: ...

    def pass_result(self, state: dict[str, Any], effective: Any) -> Any: ...

    def error_output(self, raw_input: Any, catcher: dict[str, Any], error: dict[str, str]) -> Any: ...


def render(template: Any, data: Any, context: Any, field: str) -> Any:
    """Fill a payload template (Parameters, ResultSelector, ItemSelector): ``key.$`` values are paths or calls."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = _dynamic(key, value, data, context, field)
            else:
                out[key] = render(value, data, context, field)
        return out
    if isinstance(template, list):
        return [render(item, data, context, field) for item in template]
    return template


def _dynamic(key: str, value: str, data: Any, context: Any, field: str) -> Any:
    if intrinsics.is_intrinsic(value):
        return intrinsics.evaluate(value, data, context)
    try:
        return paths.read(value, data, context)
    except paths.PathNotFound:
        raise StatesFailure(
            PARAMETER_PATH_FAILURE,
            f"The JSONPath '{value}' specified for the field '{key}' in {field} could not be found in the input",
        ) from None
    except paths.PathSyntaxError as exc:
        raise StatesFailure(RUNTIME, f"{field} field '{key}': {exc}") from None


class JsonPathProcessing:
    """The JSONPath query language (the default, ``QueryLanguage: JSONPath``)."""

    def effective_input(self, state: dict[str, Any], raw: Any, context: Any) -> Any:
        data = paths.select(state.get("InputPath", "$"), raw, "InputPath")
        template = state.get("ItemSelector", state.get("Parameters", _MISSING))
        if state.get("Type") == "Map":  # a Map's ItemSelector/Parameters applies per item, not here
            return data
        if template is not _MISSING:
            data = render(template, data, context, "Parameters")
        return data

    def result(self, state: dict[str, Any], raw_result: Any, context: Any) -> Any:
        if "ResultSelector" in state:
            return render(state["ResultSelector"], raw_result, context, "ResultSelector")
        return raw_result

    def output(self, state: dict[str, Any], raw_input: Any, result: Any) -> Any:
        merged = paths.write(state.get("ResultPath", "$"), raw_input, result)
        return paths.select(state.get("OutputPath", "$"), merged, "OutputPath")

    def error_output(self, raw_input: Any, catcher: dict[str, Any], error: dict[str, str]) -> Any:
        return paths.write(catcher.get("ResultPath", "$"), raw_input, error)

    def pass_result(self, state: dict[str, Any], effective: Any) -> Any:
        return state.get("Result", effective)


def processing_for(query_language: str | None) -> Processing:
    if query_language in (None, "JSONPath"):
        return JsonPathProcessing()
    raise StatesFailure(RUNTIME, f"QueryLanguage {query_language!r} is not supported yet")
