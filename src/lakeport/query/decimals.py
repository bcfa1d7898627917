"""Trino's decimal arithmetic where DuckDB's differs: ``decimal / decimal`` and ``avg(decimal)`` stay decimal in
Trino (DuckDB answers a double), with the result type Trino's documentation gives:

- ``decimal(p1, s1) / decimal(p2, s2)`` → ``decimal(min(38, p1 + s2 + max(0, s2 - s1)), max(s1, s2))``, rounded
  half up;
- ``avg(decimal(p, s))`` → ``decimal(p, s)``.

The decimal types of expressions are worked out here (sqlglot's annotation does not carry precision through
arithmetic): columns from the catalog, decimal literals (``1.50`` is ``decimal(3, 2)`` in Trino), casts, ``+ - *``
(DuckDB and Trino agree on those types), ``sum``/``min``/``max``, ``CASE``/``COALESCE`` and integers mixed with
decimals (an integer is a ``decimal(10, 0)``, a bigint ``decimal(19, 0)``). The division itself runs in DuckDB's
double arithmetic and is then cast, so quotients beyond a double's 15–16 significant digits may differ in the
last place (docs/query.md).
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp

Decimal = tuple[int, int]  # precision, scale
MAX_PRECISION = 38
_INTEGERS = {
    exp.DataType.Type.TINYINT: (3, 0),
    exp.DataType.Type.SMALLINT: (5, 0),
    exp.DataType.Type.INT: (10, 0),
    exp.DataType.Type.BIGINT: (19, 0),
}


def _declared(kind: exp.DataType | None) -> Decimal | None:
    if kind is None:
        return None
    if kind.this == exp.DataType.Type.DECIMAL:
        params = [int(p.this.this) if isinstance(p.this, exp.Literal) else 0 for p in kind.expressions]
        precision = params[0] if params else 38
        return precision, params[1] if len(params) > 1 else 0
    found: Decimal | None = _INTEGERS.get(kind.this)
    return found


def decimal_of(node: exp.Expression | None) -> Decimal | None:
    """The expression's decimal type (integers as their decimal equivalents), or None when it is not one."""
    if node is None:
        return None
    if isinstance(node, exp.Paren | exp.Alias):
        return decimal_of(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this).lstrip("-")
        if "e" in text.lower():
            return None  # 1e3 is a double in Trino
        whole, _, fraction = text.partition(".")
        if not fraction and not _:
            return (10, 0) if int(text or "0") < 2**31 else (19, 0)
        digits = len(whole.lstrip("0")) + len(fraction)
        return max(digits, len(fraction), 1), len(fraction)
    if isinstance(node, exp.Cast | exp.TryCast):
        return _declared(node.to)
    if isinstance(node, exp.Neg):
        return decimal_of(node.this)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
        left, right = decimal_of(node.this), decimal_of(node.expression)
        if left is None or right is None:
            return None
        return _arithmetic(node, left, right)
    if isinstance(node, exp.Sum):
        inner = decimal_of(node.this)
        return None if inner is None or (inner[1] == 0 and _is_integer(node.this)) else (MAX_PRECISION, inner[1])
    if isinstance(node, exp.Min | exp.Max | exp.Avg | exp.Abs):
        return decimal_of(node.this)
    if isinstance(node, exp.Case | exp.Coalesce | exp.If):
        branches = [node.args.get("default"), node.args.get("true"), node.args.get("false")]
        branches += [w.args.get("true") for w in node.args.get("ifs") or []]
        branches += [node.this, *list(node.expressions)] if isinstance(node, exp.Coalesce) else []
        found = [decimal_of(b) for b in branches if b is not None and not isinstance(b, exp.Null)]
        if not found or any(f is None for f in found):
            return None
        known = [f for f in found if f is not None]
        if all(_is_integer_type(f) for f in known) and not _has_decimal(node):
            return None
        scale = max(s for _, s in known)
        return min(MAX_PRECISION, max(p - s for p, s in known) + scale), scale
    if isinstance(node, exp.Column):
        return _declared(node.type) if node.type is not None else None
    return None


def _is_integer_type(found: Decimal) -> bool:
    return found[1] == 0 and found[0] in (3, 5, 10, 19)


def _is_integer(node: exp.Expression) -> bool:
    """True when the expression is an integer, not a decimal of scale 0."""
    kind = node.type
    if isinstance(node, exp.Paren | exp.Alias | exp.Neg):
        return _is_integer(node.this)
    if isinstance(node, exp.Literal):
        return "." not in str(node.this)
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.this in _INTEGERS
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod):
        return _is_integer(node.this) and _is_integer(node.expression)
    return kind is not None and kind.this in _INTEGERS


def _has_decimal(node: exp.Expression) -> bool:
    return not _is_integer(node)


def _arithmetic(node: exp.Expression, left: Decimal, right: Decimal) -> Decimal | None:
    if _is_integer(node.this) and _is_integer(node.expression):
        return None  # integer arithmetic: not decimal
    (p1, s1), (p2, s2) = left, right
    if isinstance(node, exp.Add | exp.Sub):
        scale = max(s1, s2)
        return min(MAX_PRECISION, max(p1 - s1, p2 - s2) + scale + 1), scale
    if isinstance(node, exp.Mul):
        return min(MAX_PRECISION, p1 + p2), s1 + s2
    if isinstance(node, exp.Div):
        return min(MAX_PRECISION, p1 + s2 + max(0, s2 - s1)), max(s1, s2)
    return min(p2 - s2, p1 - s1) + max(s1, s2), max(s1, s2)  # modulus


def _decimal_type(found: Decimal) -> exp.DataType:
    precision, scale = found
    return exp.DataType.build(f"DECIMAL({precision}, {min(scale, precision)})")


def _typed_literal(node: exp.Cast) -> None:
    """``DECIMAL '1.10'`` is ``decimal(3, 2)`` in Trino — its precision and scale are the literal's (DuckDB
    would read it as ``decimal(18, 3)``)."""
    text = str(node.this.this).strip()
    unsigned = text[1:] if text[:1] in "+-" else text
    whole, _, fraction = unsigned.partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit():
        return  # not a plain decimal: leave it to the cast (which names the bad value)
    precision = max(len(whole.lstrip("0")) + len(fraction), 1)
    node.set("to", exp.DataType.build(f"DECIMAL({min(precision, MAX_PRECISION)}, {len(fraction)})"))


def rewrite_decimals(tree: exp.Expression, sql: str = "") -> exp.Expression:
    """Give bare ``DECIMAL`` types Trino's precision and scale, then cast decimal quotients and decimal averages
    to Trino's decimal type, innermost first. ``sql`` is the query's text: sqlglot reads the typed literal
    ``DECIMAL '1.10'`` and ``CAST('1.10' AS DECIMAL)`` alike, and Trino does not."""
    import re

    typed = {m.group(1) for m in re.finditer(r"\bDECIMAL\s*'([^']*)'", sql, flags=re.IGNORECASE)}
    for cast_node in tree.find_all(exp.Cast, exp.TryCast):
        to = cast_node.to
        if to.this != exp.DataType.Type.DECIMAL or to.expressions:
            continue
        inner = cast_node.this
        if isinstance(inner, exp.Literal) and inner.is_string and str(inner.this) in typed:
            _typed_literal(cast_node)
        else:  # CAST(x AS DECIMAL) is decimal(38, 0) in Trino; DuckDB's bare DECIMAL is decimal(18, 3)
            cast_node.set("to", exp.DataType.build("DECIMAL(38, 0)"))
    for node in cast(list[exp.Expression], list(tree.walk(bfs=False)))[::-1]:
        if isinstance(node, exp.Div | exp.Avg):
            found = decimal_of(node)
            if found is None or (isinstance(node, exp.Avg) and _is_integer(node.this)):
                continue
            replacement = exp.Cast(this=node.copy(), to=_decimal_type(found))
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree
