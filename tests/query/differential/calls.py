"""Random calls of string and date functions, with arguments both engines read alike: substr from a positive
start, replace of a non-empty string, lpad/rpad to a non-negative size with a non-empty pad, split_part from
index 1, date_trunc / date_add by a day or longer, date_diff in days."""

from __future__ import annotations

from tests.query.differential.nodes import Arith, Cast, Expr, Func, Kind, Literal
from tests.query.differential.scope import Base, untyped

TRUNC_UNITS = ("year", "quarter", "month", "week", "day")
ADD_UNITS = ("day", "month", "year")
DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year")


class Calls(Base):
    # ---- strings

    def case_change(self, kind: Kind, depth: int) -> Expr:
        return Func(Kind.VARCHAR, self.rng.choice(("lower", "upper")), (self.expr(Kind.VARCHAR, depth),))

    def substr(self, kind: Kind, depth: int) -> Expr:
        args: tuple[Expr, ...] = (self.expr(Kind.VARCHAR, depth), Literal(Kind.INT, self.rng.randint(1, 6)))
        if self.rng.random() < 0.7:
            args += (Literal(Kind.INT, self.rng.randint(0, 8)),)
        return Func(Kind.VARCHAR, "substr", args)

    def concat(self, kind: Kind, depth: int) -> Expr:
        parts = [self.expr(Kind.VARCHAR, depth) for _ in range(self.rng.randint(2, 3))]
        if self.rng.random() < 0.5:
            return Arith(Kind.VARCHAR, "||", parts[0], parts[1])
        return Func(Kind.VARCHAR, "concat", tuple(parts))

    def replace(self, kind: Kind, depth: int) -> Expr:
        text = self.expr(Kind.VARCHAR, depth)
        search = self.fragment(text)
        if not isinstance(search.value, str) or not search.value:
            search = Literal(Kind.VARCHAR, "e")
        return Func(Kind.VARCHAR, "replace", (text, search, self.literal(Kind.VARCHAR)))

    def pad(self, kind: Kind, depth: int) -> Expr:
        size = Literal(Kind.INT, self.rng.randint(0, 14))
        filler = Literal(Kind.VARCHAR, self.rng.choice(("*", " ", "ab", "é")))
        return Func(Kind.VARCHAR, self.rng.choice(("lpad", "rpad")), (self.expr(Kind.VARCHAR, depth), size, filler))

    def split_part(self, kind: Kind, depth: int) -> Expr:
        delimiter = Literal(Kind.VARCHAR, self.rng.choice((" ", ",", "e", "an")))
        index = Literal(Kind.INT, self.rng.randint(1, 4))
        return Func(Kind.VARCHAR, "split_part", (self.expr(Kind.VARCHAR, depth), delimiter, index))

    def to_varchar(self, kind: Kind, depth: int) -> Expr:
        return Cast(Kind.VARCHAR, self.expr(self.pick(Kind.INT, Kind.DATE, Kind.BOOLEAN), depth))

    def length(self, kind: Kind, depth: int) -> Expr:
        return Func(Kind.INT, "length", (self.expr(Kind.VARCHAR, depth),))

    def strpos(self, kind: Kind, depth: int) -> Expr:
        text = self.expr(Kind.VARCHAR, depth)
        return Func(Kind.INT, "strpos", (text, self.fragment(text)))

    # ---- dates and timestamps

    def date_part(self, kind: Kind, depth: int) -> Expr:
        source = self.pick(Kind.DATE, Kind.TIMESTAMP)
        return Func(Kind.INT, self.rng.choice(DATE_PARTS), (self.expr(source, depth),))

    def date_trunc(self, kind: Kind, depth: int) -> Expr:
        unit = Literal(Kind.VARCHAR, self.rng.choice(TRUNC_UNITS))
        arg = self.expr(kind, depth)
        if kind is Kind.DATE and untyped(arg):
            return arg  # lakeport would give a timestamp (a known bug: AVOID_UNTYPED_REWRITES)
        return Func(kind, "date_trunc", (unit, arg))

    def date_add(self, kind: Kind, depth: int) -> Expr:
        unit = Literal(Kind.VARCHAR, self.rng.choice(ADD_UNITS))
        amount = Literal(Kind.INT, self.rng.choice((-400, -31, -12, -1, 0, 1, 2, 7, 12, 30, 365)))
        arg = self.expr(kind, depth)
        if kind is Kind.DATE and untyped(arg):
            return arg  # lakeport would give a timestamp (a known bug: AVOID_UNTYPED_REWRITES)
        return Func(kind, "date_add", (unit, amount, arg))

    def date_diff(self, kind: Kind, depth: int) -> Expr:
        first, second = self.expr(Kind.DATE, depth), self.expr(Kind.DATE, depth)
        return Func(Kind.INT, "date_diff", (Literal(Kind.VARCHAR, "day"), first, second))
