"""JSONPath as Amazon States Language uses it: read paths, reference paths and the context object ``$$``.

Supported syntax: ``$``, ``$.a.b``, ``$['a']``, ``$["a"]``, ``$.a[0]``, ``$.a[-1]``, ``$.a[1:3]``, ``$.a[*]``,
``$.*``, ``$..x``. A *reference path* (ResultPath, the ``Variable`` of a Choice rule, …Path comparisons) may only
name one node: keys and indexes, no wildcards, slices or descent. Filter expressions (``[?(...)]``) are refused.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from lakeport.states.failure import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesFailure


class PathSyntaxError(ValueError):
    """The text is not a path this module understands."""


class PathNotFound(LookupError):
    """The path names nothing in the data."""


@dataclass(frozen=True)
class Step:
    kind: str  # "key" | "index" | "wildcard" | "slice" | "descend"
    key: str = ""
    index: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class Path:
    text: str
    context: bool  # starts with $$
    steps: tuple[Step, ...]

    @property
    def definite(self) -> bool:
        return all(step.kind in ("key", "index") for step in self.steps)


_NAME = re.compile(r"[^.\[\]\s'\"()]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_SLICE = re.compile(r"\[\s*(-?\d*)\s*:\s*(-?\d*)\s*\]")
_QUOTED = re.compile(r"\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")\s*\]")


def parse(text: str) -> Path:
    """Parse ``text`` or raise :class:`PathSyntaxError` saying where it goes wrong."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"path {text!r} must start with '$'")
    context = text.startswith("$$")
    pos = 2 if context else 1
    steps: list[Step] = []
    while pos < len(text):
        rest = text[pos:]
        if rest.startswith(".."):
            name = _NAME.match(text, pos + 2)
            if not name:
                raise PathSyntaxError(f"path {text!r}: expected a name after '..' at {pos}")
            steps.append(Step("descend", key=name.group(0)))
            pos = name.end()
        elif rest.startswith(".*"):
            steps.append(Step("wildcard"))
            pos += 2
        elif rest.startswith("."):
            name = _NAME.match(text, pos + 1)
            if not name:
                raise PathSyntaxError(f"path {text!r}: expected a name after '.' at {pos}")
            steps.append(Step("key", key=name.group(0)))
            pos = name.end()
        elif rest.startswith("[?") or rest.startswith("[ ?"):
            raise PathSyntaxError(f"path {text!r}: filter expressions are not supported")
        elif re.match(r"\[\s*\*\s*\]", rest):
            steps.append(Step("wildcard"))
            pos += re.match(r"\[\s*\*\s*\]", rest).end()  # type: ignore[union-attr]
        elif m := _INDEX.match(rest):
            steps.append(Step("index", index=int(m.group(1))))
            pos += m.end()
        elif m := _SLICE.match(rest):
            start = int(m.group(1)) if m.group(1) else 0
            stop = int(m.group(2)) if m.group(2) else None
            steps.append(Step("slice", index=start, stop=stop))
            pos += m.end()
        elif m := _QUOTED.match(rest):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            steps.append(Step("key", key=re.sub(r"\\(.)", r"\1", raw)))
            pos += m.end()
        else:
            raise PathSyntaxError(f"path {text!r}: unexpected {rest[:10]!r} at {pos}")
    return Path(text, context, tuple(steps))


def is_path(text: Any) -> bool:
    try:
        parse(text)
    except PathSyntaxError:
        return False
    return True


def is_reference_path(text: Any) -> bool:
    try:
        return parse(text).definite
    except PathSyntaxError:
        return False


def _descend(node: Any, key: str, out: list[Any]) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                out.append(value)
            _descend(value, key, out)
    elif isinstance(node, list):
        for value in node:
            _descend(value, key, out)


def _apply(nodes: list[Any], step: Step) -> list[Any]:
    out: list[Any] = []
    for node in nodes:
        if step.kind == "key":
            if isinstance(node, dict) and step.key in node:
                out.append(node[step.key])
        elif step.kind == "index":
            if isinstance(node, list) and -len(node) <= step.index < len(node):
                out.append(node[step.index])
        elif step.kind == "slice":
            if isinstance(node, list):
                out.extend(node[step.index : step.stop])
        elif step.kind == "wildcard":
            if isinstance(node, list):
                out.extend(node)
            elif isinstance(node, dict):
                out.extend(node.values())
        else:
            _descend(node, step.key, out)
    return out


def read(path: str | Path, data: Any, context: Any = None) -> Any:
    """The value ``path`` names; an indefinite path gives the list of matches. Raises :class:`PathNotFound`."""
    parsed = parse(path) if isinstance(path, str) else path
    nodes = [context if parsed.context else data]
    for step in parsed.steps:
        nodes = _apply(nodes, step)
        if parsed.definite and not nodes:
            raise PathNotFound(f"the path {parsed.text!r} names nothing in the input")
    if parsed.definite:
        return nodes[0]
    return nodes


def exists(path: str | Path, data: Any, context: Any = None) -> bool:
    try:
        value = read(path, data, context)
    except PathNotFound:
        return False
    parsed = parse(path) if isinstance(path, str) else path
    return parsed.definite or bool(value)


def select(path: str | None, data: Any, field: str) -> Any:
    """InputPath / OutputPath: ``None`` gives ``{}``; a path that names nothing is ``States.Runtime``."""
    if path is None:
        return {}
    try:
        return read(path, data)
    except PathNotFound as exc:
        raise StatesFailure(RUNTIME, f"Invalid path '{path}' in {field}: {exc}") from None


def write(path: str | None, data: Any, value: Any) -> Any:
    """ResultPath: place ``value`` at ``path`` in a copy of ``data`` (``$`` replaces, ``None`` discards)."""
    if path is None:
        return data
    parsed = parse(path)
    if not parsed.steps:
        return value
    result = copy.deepcopy(data)
    node = result
    for i, step in enumerate(parsed.steps):
        last = i == len(parsed.steps) - 1
        if step.kind == "key" and isinstance(node, dict):
            if last:
                node[step.key] = value
            else:
                if step.key not in node:
                    node[step.key] = {}
                node = node[step.key]
        elif step.kind == "index" and isinstance(node, list) and -len(node) <= step.index < len(node):
            if last:
                node[step.index] = value
            else:
                node = node[step.index]
        else:
            raise StatesFailure(
                RESULT_PATH_MATCH_FAILURE,
                f"Unable to apply ResultPath '{path}' to the input {_short(data)}",
            )
    return result


def _short(data: Any) -> str:
    import json

    text = json.dumps(data, separators=(",", ":"))
    return text if len(text) <= 200 else text[:197] + "..."
