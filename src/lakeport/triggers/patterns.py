"""Which events a rule takes: EventBridge event patterns, and the shorter object-event pattern.

**Event patterns** (EventBridge content filtering) are JSON objects whose keys follow the event's fields
(``source``, ``detail-type``, ``detail`` → nested keys) and whose leaves are arrays of matchers; a field matches
when any matcher in its array does, and an event matches when every field of the pattern does. Matchers:

* a literal (string, number, ``true``/``false``, ``null``): equality (numbers compare as numbers);
* ``{"prefix": "s"}``, ``{"suffix": "s"}``, ``{"equals-ignore-case": "s"}``, ``{"wildcard": "a*b"}``, and
  ``{"prefix": {"equals-ignore-case": "s"}}`` / ``{"suffix": {"equals-ignore-case": "s"}}``;
* ``{"anything-but": v}`` with ``v`` a literal, a list of literals, or ``{"prefix"|"suffix"|"equals-ignore-case":
  …}`` (the field must be present);
* ``{"numeric": [">", 0, "<=", 5]}`` (``=``, ``<``, ``<=``, ``>``, ``>=``; one or two comparisons);
* ``{"exists": true|false}``;
* ``"$or": [pattern, pattern, …]`` at any level.

When the event's field is an array, the field matches when any of its elements does.

**Object patterns** say which object events (S3 notifications) a rule takes: a bucket, a key prefix, a key
suffix and event names (``ObjectCreated:*`` by default; ``ObjectCreated:Put``, ``ObjectRemoved:*``, …).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lakeport.errors import InvalidInput

__all__ = ["ObjectPattern", "check_event_pattern", "matches", "parse_object_pattern"]

_HINT = 'an event pattern looks like {"source": ["aws.glue"], "detail": {"state": ["FAILED"]}}; see docs/triggers.md'
_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists")
_NUMERIC = ("=", "<", "<=", ">", ">=")
_MISSING = object()


def _bad(path: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"event pattern, {path or 'top level'}: {message}", hint=_HINT, code="InvalidEventPatternException"
    )


# ---- validation


def check_event_pattern(pattern: Any) -> dict[str, Any]:
    """The pattern, validated; InvalidInput naming the field path at fault otherwise."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise _bad("", "the pattern must be a non-empty JSON object")
    _check_object(pattern, "")
    return dict(pattern)


def _check_object(pattern: Mapping[str, Any], path: str) -> None:
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, Mapping) for v in value):
                raise _bad(where, '"$or" takes a list of at least two patterns')
            for i, option in enumerate(value):
                _check_object(option, f"{where}[{i}]")
        elif isinstance(value, Mapping):
            if not value:
                raise _bad(where, "an empty object matches nothing")
            _check_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise _bad(where, "an empty list matches nothing")
            for matcher in value:
                _check_matcher(matcher, where)
        else:
            raise _bad(where, f"the value must be a list of matchers (e.g. [{_json(value)}]) or an object")


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _check_matcher(matcher: Any, where: str) -> None:
    if matcher is None or isinstance(matcher, str | bool | int | float):
        return
    if not isinstance(matcher, Mapping) or len(matcher) != 1:
        raise _bad(where, f"{_json(matcher)} is not a literal or a one-key matcher object")
    ((name, arg),) = matcher.items()
    if name not in _OPERATORS:
        raise _bad(where, f"unknown matcher {name!r} (known: {', '.join(_OPERATORS)})")
    if name in ("prefix", "suffix"):
        if (
            isinstance(arg, Mapping)
            and set(arg) == {"equals-ignore-case"}
            and isinstance(arg["equals-ignore-case"], str)
        ):
            return
        if not isinstance(arg, str):
            raise _bad(where, f'"{name}" takes a string')
    elif name in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise _bad(where, f'"{name}" takes a string')
    elif name == "exists":
        if not isinstance(arg, bool):
            raise _bad(where, '"exists" takes true or false')
    elif name == "anything-but":
        if isinstance(arg, Mapping):
            if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                raise _bad(
                    where, '"anything-but" takes a literal, a list, or {"prefix"|"suffix"|"equals-ignore-case": …}'
                )
            inner = next(iter(arg.values()))
            if not (isinstance(inner, str) or (isinstance(inner, list) and all(isinstance(i, str) for i in inner))):
                raise _bad(where, '"anything-but" with a matcher takes a string or a list of strings')
        elif isinstance(arg, list):
            if not arg or not all(a is None or isinstance(a, str | int | float) for a in arg):
                raise _bad(where, '"anything-but" takes a non-empty list of strings or numbers')
        elif not (arg is None or isinstance(arg, str | int | float)):
            raise _bad(where, '"anything-but" takes a string, a number or a list of them')
    elif name == "numeric":
        if not isinstance(arg, list) or len(arg) not in (2, 4):
            raise _bad(where, '"numeric" takes one or two comparisons: [">", 0] or [">", 0, "<=", 5]')
        for op, number in zip(arg[0::2], arg[1::2], strict=True):
            if op not in _NUMERIC:
                raise _bad(where, f'"numeric": {op!r} is not one of {", ".join(_NUMERIC)}')
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise _bad(where, f'"numeric": {_json(number)} is not a number')


# ---- matching


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Does ``event`` (EventBridge's shape) match ``pattern`` (already checked)?"""
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(matches(option, event) for option in wanted):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(wanted, Mapping):
            if not isinstance(value, Mapping):
                return False
            if not matches(wanted, value):
                return False
        elif not _field_matches(wanted, value):
            return False
    return True


def _field_matches(matchers: Sequence[Any], value: Any) -> bool:
    candidates = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, Mapping) and "exists" in matcher:
            present = value is not _MISSING
            if present == matcher["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        if any(_one(matcher, candidate) for candidate in candidates):
            return True
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _literal_equal(matcher: Any, value: Any) -> bool:
    left, right = _number(matcher), _number(value)
    if left is not None and right is not None:
        return math.isclose(left, right, rel_tol=0, abs_tol=1e-9)
    if isinstance(matcher, bool) or isinstance(value, bool):
        return matcher is value
    return bool(matcher == value)


def _text_match(name: str, arg: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    subject: str = value
    if name in ("prefix", "suffix") and isinstance(arg, Mapping):
        text, subject = str(arg["equals-ignore-case"]).casefold(), subject.casefold()
    else:
        text = str(arg)
    if name == "prefix":
        return subject.startswith(text)
    if name == "suffix":
        return subject.endswith(text)
    if name == "equals-ignore-case":
        return subject.casefold() == text.casefold()
    # wildcard: * matches any run of characters, nothing else is special
    pattern = ".*".join(re.escape(part) for part in text.split("*"))
    return re.fullmatch(pattern, subject, flags=re.DOTALL) is not None


def _one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _literal_equal(matcher, value)
    ((name, arg),) = matcher.items()
    if name in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        return _text_match(name, arg, value)
    if name == "anything-but":
        if isinstance(arg, Mapping):
            ((inner, text),) = arg.items()
            texts = text if isinstance(text, list) else [text]
            return isinstance(value, str) and not any(_text_match(inner, t, value) for t in texts)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_literal_equal(e, value) for e in excluded)
    if name == "numeric":
        number = _number(value)
        if number is None:
            return False
        for op, bound in zip(arg[0::2], arg[1::2], strict=True):
            ok = {
                "=": number == bound,
                "<": number < bound,
                "<=": number <= bound,
                ">": number > bound,
                ">=": number >= bound,
            }[op]
            if not ok:
                return False
        return True
    return False


# ---- object patterns


@dataclass(frozen=True)
class ObjectPattern:
    """Which object events a rule takes."""

    bucket: str | None = None
    prefix: str = ""
    suffix: str = ""
    events: tuple[str, ...] = ("ObjectCreated:*",)

    def matches(self, bucket: str, key: str, event_name: str) -> bool:
        if self.bucket is not None and bucket != self.bucket:
            return False
        if not key.startswith(self.prefix) or not key.endswith(self.suffix):
            return False
        return any(fnmatch.fnmatchcase(event_name, wanted) for wanted in self.events)

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "prefix": self.prefix, "suffix": self.suffix, "events": list(self.events)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectPattern:
        return cls(
            bucket=data.get("bucket"),
            prefix=data.get("prefix") or "",
            suffix=data.get("suffix") or "",
            events=tuple(data.get("events") or ("ObjectCreated:*",)),
        )


_EVENT_NAME = re.compile(r"^Object(Created|Removed):(\*|[A-Za-z]+)$")


def parse_object_pattern(value: str | Mapping[str, Any], default_bucket: str | None = None) -> ObjectPattern:
    """``bucket=lake,prefix=staging/,suffix=.csv,events=ObjectCreated:*`` (events separated by ``|``), or a dict."""
    if isinstance(value, str):
        data: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            name, eq, text = part.partition("=")
            if not eq:
                raise InvalidInput(
                    f"object pattern: {part!r} is not name=value",
                    hint="e.g. bucket=lake,prefix=staging/spotify/,suffix=.csv",
                )
            data[name.strip()] = text.split("|") if name.strip() == "events" else text
    else:
        data = dict(value)
    unknown = sorted(set(data) - {"bucket", "prefix", "suffix", "events"})
    if unknown:
        raise InvalidInput(
            f"object pattern: unknown field {unknown[0]!r}", hint="the fields are bucket, prefix, suffix and events"
        )
    events = tuple(data.get("events") or ("ObjectCreated:*",))
    for name in events:
        if not _EVENT_NAME.match(name):
            raise InvalidInput(
                f"object pattern: event name {name!r} is not valid",
                hint="e.g. ObjectCreated:*, ObjectCreated:Put, ObjectCreated:Copy, ObjectRemoved:*",
            )
    return ObjectPattern(
        bucket=data.get("bucket") or default_bucket,
        prefix=data.get("prefix") or "",
        suffix=data.get("suffix") or "",
        events=events,
    )
