"""Random predicates: comparisons (IS [NOT] DISTINCT FROM too), AND / OR / NOT over three-valued logic,
IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN lists holding NULLs now and then, [NOT] LIKE, starts_with, regexp_like."""

from __future__ import annotations

from tests.query.differential.nodes import (
    NUMERIC,
    Between,
    Compare,
    Expr,
    Func,
    InList,
    IsNull,
    Kind,
    Like,
    Literal,
    Logical,
    Not,
)
from tests.query.differential.scope import WORDS, Base

PATTERNS = ("^[A-M]", "a.e", "e$", "[0-9]", "^The ", "an", "(?i)the", "[aeiou]{2}", "^$")


class Predicates(Base):
    def comparable(self, depth: int) -> Expr:
        kinds = [k for k in self.scope.kinds() if k is not Kind.BOOLEAN] or [Kind.INT]
        kind = self.rng.choice(kinds)
        return self.numeric(kind, depth) if kind in NUMERIC else self.expr(kind, depth)

    def compare(self, kind: Kind, depth: int) -> Expr:
        rng = self.rng
        left = self.comparable(depth)
        if rng.random() < 0.65:
            right: Expr = self.literal(left.kind, left)
        else:
            other = rng.choice(NUMERIC) if left.kind in NUMERIC else left.kind
            right = self.numeric(other, depth) if other in NUMERIC else self.expr(other, depth)
        ops = ["=", "<>", "<", "<=", ">", ">=", "=", "<>", "<", ">"]
        if rng.random() < 0.15:
            ops = ["IS DISTINCT FROM", "IS NOT DISTINCT FROM"]
        return Compare(Kind.BOOLEAN, rng.choice(ops), left, right)

    def logical(self, kind: Kind, depth: int) -> Expr:
        return Logical(Kind.BOOLEAN, self.rng.choice(("AND", "OR")), self.predicate(depth), self.predicate(depth))

    def negation(self, kind: Kind, depth: int) -> Expr:
        return Not(Kind.BOOLEAN, self.predicate(depth))

    def is_null(self, kind: Kind, depth: int) -> Expr:
        nullable = [c.ref for c in self.scope.columns if c.stats.nullable]
        if nullable and self.rng.random() < 0.7:
            arg: Expr = self.rng.choice(nullable)
        else:
            arg = self.expr(self.rng.choice(self.scope.kinds()), depth)
        return IsNull(Kind.BOOLEAN, arg, negated=self.rng.random() < 0.4)

    def between(self, kind: Kind, depth: int) -> Expr:
        arg = self.comparable(depth)
        low, high = self.literal(arg.kind, arg), self.literal(arg.kind, arg)
        ordered = self.rng.random() < 0.8 and low.value is not None and high.value is not None
        if ordered and high.value < low.value:  # type: ignore[operator]
            low, high = high, low
        return Between(Kind.BOOLEAN, arg, low, high, negated=self.rng.random() < 0.3)

    def in_list(self, kind: Kind, depth: int) -> Expr:
        arg = self.comparable(depth)
        items = tuple(self.literal(arg.kind, arg) for _ in range(self.rng.randint(1, 4)))
        return InList(Kind.BOOLEAN, arg, items, negated=self.rng.random() < 0.3)

    def like(self, kind: Kind, depth: int) -> Expr:
        rng = self.rng
        arg = self.expr(Kind.VARCHAR, max(depth - 1, 0))
        sample = self.literal(Kind.VARCHAR, arg).value
        text = sample if isinstance(sample, str) and sample else rng.choice(WORDS[:-1])
        start = rng.randrange(len(text))
        piece = text[start : start + rng.randint(1, 4)].replace("\\", "")
        if rng.random() < 0.3 and piece:
            position = rng.randrange(len(piece))
            piece = piece[:position] + "_" + piece[position + 1 :]
        pattern = rng.choice([f"%{piece}%", f"{piece}%", f"%{piece}", piece, f"{text[:1]}%{piece}%", "%"])
        return Like(Kind.BOOLEAN, arg, pattern, negated=rng.random() < 0.3)

    def starts_with(self, kind: Kind, depth: int) -> Expr:
        text = self.expr(Kind.VARCHAR, depth)
        prefix = self.literal(Kind.VARCHAR, text)
        if isinstance(prefix.value, str):
            prefix = Literal(Kind.VARCHAR, prefix.value[: self.rng.randint(0, 4)])
        return Func(Kind.BOOLEAN, "starts_with", (text, prefix))

    def regexp_like(self, kind: Kind, depth: int) -> Expr:
        pattern = Literal(Kind.VARCHAR, self.rng.choice(PATTERNS))
        return Func(Kind.BOOLEAN, "regexp_like", (self.expr(Kind.VARCHAR, depth), pattern))
