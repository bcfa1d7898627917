"""Random, well-typed expressions over the columns in scope: arithmetic, CASE / IF / COALESCE / NULLIF /
GREATEST / LEAST, casts, the string and date calls (``calls``), predicates (``predicates``), aggregates and
window functions.

Only constructs whose Trino meaning the oracle reproduces are built: integer ``/`` and ``%`` only by a non-zero
literal (no division by zero), arithmetic kept far from integer overflow (a magnitude bound per expression),
decimal multiplication kept within Trino's 38 digits, no decimal division, no double ``%``, no avg of decimals.
"""

from __future__ import annotations

import random

from tests.query.differential.calls import Calls
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
    Window,
    WindowKey,
)
from tests.query.differential.predicates import Predicates
from tests.query.differential.scope import (
    AVOID_COUNT_IF,
    SAFE,
    Scope,
    bound,
    has_column,
    scale,
    untyped,
)

INT_DIVISORS = (-7, -3, -2, 2, 3, 4, 10)
ORDERABLE = (Kind.INT, Kind.DECIMAL, Kind.DOUBLE, Kind.VARCHAR, Kind.DATE, Kind.TIMESTAMP)


class Expressions(Predicates, Calls):
    def __init__(self, rng: random.Random, scope: Scope) -> None:
        super().__init__(rng, scope)
        self.builders = {
            Kind.INT: [self.arith, self.arith, self.int_division, self.int_division, self.negate, self.length, self.strpos,
                       self.date_part, self.to_int, self.case, self.coalesce, self.abs, self.choose,
                       self.date_diff],
            Kind.DECIMAL: [self.arith, self.arith, self.negate, self.case, self.coalesce, self.abs, self.choose],
            Kind.DOUBLE: [self.arith, self.arith, self.double_division, self.rounding, self.to_double,
                          self.case, self.coalesce, self.negate, self.choose],
            Kind.VARCHAR: [self.case_change, self.substr, self.concat, self.concat, self.replace, self.pad,
                           self.split_part, self.to_varchar, self.case, self.coalesce, self.choose],
            Kind.BOOLEAN: [self.compare, self.compare, self.compare, self.logical, self.logical, self.negation,
                           self.is_null, self.between, self.in_list, self.like, self.like, self.starts_with,
                           self.regexp_like],
            Kind.DATE: [self.case, self.coalesce, self.date_trunc, self.date_add, self.choose],
            Kind.TIMESTAMP: [self.coalesce, self.date_trunc, self.date_add],
        }  # fmt: skip

    # ---- numbers

    def arith(self, kind: Kind, depth: int) -> Expr:
        rng = self.rng
        op = rng.choice("+-*")
        other = {Kind.INT: Kind.INT, Kind.DECIMAL: self.pick(Kind.DECIMAL, Kind.INT),
                 Kind.DOUBLE: self.pick(*NUMERIC)}[kind]  # fmt: skip
        left = self.expr(kind, depth)
        right = self.literal(other, left) if rng.random() < 0.5 else self.expr(other, depth)
        if rng.random() < 0.5:
            left, right = right, left
        e = Arith(kind, op, left, right)
        if kind in (Kind.INT, Kind.DECIMAL) and bound(e, self.scope) >= SAFE:
            return left if left.kind is kind else right
        if kind is Kind.DECIMAL and op == "*" and scale(e) > 4:
            return Arith(kind, "+", left, right)
        return e

    def int_division(self, kind: Kind, depth: int) -> Expr:
        left = self.numeric(Kind.INT, depth)
        if untyped(left):
            return self.arith(Kind.INT, depth)
        divisor = Literal(Kind.INT, self.rng.choice(INT_DIVISORS))
        return Arith(Kind.INT, self.rng.choice("/%"), left, divisor)

    def double_division(self, kind: Kind, depth: int) -> Expr:
        left = self.expr(Kind.DOUBLE, depth)
        divisor = self.rng.choice([2.5, -4.0, 0.1, 3.0])
        return Arith(Kind.DOUBLE, "/", left, Literal(Kind.DOUBLE, divisor))

    def negate(self, kind: Kind, depth: int) -> Expr:
        return Negate(kind, self.numeric(kind, depth))

    def abs(self, kind: Kind, depth: int) -> Expr:
        return Func(kind, "abs", (self.numeric(kind, depth),))

    def rounding(self, kind: Kind, depth: int) -> Expr:
        return Func(Kind.DOUBLE, self.rng.choice(("floor", "ceil")), (self.expr(Kind.DOUBLE, depth),))

    def to_int(self, kind: Kind, depth: int) -> Expr:
        source = self.pick(Kind.DOUBLE, Kind.DECIMAL)
        arg = self.expr(source, depth)
        small = isinstance(arg, Literal) or (isinstance(arg, ColumnRef) and self.scope.stats(arg).bound < SAFE)
        if untyped(arg) or not (source is Kind.DECIMAL or small):
            return self.leaf(Kind.INT)
        return Cast(Kind.INT, arg)

    def to_double(self, kind: Kind, depth: int) -> Expr:
        return Cast(Kind.DOUBLE, self.expr(self.pick(Kind.INT, Kind.DECIMAL), depth))

    # ---- any kind

    def case(self, kind: Kind, depth: int) -> Expr:
        rng = self.rng
        whens = tuple((self.predicate(depth), self.expr(kind, depth)) for _ in range(rng.randint(1, 3)))
        default = self.expr(kind, depth) if rng.random() < 0.7 else None
        return Case(kind, whens, default)

    def coalesce(self, kind: Kind, depth: int) -> Expr:
        return Coalesce(kind, tuple(self.expr(kind, depth) for _ in range(self.rng.randint(2, 3))))

    def choose(self, kind: Kind, depth: int) -> Expr:
        """if(c, a[, b]), nullif(a, b), greatest / least(a, b, …) — NULL when any argument is, in Trino."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            args: tuple[Expr, ...] = (self.predicate(depth), self.expr(kind, depth))
            if rng.random() < 0.8:
                args += (self.expr(kind, depth),)
            return Func(kind, "if", args)
        first = self.numeric(kind, depth) if kind is Kind.INT else self.expr(kind, depth)
        if roll < 0.55:
            return Func(kind, "nullif", (first, self.literal(kind, first)))
        rest = tuple(self.numeric(kind, depth) if kind is Kind.INT else self.expr(kind, depth) for _ in "ab")
        return Func(kind, rng.choice(("greatest", "least")), (first, *rest[: rng.randint(1, 2)]))

    # ---- aggregates and windows

    def aggregate(self, depth: int = 1) -> Agg:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            return Agg(Kind.INT, "count", None)
        if roll < 0.3:
            kind = rng.choice(self.scope.kinds())
            return Agg(Kind.INT, "count", self.expr(kind, depth), distinct=rng.random() < 0.5)
        if roll < 0.5:
            kind = self.pick(Kind.INT, Kind.DECIMAL, Kind.DOUBLE)
            return Agg(kind, "sum", self.numeric(kind, depth))
        if roll < 0.62:
            kind = self.pick(Kind.INT, Kind.DOUBLE)
            return Agg(Kind.DOUBLE, rng.choice(("avg", "avg", "stddev", "variance")), self.numeric(kind, depth))
        if roll < 0.72:
            name = rng.choice(("bool_and", "bool_or") if AVOID_COUNT_IF else ("count_if", "bool_and", "bool_or"))
            return Agg(Kind.INT if name == "count_if" else Kind.BOOLEAN, name, self.predicate(depth))
        kinds = [k for k in self.scope.kinds() if k in ORDERABLE] or [Kind.INT]
        kind = rng.choice(kinds)
        return Agg(kind, rng.choice(("min", "max")), self.expr(kind, depth))

    def key(self, depth: int = 1) -> Expr:
        """An expression over at least one column (a bare integer would be an ordinal in GROUP BY)."""
        kinds = [k for k in (Kind.INT, Kind.VARCHAR, Kind.DATE, Kind.BOOLEAN, Kind.DECIMAL) if self.scope.of(k)]
        for _ in range(10):
            found = self.expr(self.rng.choice(kinds or self.scope.kinds()), self.rng.randint(0, depth))
            if has_column(found):
                return found
        return self.rng.choice(self.scope.columns).ref

    def window(self, depth: int = 1) -> Window:
        rng = self.rng
        partition = tuple(self.key() for _ in range(rng.choice((0, 1, 1, 2))))
        order_size = rng.randint(1, 2)
        roll = rng.random()
        if roll < 0.3:
            name, kind, arg = rng.choice(("rank", "dense_rank")), Kind.INT, None
        else:
            agg = self.aggregate(depth)
            while agg.distinct or agg.name in ("count_if", "stddev", "variance"):
                agg = self.aggregate(depth)
            name, kind, arg = agg.name, agg.kind, agg.arg
            order_size = rng.randint(0, 1)
        order = tuple(
            WindowKey(self.key(), rng.random() < 0.5, rng.choice((None, None, "FIRST", "LAST")))
            for _ in range(order_size)
        )
        return Window(kind, name, arg, partition, order)
