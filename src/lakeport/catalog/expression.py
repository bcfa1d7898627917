"""Partition filters: the ``Expression`` argument of Glue's ``GetPartitions``.

An expression is a SQL ``WHERE``-like condition over a table's partition keys::

    year = 2020 AND month BETWEEN 1 AND 6 AND region IN ('eu', 'us') AND NOT (kind LIKE 'tmp%')

:func:`parse_expression` parses it once into a :class:`PartitionFilter`, a tree of small closures; its
:meth:`PartitionFilter.matches` then tests one partition (its key → string value map) without re-parsing.

Grammar (keywords are case-insensitive; precedence from loosest to tightest: ``OR``, ``AND``, ``NOT``,
comparison)::

    expr       := conj (OR conj)*
    conj       := neg (AND neg)*
    neg        := NOT neg | '(' expr ')' | predicate
    predicate  := operand ( ('=' | '<>' | '!=' | '<' | '<=' | '>' | '>=') operand
                          | [NOT] BETWEEN operand AND operand
                          | [NOT] IN '(' operand (',' operand)* ')'
                          | [NOT] LIKE 'pattern' [ESCAPE 'c']
                          | IS [NOT] NULL )
    operand    := key | 'text' | number | DATE 'YYYY-MM-DD' | TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.f]' | NULL

* A *key* is a partition key name, bare (``year``) or quoted with double quotes or backticks (``"my key"``,
  ```my key```; a doubled quote character inside stands for itself). Names are matched case-insensitively.
  ``date``/``timestamp`` followed by a quoted string are typed literals, otherwise they name a key.
  The reserved words ``AND OR NOT IN BETWEEN LIKE IS NULL ESCAPE`` must be quoted to be used as key names.
* ``'text'`` is a string literal; ``''`` inside stands for one quote. Numbers are integers (``12``, ``-3``)
  or decimals (``1.5``, ``.5``, ``2e3``), optionally signed.

Typing. Every comparison happens in the type of the keys it involves:

* a partition value (always a string) is converted to its key's Hive type: ``tinyint``/``smallint``/``int``/
  ``integer``/``bigint``/``long`` → :class:`int`; ``float``/``double``/``real``/``decimal(p,s)``/``numeric`` →
  :class:`~decimal.Decimal`; ``date`` → :class:`datetime.date` (``YYYY-MM-DD``); ``timestamp`` →
  :class:`datetime.datetime` (``YYYY-MM-DD[ HH:MM[:SS[.fffffffff]]]``, ``T`` also accepted as separator);
  ``string``/``varchar(n)``/``char(n)`` → :class:`str`. Keys of any other type may only be used with
  ``LIKE`` and ``IS [NOT] NULL``.
* a literal is converted to the key's type when the expression is parsed, so with ``month`` a ``bigint``,
  ``month = '01'`` and ``month = 1`` both match the value ``01``; with ``year`` a ``string``, ``year = 2020``
  compares with the text ``'2020'`` (a number literal becomes its source text). A literal that cannot be
  converted (``month = 'x'``) is an :class:`~lakeport.errors.InvalidInput`. Integer and decimal keys and
  literals compare numerically with each other; a ``date`` compared with a ``timestamp`` is taken as midnight.
* a partition *value* that cannot be converted (``abc`` for a ``bigint`` key) is not an error: the comparison
  is unknown, exactly like a comparison with null, so neither ``k = 1``, ``k <> 1`` nor ``NOT k = 1`` matches.
* ``LIKE`` always works on the partition value's text: ``%`` matches any run of characters, ``_`` exactly one,
  every other character (including regex metacharacters) only itself; ``ESCAPE 'c'`` makes ``c%``/``c_``/
  ``cc`` literal. The whole value must match.

Nulls follow SQL's three-valued logic: a partition value ``None`` (or Hive's ``__HIVE_DEFAULT_PARTITION__``)
is null, as is a key missing from the value map; any comparison with null is unknown, ``NOT unknown`` is
unknown, ``unknown AND false`` is false, ``unknown OR true`` is true; ``x IN (..., NULL)`` that finds no match is
unknown. A partition matches only when the whole expression is *true*. ``IS NULL`` is never unknown.

An empty (or blank) expression matches every partition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from lakeport.catalog.expression_logic import (
    _COMPARISONS,
    _INTEGER_TEXT,
    _KEYWORDS,
    _MIRRORED,
    _NUMBER_TOKEN,
    _SYNTAX_HINT,
    Scalar,
    Values,
    _and,
    _and3,
    _constant,
    _date_as_timestamp,
    _domain_of,
    _Getter,
    _Key,
    _key_getter,
    _Literal,
    _Node,
    _not,
    _Operand,
    _or,
    _raw_getter,
    _to_date,
    _to_decimal,
    _to_integer,
    _to_timestamp,
)
from lakeport.errors import InvalidInput

# ------------------------------------------------------------------------------------------------- filter


class PartitionFilter:
    """A parsed partition expression; :meth:`matches` tests one partition's values against it.

    ``expression`` is the text it was parsed from; ``keys`` the partition keys it refers to (spelled as in
    the ``key_types`` it was parsed with).
    """

    __slots__ = ("_root", "expression", "keys")

    def __init__(self, expression: str, root: _Node, keys: frozenset[str]) -> None:
        self.expression = expression
        self.keys = keys
        self._root = root

    def matches(self, values: Mapping[str, str | None]) -> bool:
        """Whether the partition with these key → value strings satisfies the expression (``None`` is null).

        Unknown (null) results do not match. A key missing from ``values`` counts as null; keys are looked up
        exactly first and then case-insensitively.
        """
        return self._root(values) is True

    def __repr__(self) -> str:
        return f"PartitionFilter({self.expression!r})"


def parse_expression(expression: str, key_types: Mapping[str, str]) -> PartitionFilter:
    """Parse a GetPartitions ``Expression`` over partition keys with the given Hive types (name → type).

    Raises :class:`~lakeport.errors.InvalidInput` for a syntax error (naming the 1-based character position and
    what was expected), an unknown key, or a literal that cannot be converted to the type it is compared in.
    See the module docstring for the grammar and the semantics.
    """
    return _Parser(expression, key_types).parse()


# ------------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ident, qident, keyword, string, number, op, sign, '(', ')', ',', eof
    text: str  # source text
    value: str  # identifier name, keyword (upper case), string content, operator
    pos: int  # 0-based


def _show(expression: str) -> str:
    return '"' + expression.translate({9: " ", 10: " ", 13: " "}) + '"'


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    length = len(expression)

    def fail(at: int, problem: str) -> InvalidInput:
        return InvalidInput(
            f"syntax error at character {at + 1} of expression {_show(expression)}: {problem}", hint=_SYNTAX_HINT
        )

    while pos < length:
        char = expression[pos]
        if char.isspace():
            pos += 1
        elif char in "'\"`":
            start = pos
            pos += 1
            parts: list[str] = []
            while True:
                end = expression.find(char, pos)
                if end < 0:
                    what = "string" if char == "'" else "quoted name"
                    raise fail(start, f"unterminated {what}: the {char} here is never closed")
                parts.append(expression[pos:end])
                if end + 1 < length and expression[end + 1] == char:
                    parts.append(char)
                    pos = end + 2
                    continue
                pos = end + 1
                break
            kind = "string" if char == "'" else "qident"
            tokens.append(_Token(kind, expression[start:pos], "".join(parts), start))
        elif char.isdigit() or (char == "." and pos + 1 < length and expression[pos + 1].isdigit()):
            match = _NUMBER_TOKEN.match(expression, pos)
            if match is None or not match.group().isascii():
                raise fail(pos, f"unexpected character {char!r}")
            tokens.append(_Token("number", match.group(), match.group(), pos))
            pos = match.end()
        elif char.isalpha() or char == "_":
            start = pos
            while pos < length and (expression[pos].isalnum() or expression[pos] in "_$"):
                pos += 1
            word = expression[start:pos]
            if word.upper() in _KEYWORDS:
                tokens.append(_Token("keyword", word, word.upper(), start))
            else:
                tokens.append(_Token("ident", word, word, start))
        elif expression.startswith(("<=", ">=", "<>", "!="), pos):
            tokens.append(_Token("op", expression[pos : pos + 2], expression[pos : pos + 2], pos))
            pos += 2
        elif char in "=<>":
            tokens.append(_Token("op", char, char, pos))
            pos += 1
        elif char in "+-":
            tokens.append(_Token("sign", char, char, pos))
            pos += 1
        elif char in "(),":
            tokens.append(_Token(char, char, char, pos))
            pos += 1
        else:
            raise fail(pos, f"unexpected character {char!r}")
    tokens.append(_Token("eof", "", "", length))
    return tokens


# ------------------------------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the token list, building the closure tree as it goes."""

    def __init__(self, expression: str, key_types: Mapping[str, str]) -> None:
        self.expression = expression
        self.key_types = key_types
        self.folded: dict[str, str] = {}
        for name in key_types:
            self.folded.setdefault(name.lower(), name)
        self.tokens = _tokenize(expression)
        self.index = 0
        self.used: set[str] = set()

    # --- token helpers

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.value in words

    def fail(self, expected: str, token: _Token | None = None) -> InvalidInput:
        token = token or self.token
        found = "end of expression" if token.kind == "eof" else repr(token.text)
        return InvalidInput(
            f"syntax error at character {token.pos + 1} of expression {_show(self.expression)}: "
            f"expected {expected}, found {found}",
            hint=_SYNTAX_HINT,
        )

    def expect_keyword(self, word: str, expected: str) -> None:
        if not self.at_keyword(word):
            raise self.fail(expected)
        self.advance()

    def expect(self, kind: str, expected: str) -> _Token:
        if self.token.kind != kind:
            raise self.fail(expected)
        return self.advance()

    # --- grammar

    def parse(self) -> PartitionFilter:
        if self.token.kind == "eof":
            return PartitionFilter(self.expression, _constant(True), frozenset())
        root = self.disjunction()
        if self.token.kind != "eof":
            raise self.fail("AND, OR or the end of the expression")
        return PartitionFilter(self.expression, root, frozenset(self.used))

    def disjunction(self) -> _Node:
        nodes = [self.conjunction()]
        while self.at_keyword("OR"):
            self.advance()
            nodes.append(self.conjunction())
        return _or(nodes)

    def conjunction(self) -> _Node:
        nodes = [self.negation()]
        while self.at_keyword("AND"):
            self.advance()
            nodes.append(self.negation())
        return _and(nodes)

    def negation(self) -> _Node:
        if self.at_keyword("NOT"):
            self.advance()
            return _not(self.negation())
        if self.token.kind == "(":
            self.advance()
            node = self.disjunction()
            self.expect(")", "')' or AND/OR")
            return node
        return self.predicate()

    def predicate(self) -> _Node:
        left = self.operand("a partition key, a value, NOT or '('")
        token = self.token
        if token.kind == "op":
            self.advance()
            right = self.operand(f"a partition key or a value after {token.text!r}")
            return self.comparison(token.value, left, right)
        if self.at_keyword("IS"):
            self.advance()
            negated = self.at_keyword("NOT")
            if negated:
                self.advance()
            self.expect_keyword("NULL", "NULL after IS" + (" NOT" if negated else ""))
            node = self.is_null(left)
            return _not(node) if negated else node
        negated = self.at_keyword("NOT")
        if negated:
            self.advance()
        if self.at_keyword("BETWEEN"):
            self.advance()
            low = self.operand("the lower bound after BETWEEN")
            self.expect_keyword("AND", "AND between the BETWEEN bounds")
            high = self.operand("the upper bound after BETWEEN ... AND")
            node = self.between(left, low, high)
        elif self.at_keyword("IN"):
            self.advance()
            self.expect("(", "'(' after IN")
            items = [self.operand("a value in the IN list")]
            while self.token.kind == ",":
                self.advance()
                items.append(self.operand("a value after ',' in the IN list"))
            self.expect(")", "',' or ')' in the IN list")
            node = self.in_list(left, items)
        elif self.at_keyword("LIKE"):
            self.advance()
            node = self.like(left)
        elif negated:
            raise self.fail("BETWEEN, IN or LIKE after NOT")
        else:
            raise self.fail("a comparison (=, <>, <, <=, >, >=), BETWEEN, IN, LIKE or IS after the operand")
        return _not(node) if negated else node

    def operand(self, expected: str) -> _Operand:
        token = self.token
        if token.kind == "ident":
            following = self.tokens[self.index + 1]
            if token.value.lower() in ("date", "timestamp") and following.kind == "string":
                self.advance()
                self.advance()
                return self.typed_literal(token, following)
            self.advance()
            return self.key(token)
        if token.kind == "qident":
            self.advance()
            return self.key(token)
        if token.kind == "string":
            self.advance()
            return _Literal("string", token.value, token.text, token.pos, token.value)
        if token.kind == "number" or (token.kind == "sign" and self.tokens[self.index + 1].kind == "number"):
            sign = ""
            if token.kind == "sign":
                sign = "" if token.value == "+" else "-"
                self.advance()
            number = self.advance()
            text = sign + number.text
            value: int | Decimal = int(text) if _INTEGER_TEXT.fullmatch(text) else Decimal(text)
            source = self.expression[token.pos : number.pos + len(number.text)]
            return _Literal("number", value, source, token.pos, text)
        if token.kind == "keyword" and token.value == "NULL":
            self.advance()
            return _Literal("null", None, token.text, token.pos, "")
        raise self.fail(expected)

    def typed_literal(self, word: _Token, text: _Token) -> _Literal:
        kind = word.value.lower()
        value: date | datetime | None = _to_date(text.value) if kind == "date" else _to_timestamp(text.value)
        source = self.expression[word.pos : text.pos + len(text.text)]
        if value is None:
            example = "DATE '2020-01-31'" if kind == "date" else "TIMESTAMP '2020-01-31 12:00:00'"
            raise InvalidInput(
                f"invalid {kind} literal {source} at character {word.pos + 1} of expression {_show(self.expression)}",
                hint=f"write it like {example}",
            )
        plain = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
        return _Literal(kind, value, source, word.pos, plain)

    def key(self, token: _Token) -> _Key:
        name = token.value if token.value in self.key_types else self.folded.get(token.value.lower())
        if name is None:
            known = ", ".join(self.key_types) if self.key_types else None
            tail = f"the table's partition keys are {known}" if known else "the table has no partition keys"
            hint = (
                "text values take single quotes ('2020'); double quotes and backticks name a partition key"
                if token.text.startswith('"')
                else "key names are matched case-insensitively; check the spelling"
            )
            raise InvalidInput(
                f"unknown partition key {token.value!r} in expression {_show(self.expression)}: {tail}", hint=hint
            )
        self.used.add(name)
        type_name = self.key_types[name]
        return _Key(name, type_name, _domain_of(type_name), token.pos)

    # --- typing

    def unify(self, operands: Sequence[_Operand]) -> list[tuple[_Getter | None, Scalar | None]]:
        """Pick the type the operands are compared in and convert them to it.

        Returns, per operand, ``(getter, None)`` for a key or ``(None, value)`` for a literal (``value`` is
        ``None`` for NULL).
        """
        keys = [o for o in operands if isinstance(o, _Key)]
        literals = [o for o in operands if isinstance(o, _Literal) and o.kind != "null"]
        for key in keys:
            if key.domain == "other":
                raise InvalidInput(
                    f"partition key {key.name!r} has type {key.type_name!r}, which expressions can only test with "
                    f"LIKE or IS NULL, in expression {_show(self.expression)}",
                    hint="compare keys of type string, integer, decimal, date or timestamp",
                )
        target: str
        if keys:
            families = {"numeric" if k.domain in ("integer", "decimal") else k.domain for k in keys}
            if len(families) == 1:
                (target,) = families
            elif families == {"date", "timestamp"}:
                target = "timestamp"
            else:
                first, other = keys[0], next(k for k in keys if k.domain != keys[0].domain)
                raise InvalidInput(
                    f"cannot compare partition key {first.name!r} ({first.type_name}) with partition key "
                    f"{other.name!r} ({other.type_name}) in expression {_show(self.expression)}",
                    hint="compare a key with a value of its own type",
                )
            if target == "date" and any(lit.kind == "timestamp" for lit in literals):
                target = "timestamp"
        else:
            kinds = {lit.kind for lit in literals}
            if "number" in kinds:
                target = "numeric"
            elif "timestamp" in kinds:
                target = "timestamp"
            elif "date" in kinds:
                target = "date"
            else:
                target = "string"
        integer_only = bool(keys) and all(k.domain == "integer" for k in keys)
        result: list[tuple[_Getter | None, Scalar | None]] = []
        for operand in operands:
            if isinstance(operand, _Key):
                result.append((_key_getter(operand, target), None))
            else:
                result.append((None, self.convert(operand, target, integer_only, keys, literals)))
        return result

    def convert(
        self, literal: _Literal, target: str, integer_only: bool, keys: list[_Key], literals: list[_Literal]
    ) -> Scalar | None:
        if literal.kind == "null":
            return None
        value: Scalar | None = None
        wanted = target
        if target == "string":
            value = literal.plain
        elif target == "numeric":
            wanted = "integer" if integer_only else "decimal"
            if literal.kind == "number":
                value = literal.value
            elif literal.kind == "string":
                value = _to_integer(literal.plain) if integer_only else _to_decimal(literal.plain)
        elif target == "date":
            if literal.kind == "date":
                value = literal.value
            elif literal.kind == "string":
                value = _to_date(literal.plain)
        elif target == "timestamp":
            if literal.kind == "timestamp":
                value = literal.value
            elif literal.kind == "date":
                value = _date_as_timestamp(literal.plain)
            elif literal.kind == "string":
                value = _to_timestamp(literal.plain)
        if value is not None:
            return value
        where = f"at character {literal.pos + 1} of expression {_show(self.expression)}"
        if keys:
            key = keys[0]
            raise InvalidInput(
                f"cannot compare partition key {key.name!r} ({key.type_name}) with {literal.text} {where}: "
                f"it is not a valid {_WANTED[wanted]}",
                hint=f"write the value in the key's type, e.g. {_EXAMPLES[wanted]}",
            )
        other = next((lit for lit in literals if lit.kind != literal.kind), literal)
        raise InvalidInput(
            f"cannot compare {literal.text} with {other.text} {where}: it is not a valid {_WANTED[wanted]}",
            hint=f"compare values of one type, e.g. {_EXAMPLES[wanted]}",
        )

    # --- predicates

    def comparison(self, op: str, left: _Operand, right: _Operand) -> _Node:
        (left_get, left_value), (right_get, right_value) = self.unify([left, right])
        if left_get is None:
            if right_get is None:
                if left_value is None or right_value is None:
                    return _constant(None)
                return _constant(_COMPARISONS[op](left_value, right_value))
            # literal op key  ≡  key mirrored-op literal
            op = _MIRRORED[op]
            left_get, right_get, right_value = right_get, None, left_value
        compare = _COMPARISONS[op]
        if right_get is None:
            if right_value is None:
                return _constant(None)
            get, constant = left_get, right_value

            def against_constant(values: Values) -> bool | None:
                value = get(values)
                return None if value is None else compare(value, constant)

            return against_constant
        first, second = left_get, right_get

        def between_operands(values: Values) -> bool | None:
            a = first(values)
            if a is None:
                return None
            b = second(values)
            return None if b is None else compare(a, b)

        return between_operands

    def between(self, subject: _Operand, low: _Operand, high: _Operand) -> _Node:
        (get, value), (low_get, low_value), (high_get, high_value) = self.unify([subject, low, high])
        if (
            get is not None
            and low_get is None
            and high_get is None
            and low_value is not None
            and high_value is not None
        ):
            lo, hi = low_value, high_value

            def in_range(values: Values) -> bool | None:
                x = get(values)
                return None if x is None else bool(lo <= x <= hi)  # type: ignore[operator]

            return in_range
        subject_get = get or _constant_getter(value)
        lower = low_get or _constant_getter(low_value)
        upper = high_get or _constant_getter(high_value)

        def general(values: Values) -> bool | None:
            x = subject_get(values)
            if x is None:
                return None
            lo_value, hi_value = lower(values), upper(values)
            above = None if lo_value is None else bool(x >= lo_value)  # type: ignore[operator]
            below = None if hi_value is None else bool(x <= hi_value)  # type: ignore[operator]
            return _and3(above, below)

        return general

    def in_list(self, subject: _Operand, items: list[_Operand]) -> _Node:
        (get, value), *converted = self.unify([subject, *items])
        subject_get = get or _constant_getter(value)
        if all(item_get is None for item_get, _ in converted):
            members = frozenset(item for _, item in converted if item is not None)
            has_null = any(item is None for _, item in converted)
            miss: bool | None = None if has_null else False

            def in_set(values: Values) -> bool | None:
                x = subject_get(values)
                if x is None:
                    return None
                return True if x in members else miss

            return in_set
        getters = [item_get or _constant_getter(item) for item_get, item in converted]

        def in_any(values: Values) -> bool | None:
            x = subject_get(values)
            if x is None:
                return None
            unknown = False
            for item_get in getters:
                item = item_get(values)
                if item is None:
                    unknown = True
                elif x == item:
                    return True
            return None if unknown else False

        return in_any

    def like(self, subject: _Operand) -> _Node:
        pattern_token = self.token
        if pattern_token.kind != "string":
            raise self.fail("a quoted pattern after LIKE")
        self.advance()
        escape: str | None = None
        if self.at_keyword("ESCAPE"):
            self.advance()
            escape_token = self.token
            if escape_token.kind != "string" or len(escape_token.value) != 1:
                raise self.fail("one quoted character after ESCAPE")
            self.advance()
            escape = escape_token.value
        regex = self.like_regex(pattern_token, escape)
        if isinstance(subject, _Literal):
            result = None if subject.kind == "null" else regex.fullmatch(subject.plain) is not None
            return _constant(result)
        self.used.add(subject.name)
        raw = _raw_getter(subject.name)
        fullmatch = regex.fullmatch

        def like(values: Values) -> bool | None:
            text = raw(values)
            return None if text is None else fullmatch(text) is not None

        return like

    def like_regex(self, token: _Token, escape: str | None) -> re.Pattern[str]:
        """Translate a LIKE pattern: ``%`` → any run, ``_`` → one character, everything else literal."""
        pattern = token.value
        parts: list[str] = []
        index = 0
        while index < len(pattern):
            char = pattern[index]
            if escape is not None and char == escape:
                if index + 1 >= len(pattern):
                    raise InvalidInput(
                        f"LIKE pattern {token.text} at character {token.pos + 1} of expression "
                        f"{_show(self.expression)} ends with its escape character {escape!r}",
                        hint=f"follow {escape!r} with the %, _ or {escape!r} it makes literal",
                    )
                parts.append(re.escape(pattern[index + 1]))
                index += 2
                continue
            if char == "%":
                if not parts or parts[-1] != ".*":
                    parts.append(".*")
            elif char == "_":
                parts.append(".")
            else:
                parts.append(re.escape(char))
            index += 1
        return re.compile("".join(parts), re.DOTALL)

    def is_null(self, subject: _Operand) -> _Node:
        if isinstance(subject, _Literal):
            return _constant(subject.kind == "null")
        raw = _raw_getter(subject.name)

        def is_null(values: Values) -> bool | None:
            return raw(values) is None

        return is_null


_WANTED: Final = {
    "integer": "integer",
    "decimal": "number",
    "date": "date (YYYY-MM-DD)",
    "timestamp": "timestamp (YYYY-MM-DD HH:MM:SS)",
    "string": "string",
}
_EXAMPLES: Final = {
    "integer": "month = 6",
    "decimal": "price = 9.99",
    "date": "day = '2020-01-31'",
    "timestamp": "ts = '2020-01-31 12:00:00'",
    "string": "region = 'eu'",
}


def _constant_getter(value: Scalar | None) -> _Getter:
    def get(values: Values) -> Scalar | None:
        return value

    return get


__all__ = ["PartitionFilter", "parse_expression"]
