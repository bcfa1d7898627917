"""The argument grammar of intrinsic functions: ``States.Name(arg, ...)``.

Arguments are string literals in single quotes (escapes ``\\'``, ``\\{``, ``\\}``, ``\\\\``), numbers, ``true``,
``false``, ``null``, JSONPaths (``$.x``, ``$$.Execution.Id``) and nested calls (at most 10 deep).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lakeport.states.failure import INTRINSIC_FAILURE, StatesFailure

MAX_NESTING = 10


def fail(message: str) -> StatesFailure:
    return StatesFailure(INTRINSIC_FAILURE, message)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class PathArg:
    path: str


class Literal(str):
    """A string argument; kept distinct from paths."""


_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_FN = re.compile(r"States\.[A-Za-z0-9]+")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> StatesFailure:
        return fail(f"invalid intrinsic function {self.text!r}: {what} at position {self.pos}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise self.error(f"more than {MAX_NESTING} nested calls")
        m = _FN.match(self.text, self.pos)
        if not m:
            raise self.error("expected a function name")
        self.pos = m.end()
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.error("expected '('")
        self.pos += 1
        args: list[Any] = []
        self.skip()
        if self.text[self.pos : self.pos + 1] == ")":
            self.pos += 1
            return Call(m.group(0), ())
        while True:
            self.skip()
            args.append(self.argument(depth))
            self.skip()
            ch = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if ch == ")":
                return Call(m.group(0), tuple(args))
            if ch != ",":
                raise self.error("expected ',' or ')'")

    def argument(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        if text.startswith("'", pos):
            out: list[str] = []
            pos += 1
            while pos < len(text) and text[pos] != "'":
                if text[pos] == "\\" and pos + 1 < len(text):
                    out.append(text[pos : pos + 2] if text[pos + 1] in "{}" else text[pos + 1])
                    pos += 2
                else:
                    out.append(text[pos])
                    pos += 1
            if pos >= len(text):
                raise self.error("unterminated string")
            self.pos = pos + 1
            return Literal("".join(out))
        if text.startswith("States.", pos):
            return self.call(depth + 1)
        if text.startswith("$", pos):
            end = pos
            depth_brackets = 0
            while end < len(text):
                ch = text[end]
                if ch == "[":
                    depth_brackets += 1
                elif ch == "]":
                    depth_brackets -= 1
                elif ch in ",)" and depth_brackets == 0:
                    break
                end += 1
            self.pos = end
            return PathArg(text[pos:end].strip())
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return value
        m = _NUMBER.match(text, pos)
        if m:
            self.pos = m.end()
            return float(m.group(0)) if (m.group(1) or m.group(2)) else int(m.group(0))
        raise self.error("expected an argument")


def parse_call(text: str) -> Call:
    parser = _Parser(text.strip())
    call = parser.call(1)
    if parser.pos != len(parser.text):
        raise parser.error("unexpected text after the call")
    return call


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.strip().startswith("States.")
