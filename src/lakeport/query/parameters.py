"""Execution parameters: values for the ``?`` placeholders of a query, as Athena takes them — SQL literal text
(``'abc'``, ``42``, ``-1.5``, ``DATE '2024-01-01'``, ``true``, ``NULL``, ``ARRAY[1, 2]``) applied in order.

Placeholders are found by the SQL tokenizer, so a ``?`` inside a string, a quoted name or a comment is not one;
each value must be exactly one literal (no comments, no statement separators, no expressions that compute or
read anything) and is put in place of its ``?`` with a space on each side, so it can never join with what is
next to it (``x -?`` with ``-1`` is ``x - -1``, not a comment).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import Token, TokenType, exp
from sqlglot.errors import SqlglotError

from lakeport.errors import InvalidInput

MAX_PARAMETER_LENGTH = 1024  # Athena's limit for one execution parameter
_LITERAL_HINT = "give SQL literals as Athena takes them: 'text', 42, -1.5, DATE '2024-01-01', true, NULL"


class ParameterError(InvalidInput):
    default_code = "InvalidRequestException"


def _tokens(sql: str) -> list[Token]:
    from sqlglot.dialects.athena import Athena

    return list(Athena().tokenize(sql))


def placeholders(sql: str) -> list[int] | None:
    """Offsets of the ``?`` placeholders in ``sql``; None when it does not tokenize (its run reports why)."""
    try:
        tokens = _tokens(sql)
    except SqlglotError:
        return None
    return [t.start for t in tokens if t.token_type == TokenType.PLACEHOLDER]


def _is_literal(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal | exp.Boolean | exp.Null | exp.HexString):
        return True
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    if isinstance(node, exp.Cast):  # typed literals: DATE '…', TIMESTAMP '…', DECIMAL '…'
        return isinstance(node.this, exp.Literal) and node.this.is_string
    if isinstance(node, exp.Interval):
        return isinstance(node.this, exp.Literal)
    if isinstance(node, exp.Array):
        return all(_is_literal(e) for e in node.expressions)
    return False


def literal(value: str, *, what: str) -> str:
    """``value`` checked to be one SQL literal; ``what`` names it in errors (``execution parameter 2``)."""
    import sqlglot

    text = value.strip()
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not text:
        raise ParameterError(f"{what} is empty", hint=_LITERAL_HINT)
    if len(text) > MAX_PARAMETER_LENGTH:
        raise ParameterError(f"{what} is longer than {MAX_PARAMETER_LENGTH} characters", hint=_LITERAL_HINT)
    try:
        tokens = _tokens(text)
        tree = sqlglot.parse_one(text, read="athena")
    except SqlglotError:
        raise ParameterError(f"{what} ({shown!r}) is not a SQL literal", hint=_LITERAL_HINT) from None
    if any(t.comments for t in tokens) or any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise ParameterError(f"{what} ({shown!r}) holds a comment or a ';'", hint=_LITERAL_HINT)
    if not _is_literal(tree):
        raise ParameterError(f"{what} ({shown!r}) is not a SQL literal", hint=_LITERAL_HINT)
    return text


def bind(sql: str, values: Sequence[str], *, what: str, label: str = "execution parameter") -> str:
    """``sql`` with its placeholders replaced by ``values`` in order; ``what`` names the statement in errors."""
    found = placeholders(sql)
    if found is None:
        if values:
            raise ParameterError(f"{what} cannot take parameters: it is not valid SQL", hint="check its syntax")
        return sql
    if len(found) != len(values):
        raise ParameterError(
            f"{what} has {_count(len(found), 'parameter placeholder')} (?) but {_count(len(values), label)} "
            f"{'was' if len(values) == 1 else 'were'} given",
            hint=f"give one {label} per ?, in order",
        )
    texts = [literal(v, what=f"{label} {i}") for i, v in enumerate(values, start=1)]
    out = sql
    for offset, text in sorted(zip(found, texts, strict=True), reverse=True):
        out = f"{out[:offset]} {text} {out[offset + 1 :]}"
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
