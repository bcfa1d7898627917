"""CloudWatch Logs filter patterns: what ``filter_log_events``, ``lakeport logs tail --filter`` and the console use.

Four forms, chosen by the first character of the pattern (AWS's "Filter pattern syntax"):

* **terms** ``ERROR Exception`` — every term appears in the message (case-sensitive, as a substring);
  ``"exact phrase"`` quotes a term with spaces or symbols; ``?ERROR ?WARN`` — any of the ``?`` terms;
  ``-DEBUG`` — the term must not appear. An empty pattern (or ``""``) matches every event.
* **JSON** ``{ $.level = "ERROR" && ($.duration > 100 || $.user.id = 5) }`` — selectors ``$.a.b[0].c``;
  ``=``/``!=`` on strings (``*`` is a wildcard, ``%regex%`` a regular expression) and numbers; ``<``, ``>``,
  ``<=``, ``>=`` on numbers; ``IS NULL``, ``NOT EXISTS``, ``EXISTS``, ``IS TRUE``, ``IS FALSE``; ``&&``, ``||``
  and parentheses. A comparison on a missing field (or a field of the wrong type) is false.
* **space-delimited** ``[ip, user, ..., status = 404, size > 1000]`` — the message split on spaces (a
  ``"quoted"`` or ``[bracketed]`` run is one field), named by position; ``...`` stands for any number of fields.
* **regex** ``%ERROR|WARN%`` — a regular expression searched in the message.

What a JSON pattern reads: the message itself when it is a JSON object; otherwise lakeport's structured event,
``{"level": ..., "message": ..., **fields}`` (so ``{ $.level = "ERROR" }`` and ``{ $.run_id = "jr_*" }`` work on
every lakeport event). Terms, space-delimited and regex patterns read the message text only.

``sql_terms`` is what a database can check first (a conjunction of disjunctions of substrings: in the message;
for JSON patterns, the plain strings a match must equal, in the message, the level or the fields' JSON text); the
match in Python is always the final word, so a case-insensitive ``LIKE`` is a safe pre-filter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lakeport.errors import InvalidInput

_MISSING = object()
HINT = 'terms (ERROR "exact phrase" ?any -not), JSON { $.level = "ERROR" }, [f1, ..., f3 = 404] or %regex%'


class InvalidFilterPattern(InvalidInput):
    default_code = "InvalidParameterException"


def _error(pattern: str, detail: str) -> InvalidFilterPattern:
    return InvalidFilterPattern(f"filter pattern {pattern!r}: {detail}", hint=HINT)


@dataclass(frozen=True)
class FilterPattern:
    """A parsed pattern; ``matches`` decides one event."""

    text: str
    kind: str  # all | terms | json | delimited | regex
    _match: Callable[[str, Callable[[], Any]], bool] = field(repr=False, compare=False)
    sql_terms: tuple[tuple[str, ...], ...] = ()
    """Every matching message contains one substring of each inner tuple."""
    json_tree: Any = None
    """A JSON pattern's condition as data, for a database to pre-filter structured fields with:
    ``("and"|"or", (subtrees…))``, ``("cmp", path, op, number or string)``, or None (not expressible)."""

    def matches(self, message: str, level: str = "INFO", fields: Mapping[str, Any] | None = None) -> bool:
        return self._match(message, lambda: event_document(message, level, fields))

    def matches_lazily(self, message: str, level: str, fields: Callable[[], Mapping[str, Any]]) -> bool:
        """``matches``, reading the fields only if a JSON pattern needs them (the message is not JSON)."""
        return self._match(message, lambda: event_document(message, level, None, fields))


def event_document(
    message: str,
    level: str = "INFO",
    fields: Mapping[str, Any] | None = None,
    lazy_fields: Callable[[], Mapping[str, Any]] | None = None,
) -> Any:
    """What a JSON pattern reads: the message when it is a JSON object, else the structured lakeport event."""
    if message[:1] == "{" or message.lstrip()[:1] == "{":
        try:
            parsed = json.loads(message)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    if lazy_fields is not None:
        fields = lazy_fields()
    return {"level": level, "message": message, **(fields or {})}


def parse_filter_pattern(pattern: str | None) -> FilterPattern:
    """Parse a CloudWatch Logs filter pattern, or raise InvalidFilterPattern naming what is wrong."""
    text = (pattern or "").strip()
    if text in ("", '""'):
        return FilterPattern(text, "all", lambda message, document: True)
    if text.startswith("{"):
        if not text.endswith("}"):
            raise _error(text, "a JSON pattern ends with '}'")
        parser = _JsonParser(text, text[1:-1])
        node = parser.parse()
        required = tuple((literal,) for literal in sorted(parser.required.get(id(node), frozenset())))
        tree = parser.trees.get(id(node))
        return FilterPattern(text, "json", lambda message, document: node(document()), required, tree)
    if text.startswith("["):
        if not text.endswith("]"):
            raise _error(text, "a space-delimited pattern ends with ']'")
        return _delimited(text)
    if len(text) >= 2 and text.startswith("%") and text.endswith("%"):
        regex = _regex(text, text[1:-1])
        return FilterPattern(text, "regex", lambda message, document: regex.search(message) is not None)
    return _terms(text)


# ---- terms


def _term_tokens(text: str) -> list[tuple[str, str]]:
    """(prefix, term) pairs: prefix '' (required), '?' (any of) or '-' (excluded)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-" and i + 1 < len(text) and not text[i + 1].isspace():
            prefix, i = text[i], i + 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _error(text, f"the quote at column {i + 1} is never closed")
            term, i = text[i + 1 : end], end + 1
        else:
            start = i
            while i < len(text) and not text[i].isspace():
                i += 1
            term = text[start:i]
        if term:
            out.append((prefix, term))
    return out


def _terms(text: str) -> FilterPattern:
    tokens = _term_tokens(text)
    required = tuple(t for p, t in tokens if p == "")
    anyof = tuple(t for p, t in tokens if p == "?")
    excluded = tuple(t for p, t in tokens if p == "-")

    def match(message: str, document: Callable[[], Any]) -> bool:
        return (
            all(t in message for t in required)
            and (not anyof or any(t in message for t in anyof))
            and not any(t in message for t in excluded)
        )

    sql = tuple((t,) for t in required) + ((anyof,) if anyof else ())
    return FilterPattern(text, "terms", match, sql)


def _regex(pattern: str, body: str) -> re.Pattern[str]:
    try:
        return re.compile(body)
    except re.error as exc:
        raise _error(pattern, f"bad regular expression {body!r}: {exc}") from None


# ---- values shared by JSON and space-delimited patterns

_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class _Value:
    text: str
    number: float | None
    regex: re.Pattern[str] | None

    def equals(self, actual: Any) -> bool:
        if self.number is not None and not isinstance(actual, str):
            return _is_number(actual) and float(actual) == self.number
        if self.number is not None and isinstance(actual, str):  # a delimited field is text: compare as numbers
            parsed = _as_number(actual)
            return parsed is not None and parsed == self.number
        if not isinstance(actual, str):
            return False
        if self.regex is not None:
            return self.regex.fullmatch(actual) is not None
        return actual == self.text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def _value(pattern: str, raw: str, quoted: bool) -> _Value:
    if not quoted and len(raw) >= 2 and raw.startswith("%") and raw.endswith("%"):
        return _Value(raw, None, _regex(pattern, f"(?:.*?)(?:{raw[1:-1]})(?:.*)"))
    number = None if quoted else (float(raw) if _NUMBER.match(raw) else None)
    regex = None
    if number is None and "*" in raw:
        regex = re.compile(".*".join(re.escape(part) for part in raw.split("*")), re.DOTALL)
    return _Value(raw, number, regex)


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compare(pattern: str, op: str, value: _Value) -> Callable[[Any], bool]:
    """A test of one (possibly missing) value."""
    if op == "=":
        return lambda actual: actual is not _MISSING and value.equals(actual)
    if op == "!=":
        return lambda actual: actual is not _MISSING and actual is not None and not value.equals(actual)
    if value.number is None:
        raise _error(pattern, f"{op} compares numbers, and {value.text!r} is not one")
    number, test = value.number, _OPS[op]

    def numeric(actual: Any) -> bool:
        parsed = _as_number(actual) if actual is not _MISSING else None
        return parsed is not None and test(parsed, number)

    return numeric


# ---- JSON patterns

_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<sel>\$(?:\.[^\s.\[\]=!<>()&|]+|\[\d+\]|\.\*)*)
      | (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_PLAIN = re.compile(r"^[A-Za-z0-9 _.:/@#+=,;-]+$")  # JSON-encodes to itself: safe to look for in the JSON text
_SELECTOR_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class _JsonParser:
    def __init__(self, pattern: str, body: str) -> None:
        self.pattern = pattern
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(body):
            if body[pos:].strip() == "":
                break
            found = _JSON_TOKEN.match(body, pos)
            if found is None or found.end() == pos:
                raise _error(pattern, f"cannot read {body[pos:].strip()[:20]!r}")
            kind = found.lastgroup or "word"
            self.tokens.append((kind, found.group(kind)))
            pos = found.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _error(self.pattern, "the pattern ends too early")
        self.i += 1
        return token

    def parse(self) -> Callable[[Any], bool]:
        self.required: dict[int, frozenset[str]] = {}  # per node: strings every match contains (pushdown)
        self.trees: dict[int, Any] = {}  # per node: its condition as data (json_tree)
        node = self.disjunction()
        if self.peek() is not None:
            raise _error(self.pattern, f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def disjunction(self) -> Callable[[Any], bool]:
        parts = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]

        def either(doc: Any) -> bool:
            return any(p(doc) for p in parts)

        self.required[id(either)] = frozenset.intersection(*(self.required.get(id(p), frozenset()) for p in parts))
        self.trees[id(either)] = ("or", tuple(self.trees.get(id(p)) for p in parts))
        return either

    def conjunction(self) -> Callable[[Any], bool]:
        parts = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]

        def both(doc: Any) -> bool:
            return all(p(doc) for p in parts)

        self.required[id(both)] = frozenset().union(*(self.required.get(id(p), frozenset()) for p in parts))
        self.trees[id(both)] = ("and", tuple(self.trees.get(id(p)) for p in parts))
        return both

    def unary(self) -> Callable[[Any], bool]:
        if self.peek() == ("op", "("):
            self.take()
            node = self.disjunction()
            if self.take() != ("op", ")"):
                raise _error(self.pattern, "a '(' is never closed")
            return node
        kind, selector = self.take()
        if kind != "sel":
            raise _error(self.pattern, f"expected a selector such as $.field, found {selector!r}")
        path = _selector(self.pattern, selector)
        kind, word = self.take()
        if kind == "word" and word.upper() in ("IS", "NOT", "EXISTS"):
            return self.keyword(path, word.upper())
        if kind != "op" or word not in ("=", "!=", "<", ">", "<=", ">="):
            raise _error(self.pattern, f"expected a comparison after {selector}, found {word!r}")
        vkind, raw = self.take()
        if vkind == "str":
            value = _value(self.pattern, json.loads(raw), quoted=True)
        elif vkind == "word":
            value = _value(self.pattern, raw, quoted=False)
        else:
            raise _error(self.pattern, f"expected a value after {selector} {word}, found {raw!r}")
        test = _compare(self.pattern, word, value)

        def compare(doc: Any) -> bool:
            return test(_select(doc, path))

        if word == "=" and value.number is None and value.regex is None and _PLAIN.match(value.text):
            self.required[id(compare)] = frozenset([value.text])  # stored as is in JSON text, the level or message
        if value.regex is None:
            self.trees[id(compare)] = ("cmp", path, word, value.number if value.number is not None else value.text)
        return compare

    def keyword(self, path: Sequence[str | int], first: str) -> Callable[[Any], bool]:
        if first == "EXISTS":
            return lambda doc: _select(doc, path) is not _MISSING
        if first == "NOT":
            if self.take()[1].upper() != "EXISTS":
                raise _error(self.pattern, "NOT is followed by EXISTS")
            return lambda doc: _select(doc, path) is _MISSING
        what = self.take()[1].upper()
        wanted: dict[str, Callable[[Any], bool]] = {
            "NULL": lambda v: v is None,
            "TRUE": lambda v: v is True,
            "FALSE": lambda v: v is False,
        }
        if what not in wanted:
            raise _error(self.pattern, f"IS is followed by NULL, TRUE or FALSE, not {what!r}")
        test = wanted[what]
        return lambda doc: test(_select(doc, path))


def _selector(pattern: str, text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for found in _SELECTOR_PART.finditer(text, 1):
        parts.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
    if not parts:
        raise _error(pattern, f"selector {text!r} names no field")
    return tuple(parts)


def _select(document: Any, path: Sequence[str | int]) -> Any:
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return _MISSING
            current = current[part]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


# ---- space-delimited patterns

_FIELD_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(!=|<=|>=|=|<|>)\s*(\"(?:[^\"\\]|\\.)*\"|[^\s]+)\s*$")
_MESSAGE_FIELD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')


def _delimited(text: str) -> FilterPattern:
    specs = [s.strip() for s in _split_top(text[1:-1], ",")]
    names: list[str | None] = []  # None: the ellipsis
    conditions: list[Callable[[Mapping[str, str]], bool]] = []
    for spec in specs:
        if spec == "...":
            names.append(None)
            continue
        if not spec:
            raise _error(text, "an empty field between commas")
        head = re.match(r"^[A-Za-z_][\w.-]*", spec)
        if head is None:
            raise _error(text, f"field {spec!r} does not start with a name")
        names.append(head.group(0))
        if spec != head.group(0):
            conditions.append(_delimited_condition(text, spec))

    def match(message: str, document: Callable[[], Any]) -> bool:
        values = [_unwrap(v) for v in _MESSAGE_FIELD.findall(message)]
        return any(all(c(binding) for c in conditions) for binding in _bindings(names, values))

    return FilterPattern(text, "delimited", match)


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    parts.append(text[start:])
    return parts


def _delimited_condition(pattern: str, spec: str) -> Callable[[Mapping[str, str]], bool]:
    alternatives = []
    for alternative in _split_top(spec, "||"):
        conjuncts = []
        for part in _split_top(alternative, "&&"):
            found = _FIELD_CONDITION.match(part)
            if found is None:
                raise _error(pattern, f"cannot read the condition {part.strip()!r}")
            name, op, raw = found.groups()
            quoted = raw.startswith('"')
            test = _compare(pattern, op, _value(pattern, json.loads(raw) if quoted else raw, quoted))
            conjuncts.append((name, test))
        alternatives.append(conjuncts)
    return lambda binding: any(
        all(test(binding.get(name, _MISSING)) for name, test in conjuncts) for conjuncts in alternatives
    )


def _unwrap(value: str) -> str:
    if len(value) >= 2 and ((value[0] == '"' and value[-1] == '"') or (value[0] == "[" and value[-1] == "]")):
        return value[1:-1]
    return value


def _bindings(names: Sequence[str | None], values: Sequence[str]) -> list[dict[str, str]]:
    """Every way to give the named fields their values, ``None`` (``...``) taking zero or more."""
    if None not in names:
        if len(names) != len(values):
            return []
        return [{n: v for n, v in zip(names, values, strict=True) if n is not None}]
    out: list[dict[str, str]] = []

    def walk(i: int, j: int, bound: dict[str, str]) -> None:
        if len(out) > 64:
            return
        if i == len(names):
            if j == len(values):
                out.append(dict(bound))
            return
        name = names[i]
        if name is None:
            for k in range(j, len(values) + 1):
                walk(i + 1, k, bound)
            return
        if j < len(values):
            walk(i + 1, j + 1, {**bound, name: values[j]})

    walk(0, 0, {})
    return out
