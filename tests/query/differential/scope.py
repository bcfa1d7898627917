"""What an expression generator works with: the columns in scope (with their samples and magnitudes), the
bounds that keep integer arithmetic from overflowing, and the base the builder groups share."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tests.query.differential.nodes import (
    NUMERIC,
    Agg,
    Arith,
    Case,
    Cast,
    Coalesce,
    ColumnRef,
    Expr,
    Func,
    Kind,
    Literal,
    Negate,
    Value,
    Window,
    children,
    walk,
)
from tests.query.differential.world import ColumnStats

SAFE = 1e9  # every integer expression stays below this magnitude (Trino's integer is 32-bit)
WORDS = ("a", "e", "the", "Love", "Remix", "BUILDING", "MAIL", "x", "café", "O'Neil", "")

# Switches that keep the generator away from lakeport bugs it found (all fixed now, with regression tests in
# test_differential.py); set one to True to steer around a construct again.
# Lakeport does not know the type of a column written in upper case (nor of a VALUES column), so the rewrites that
# depend on types (integer division, casts to integers rounding half away from zero, date_add / date_trunc of a
# date staying a date) are skipped for it.
AVOID_UNTYPED_REWRITES = False
# A subquery's column computed by date_trunc of a date column is a timestamp to lakeport's type annotation, so
# date_trunc / date_add over it give timestamps: such a column counts as untyped.
AVOID_SUBQUERY_DATE_TRUNC = False
# count_if is NULL in lakeport (0 in Trino) when no input is TRUE or FALSE (no rows, or only NULLs): not generated.
AVOID_COUNT_IF = False

FUNCTION_BOUNDS = {"year": 3000.0, "month": 12.0, "day": 31.0, "day_of_week": 7.0, "day_of_year": 366.0}
FUNCTION_BOUNDS |= {"date_diff": 1e5, "length": 1e4, "strpos": 1e4}


@dataclass(frozen=True)
class Available:
    ref: ColumnRef
    stats: ColumnStats


@dataclass
class Scope:
    columns: list[Available]

    def of(self, *kinds: Kind) -> list[Available]:
        return [c for c in self.columns if c.ref.kind in kinds]

    def stats(self, ref: ColumnRef) -> ColumnStats:
        return next(c.stats for c in self.columns if c.ref == ref)

    def kinds(self) -> list[Kind]:
        return sorted({c.ref.kind for c in self.columns}, key=lambda k: k.value)


def branches(e: Case | Coalesce) -> list[Expr]:
    if isinstance(e, Coalesce):
        return list(e.args)
    return [v for _, v in e.whens] + ([e.default] if e.default is not None else [])


def bound(e: Expr, scope: Scope) -> float:
    """An upper bound of the magnitude of an integer or decimal expression's values."""
    if isinstance(e, ColumnRef):
        return scope.stats(e).bound
    if isinstance(e, Literal):
        return abs(float(e.value)) if isinstance(e.value, int | float | Decimal) else 0.0
    if isinstance(e, Arith):
        left, right = bound(e.left, scope), bound(e.right, scope)
        return {"+": left + right, "-": left + right, "*": left * right, "/": left, "%": right}.get(e.op, SAFE)
    if isinstance(e, Negate | Cast):
        return bound(e.arg, scope) + 1
    if isinstance(e, Case | Coalesce):
        return max((bound(v, scope) for v in branches(e)), default=0.0)
    if isinstance(e, Func):
        if e.name in ("abs", "greatest", "least", "nullif", "if"):
            return max((bound(a, scope) for a in e.args if a.kind in NUMERIC), default=0.0)
        return FUNCTION_BOUNDS.get(e.name, SAFE)
    if isinstance(e, Agg | Window):
        if e.name in ("min", "max"):
            return bound(e.arg, scope) if e.arg is not None else SAFE
        return 1e4 * (bound(e.arg, scope) if e.arg is not None and e.arg.kind in NUMERIC else 1.0)
    return SAFE


def scale(e: Expr) -> int:
    """The decimal scale Trino gives an expression (0 for integers)."""
    if e.kind is not Kind.DECIMAL:
        return 0
    if isinstance(e, Literal) and isinstance(e.value, Decimal):
        return -int(e.value.as_tuple().exponent)
    if isinstance(e, Arith):
        return scale(e.left) + scale(e.right) if e.op == "*" else max(scale(e.left), scale(e.right))
    if isinstance(e, Negate):
        return scale(e.arg)
    if isinstance(e, Case | Coalesce):
        return max(scale(v) for v in branches(e))
    if isinstance(e, Func):
        return max((scale(a) for a in e.args), default=2)
    return 2


def untyped(e: Expr) -> bool:
    """Whether ``e`` reads a column lakeport does not know the type of (see ``AVOID_UNTYPED_REWRITES``)."""
    return AVOID_UNTYPED_REWRITES and any(isinstance(x, ColumnRef) and not x.typed for x in walk(e))


def mistyped_in_subquery(e: Expr) -> bool:
    """Whether lakeport gets the type of a subquery's column computed by ``e`` wrong (or does not know it)."""
    truncated = any(isinstance(x, Func) and x.name == "date_trunc" and x.kind is Kind.DATE for x in walk(e))
    return untyped(e) or (AVOID_SUBQUERY_DATE_TRUNC and truncated)


def has_column(e: Expr) -> bool:
    """Whether ``e`` reads a column outside any aggregate."""
    if isinstance(e, ColumnRef):
        return True
    return not isinstance(e, Agg | Window) and any(has_column(c) for c in children(e))


def as_kind(value: Value, kind: Kind) -> Value:
    """A sample of a column, as a literal of the compared kind (a decimal column compared as a double...)."""
    if kind is Kind.DOUBLE and isinstance(value, int | Decimal) and not isinstance(value, bool):
        return float(value)
    if kind is Kind.DECIMAL and isinstance(value, float):
        return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
    if kind is Kind.DECIMAL and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).quantize(Decimal("0.01"))
    if kind is Kind.INT and isinstance(value, float | Decimal):
        return int(value)
    return value


def random_value(rng: random.Random, kind: Kind) -> Value:
    if kind is Kind.INT:
        return rng.choice([0, 1, 2, 3, 5, 10, 42, 100, -1, -5, 1000, rng.randint(-50, 5000)])
    if kind is Kind.DECIMAL:
        return Decimal(rng.randint(-100_000, 1_000_000)).scaleb(-2)
    if kind is Kind.DOUBLE:
        return rng.choice([0.0, 0.5, 1.0, -2.5, 0.125, 100.0, round(rng.uniform(-50, 500), 3)])
    if kind is Kind.VARCHAR:
        return rng.choice(WORDS)
    if kind is Kind.BOOLEAN:
        return rng.random() < 0.5
    if kind is Kind.DATE:
        return dt.date(1992, 1, 1) + dt.timedelta(days=rng.randrange(7 * 365))
    return dt.datetime(1990, 1, 1) + dt.timedelta(days=rng.randrange(34 * 365))


Builder = Callable[[Kind, int], Expr]  # (the kind it must have, depth left) → an expression


class Base:
    """The entry points every builder group uses; ``Expressions`` fills ``builders``."""

    def __init__(self, rng: random.Random, scope: Scope) -> None:
        self.rng = rng
        self.scope = scope
        self.builders: dict[Kind, list[Builder]] = {}

    def expr(self, kind: Kind, depth: int = 2) -> Expr:
        if depth <= 0 or self.rng.random() < 0.3:
            return self.leaf(kind)
        return self.rng.choice(self.builders[kind])(kind, depth - 1)

    def predicate(self, depth: int = 2) -> Expr:
        return self.expr(Kind.BOOLEAN, max(depth, 1))

    def leaf(self, kind: Kind) -> Expr:
        columns = self.scope.of(kind)
        if kind is Kind.BOOLEAN and (not columns or self.rng.random() < 0.7):
            return self.builders[Kind.BOOLEAN][0](Kind.BOOLEAN, 0)  # a comparison
        if columns and self.rng.random() < 0.85:
            return self.rng.choice(columns).ref
        return self.literal(kind)

    def literal(self, kind: Kind, near: Expr | None = None) -> Literal:
        """A constant of ``kind``: usually one of ``near``'s values when ``near`` is a column, sometimes NULL."""
        rng = self.rng
        if rng.random() < 0.05:
            return Literal(kind, None)
        if isinstance(near, ColumnRef):
            samples = self.scope.stats(near).samples
            if samples and rng.random() < 0.85:
                return Literal(kind, as_kind(rng.choice(samples), kind))
        return Literal(kind, random_value(rng, kind))

    def pick(self, *kinds: Kind) -> Kind:
        """One of ``kinds``, usually one the scope has columns of."""
        present = [k for k in kinds if self.scope.of(k)]
        return self.rng.choice(present if present and self.rng.random() < 0.9 else kinds)

    def numeric(self, kind: Kind, depth: int) -> Expr:
        """An expression of ``kind`` whose integer values stay far from overflow."""
        for _ in range(8):
            e = self.expr(kind, depth)
            if kind is not Kind.INT or bound(e, self.scope) < SAFE:
                return e
        return self.leaf(kind)

    def fragment(self, near: Expr) -> Literal:
        """A short piece of one of ``near``'s values (for strpos, replace)."""
        value = self.literal(Kind.VARCHAR, near)
        if isinstance(value.value, str) and len(value.value) > 3:
            start = self.rng.randrange(len(value.value) - 2)
            return Literal(Kind.VARCHAR, value.value[start : start + self.rng.randint(1, 3)])
        return value
