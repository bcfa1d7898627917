"""Finding and calling a function's handler: ``module:function`` imported, then called as Lambda calls it.

A handler is imported with the lake's ``functions/`` folder first on ``sys.path`` (then the process's own
``sys.path``), so a module dropped into ``<lake>/functions/`` is found without installing it; the folder is on the
path while the module is imported, so a handler's module imports its helper modules at its top. A module that lives
in that folder is imported again when its file changed (or when another lake's folder holds a module of the same
name), so an edited handler takes effect on its next call, as UpdateFunctionCode does on AWS.

:func:`call` runs the handler as ``fn(event, context)`` in a thread of its own and stops waiting at the timeout
(Python cannot kill a thread: a handler that runs past its timeout is abandoned, still running, as a Lambda
sandbox's late work is lost).
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lakeport.errors import InvalidInput

Handler = Callable[[Any, "LambdaContext"], Any]

_IMPORT_LOCK = threading.RLock()
_LOADED: dict[str, tuple[str, int]] = {}  # module name → (its file, that file's mtime) when loaded from a lake


class Stopping(Protocol):
    """A signal that the caller stopped waiting (a ``threading.Event`` is one)."""

    def is_set(self) -> bool: ...


class HandlerImportError(InvalidInput):
    default_code = "InvalidParameterValueException"


def split_handler(handler: str) -> tuple[str, str]:
    """``module.sub:function`` → (``module.sub``, ``function``), or InvalidInput saying what the form is."""
    module, sep, attribute = handler.partition(":")
    parts = [*module.split("."), *attribute.split(".")]
    if not sep or not module or not attribute or not all(p.isidentifier() for p in parts):
        raise HandlerImportError(
            f"handler {handler!r} is not of the form module:function",
            hint="e.g. my_functions:handler, for def handler(event, context) in functions/my_functions.py",
        )
    return module, attribute


def _lake_file(root: Path | None, module: str) -> Path | None:
    """The file ``module`` would be loaded from in the lake's functions folder, if there is one there."""
    if root is None:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _forget(module: str) -> None:
    """Drop ``module`` (and the packages above it, and modules below it) from the import cache."""
    top = module.split(".")[0]
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        sys.modules.pop(name, None)
        _LOADED.pop(name, None)


def load_handler(handler: str, root: Path | None) -> Handler:
    """Import ``module:function`` (the lake's ``functions/`` folder first) and return the callable.

    Raises :class:`HandlerImportError` naming the module or attribute that cannot be found, or the error the
    module raised while importing."""
    module_name, attribute = split_handler(handler)
    with _IMPORT_LOCK:
        local = _lake_file(root, module_name)
        if local is not None:
            stamp = (str(local), local.stat().st_mtime_ns)
            cached = sys.modules.get(module_name)
            if cached is not None and _LOADED.get(module_name) != stamp:
                _forget(module_name)
        elif module_name in _LOADED:  # loaded from another lake's folder: not this lake's module
            _forget(module_name)
        if module_name not in sys.modules:
            importlib.invalidate_caches()  # a file written since the folder was last listed
        added = root is not None and str(root) not in sys.path
        if added:
            sys.path.insert(0, str(root))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            where = f"{root} or " if root is not None else ""
            raise HandlerImportError(
                f"cannot import module {exc.name or module_name!r} for handler {handler!r}",
                hint=f"put {module_name.replace('.', '/')}.py in {where}a folder on the Python path",
            ) from None
        except Exception as exc:  # the module itself failed while importing
            raise HandlerImportError(
                f"importing module {module_name!r} for handler {handler!r} failed: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            if added:
                sys.path.remove(str(root))
        if local is not None:
            _LOADED[module_name] = (str(local), local.stat().st_mtime_ns)
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise HandlerImportError(
                f"module {module_name!r} has no attribute {attribute!r} (handler {handler!r})",
                hint=f"define def {attribute}(event, context) in {getattr(module, '__file__', module_name)}",
            )
    if not callable(target):
        raise HandlerImportError(f"{handler!r} is not callable (it is a {type(target).__name__})")
    handler_fn: Handler = target
    return handler_fn


@dataclass
class LambdaContext:
    """The ``context`` a handler receives, with the attributes of AWS Lambda's Python context object."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    timeout: float
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "128"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Outcome:
    """What a call produced: the JSON payload, and for an error Lambda's ``FunctionError`` (``Unhandled``)."""

    payload: Any
    function_error: str | None = None


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's Python runtime payload for an exception raised by the handler."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # without the frame of our own call
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def call(
    handler: Handler,
    event: Any,
    context: LambdaContext,
    *,
    stop: Stopping | None = None,
) -> Outcome:
    """Call ``handler(event, context)`` in its own thread; at most ``context.timeout`` seconds are waited.

    ``event`` must already be JSON (a fresh copy the handler may change). A result that is not JSON becomes
    ``Runtime.MarshalError``; ``stop`` being set ends the wait early with ``Runtime.Stopped`` (lakeport's)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["result"] = handler(event, context)
        except BaseException as exc:  # everything the handler raises is the function's error
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name=f"lakeport-function-{context.function_name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + context.timeout
    while not done.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            message = f"{context.aws_request_id} Task timed out after {context.timeout:.2f} seconds"
            return Outcome({"errorMessage": message}, "Unhandled")
        if stop is not None and stop.is_set():
            message = f"{context.aws_request_id} the invocation was abandoned: its caller was stopped"
            return Outcome({"errorMessage": message, "errorType": "Runtime.Stopped"}, "Unhandled")
        done.wait(min(left, 0.05) if stop is not None else left)
    if "error" in box:
        return Outcome(error_payload(box["error"], context.aws_request_id), "Unhandled")
    try:
        payload = json.loads(json.dumps(box.get("result")))
    except (TypeError, ValueError) as exc:
        return Outcome(
            {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": context.aws_request_id,
                "stackTrace": [],
            },
            "Unhandled",
        )
    return Outcome(payload)
