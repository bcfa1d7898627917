"""Intrinsic functions (``States.Format(...)`` and friends); the grammar is in :mod:`intrinsic_syntax`.

Any bad argument raises ``States.IntrinsicFailure``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from lakeport.states import paths
from lakeport.states.intrinsic_syntax import Call, Literal, PathArg, fail, is_intrinsic, parse_call

__all__ = ["FUNCTIONS", "evaluate", "is_intrinsic", "parse"]


def parse(text: str) -> Call:
    """Parse ``text``; unknown function names are ``States.IntrinsicFailure`` too."""
    call = parse_call(text)
    _check_names(call)
    return call


def _check_names(call: Call) -> None:
    if call.name not in FUNCTIONS:
        raise fail(f"unknown intrinsic function {call.name!r}")
    for arg in call.args:
        if isinstance(arg, Call):
            _check_names(arg)


def evaluate(text: str, data: Any, context: Any) -> Any:
    """Evaluate the call in ``text`` against the state's effective input and the context object."""
    return _eval(parse(text), data, context)


def _eval(call: Call, data: Any, context: Any) -> Any:
    if call.name not in FUNCTIONS:
        raise fail(f"unknown intrinsic function {call.name!r}")
    values: list[Any] = []
    for arg in call.args:
        if isinstance(arg, Call):
            values.append(_eval(arg, data, context))
        elif isinstance(arg, PathArg):
            try:
                values.append(paths.read(arg.path, data, context))
            except (paths.PathNotFound, paths.PathSyntaxError) as exc:
                raise fail(f"{call.name}: {exc}") from None
        elif isinstance(arg, Literal):
            values.append(re.sub(r"\\([{}])", r"\1", str(arg)))
        else:
            values.append(arg)
    if call.name == "States.Format":
        return _format(call, values)
    return FUNCTIONS[call.name](values)


def _arity(name: str, values: list[Any], *counts: int) -> None:
    if len(values) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise fail(f"{name} takes {expected} arguments, got {len(values)}")


def _want(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise fail(f"{name}: expected {what}, got {json.dumps(value)}")
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return int(_want(name, value, int, "an integer"))


def _render(value: Any) -> str:
    """How States.Format shows a value: strings as they are, objects and arrays as Java renders maps and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_render(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _rounded(name: str, value: Any) -> int:
    """A number rounded to the nearest integer, halves upwards (as Java's Math.round; AWS rounds these)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise fail(f"{name}: expected a number, got {json.dumps(value)}")
    return int(value) if isinstance(value, int) else math.floor(value + 0.5)


def _format(call: Call, values: list[Any]) -> str:
    if not call.args:
        raise fail("States.Format: a template string is required")
    if isinstance(call.args[0], Literal):
        template = str(call.args[0])
    else:
        template = _want("States.Format", values[0], str, "a template string")
    pieces = re.split(r"(\\[{}]|\{\})", template)
    holes = pieces.count("{}")
    if holes != len(values) - 1:
        raise fail(f"States.Format: the template has {holes} placeholders but {len(values) - 1} arguments were given")
    out: list[str] = []
    args = iter(values[1:])
    for piece in pieces:
        if piece == "{}":
            out.append(_render(next(args)))
        else:
            out.append(piece[1:] if piece in ("\\{", "\\}") else piece)
    return "".join(out)


def _string_to_json(v: list[Any]) -> Any:
    _arity("States.StringToJson", v, 1)
    text = _want("States.StringToJson", v[0], str, "a string")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise fail(f"States.StringToJson: {exc}") from None


def _json_to_string(v: list[Any]) -> str:
    _arity("States.JsonToString", v, 1)
    return json.dumps(v[0], separators=(",", ":"))


def _array_partition(v: list[Any]) -> list[Any]:
    _arity("States.ArrayPartition", v, 2)
    items = _want("States.ArrayPartition", v[0], list, "an array")
    size = _integer("States.ArrayPartition", v[1])
    if size <= 0:
        raise fail("States.ArrayPartition: the chunk size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(v: list[Any]) -> bool:
    _arity("States.ArrayContains", v, 2)
    items = _want("States.ArrayContains", v[0], list, "an array")
    return any(_same(item, v[1]) for item in items)


def _same(a: Any, b: Any) -> bool:
    return (type(a) is type(b) and a == b) or (_is_number(a) and _is_number(b) and a == b)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _array_range(v: list[Any]) -> list[int]:
    _arity("States.ArrayRange", v, 3)
    start, end, step = (_integer("States.ArrayRange", x) for x in v)
    if step == 0:
        raise fail("States.ArrayRange: the step must not be 0")
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        raise fail("States.ArrayRange: the result may hold at most 1000 items")
    return out


def _array_get_item(v: list[Any]) -> Any:
    _arity("States.ArrayGetItem", v, 2)
    items = _want("States.ArrayGetItem", v[0], list, "an array")
    index = _integer("States.ArrayGetItem", v[1])
    if not 0 <= index < len(items):
        raise fail(f"States.ArrayGetItem: index {index} is out of bounds for an array of {len(items)}")
    return items[index]


def _array_length(v: list[Any]) -> int:
    _arity("States.ArrayLength", v, 1)
    return len(_want("States.ArrayLength", v[0], list, "an array"))


def _array_unique(v: list[Any]) -> list[Any]:
    _arity("States.ArrayUnique", v, 1)
    out: list[Any] = []
    for item in _want("States.ArrayUnique", v[0], list, "an array"):
        if not any(_same(item, seen) for seen in out):
            out.append(item)
    return out


def _base64_encode(v: list[Any]) -> str:
    _arity("States.Base64Encode", v, 1)
    text = _want("States.Base64Encode", v[0], str, "a string")
    if len(text) > 10000:
        raise fail("States.Base64Encode: the input may hold at most 10000 characters")
    return base64.b64encode(text.encode()).decode()


def _base64_decode(v: list[Any]) -> str:
    _arity("States.Base64Decode", v, 1)
    text = _want("States.Base64Decode", v[0], str, "a string")
    if len(text) > 10000:
        raise fail("States.Base64Decode: the input may hold at most 10000 characters")
    try:
        return base64.b64decode(text, validate=True).decode()
    except ValueError as exc:
        raise fail(f"States.Base64Decode: {exc}") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(v: list[Any]) -> str:
    _arity("States.Hash", v, 2)
    if v[0] is None:
        raise fail("States.Hash: the data must not be null")
    text = v[0] if isinstance(v[0], str) else json.dumps(v[0], separators=(",", ":"))
    if len(text) > 10000:
        raise fail("States.Hash: the data may hold at most 10000 characters")
    algorithm = _want("States.Hash", v[1], str, "an algorithm name")
    if algorithm not in _HASHES:
        raise fail(f"States.Hash: unknown algorithm {algorithm!r}; use one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _json_merge(v: list[Any]) -> dict[str, Any]:
    _arity("States.JsonMerge", v, 3)
    left = _want("States.JsonMerge", v[0], dict, "an object")
    right = _want("States.JsonMerge", v[1], dict, "an object")
    if v[2] is not False:
        raise fail("States.JsonMerge: only a shallow merge (false) is supported")
    return {**left, **right}


def _math_random(v: list[Any]) -> int:
    _arity("States.MathRandom", v, 2, 3)
    start, end = _rounded("States.MathRandom", v[0]), _rounded("States.MathRandom", v[1])
    if start >= end:
        raise fail("States.MathRandom: the start must be less than the end")
    rng = random.Random(_integer("States.MathRandom", v[2])) if len(v) == 3 else random
    return rng.randrange(start, end)


def _math_add(v: list[Any]) -> int:
    _arity("States.MathAdd", v, 2)
    a, b = _rounded("States.MathAdd", v[0]), _rounded("States.MathAdd", v[1])
    for n in (a, b):
        if not -(2**31) <= n < 2**31:
            raise fail("States.MathAdd: arguments must be 32-bit integers")
    return a + b


def _string_split(v: list[Any]) -> list[str]:
    _arity("States.StringSplit", v, 2)
    text = _want("States.StringSplit", v[0], str, "a string")
    separators = _want("States.StringSplit", v[1], str, "a string of separator characters")
    if not separators:
        return [text]
    return [piece for piece in re.split("[" + re.escape(separators) + "]", text) if piece]


def _uuid(v: list[Any]) -> str:
    _arity("States.UUID", v, 0)
    return str(uuid.uuid4())


def _array(v: list[Any]) -> list[Any]:
    return list(v)


FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "States.Format": lambda v: None,  # handled by _format, which needs the raw template
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
