"""Random queries: SELECT over a table, a join of up to three tables along their keys (inner or left), or a
subquery; with WHERE, DISTINCT, GROUP BY + HAVING, global aggregates, window functions, UNION ALL, and
ORDER BY + LIMIT where the order is total (DISTINCT rows ordered by every column, or groups by every key).

Every query comes from ``QueryGenerator(stats, sizes, seed)`` alone: a seed gives the same query on every run
(over the same data). Large sources get extra range conditions, so that answers stay at a few hundred rows.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass

from tests.query.differential.catalog import BY_NAME, EDGES, TABLES, TableSpec
from tests.query.differential.expressions import Expressions
from tests.query.differential.nodes import (
    NUMERIC,
    Between,
    ColumnRef,
    Compare,
    DerivedSource,
    Expr,
    IsNull,
    Join,
    Kind,
    Literal,
    Logical,
    Not,
    OrderKey,
    Query,
    Select,
    Source,
    TableSource,
    UnionAll,
)
from tests.query.differential.scope import Available, Scope, bound, mistyped_in_subquery
from tests.query.differential.world import SAMPLES, ColumnStats

Stats = Mapping[tuple[str, str], ColumnStats]
ITEM_KINDS = (Kind.INT, Kind.INT, Kind.DECIMAL, Kind.DOUBLE, Kind.VARCHAR, Kind.VARCHAR, Kind.BOOLEAN, Kind.DATE)


@dataclass(frozen=True)
class TlpCase:
    """Ternary logic partitioning: the rows of ``query`` are those where ``predicate`` is true, false, or NULL."""

    query: Select
    predicate: Expr

    def partitions(self) -> tuple[Select, Select, Select]:
        p = self.predicate
        where = self.query.where

        def restricted(condition: Expr) -> Select:
            both = condition if where is None else Logical(Kind.BOOLEAN, "AND", where, condition)
            return dataclasses.replace(self.query, where=both)

        return restricted(p), restricted(Not(Kind.BOOLEAN, p)), restricted(IsNull(Kind.BOOLEAN, p))


@dataclass(frozen=True)
class From:
    source: Source
    scope: Scope
    rows: int  # about how many rows it gives
    narrow: list[Available]  # columns of many distinct values, to keep the answer small with


class QueryGenerator:
    def __init__(self, stats: Stats, sizes: Mapping[str, int], seed: int) -> None:
        self.stats = stats
        self.sizes = sizes
        self.seed = seed
        self.rng = random.Random(seed)

    # ---- entry points

    def query(self) -> Query:
        if self.rng.random() < 0.12:
            left, _ = self.select(shape="plain")
            right, _ = self.select(shape="plain", want=left.kinds)
            return UnionAll(left, right)
        select, _ = self.select(top=True)
        return select

    def tlp(self) -> TlpCase:
        found = self._source("t", allow_derived=True)
        ex = Expressions(self.rng, found.scope)
        kinds = [self._item_kind(found.scope) for _ in range(self.rng.randint(1, 3))]
        items = tuple((ex.expr(kind, 2), f"c{i}") for i, kind in enumerate(kinds))
        where = ex.predicate(self.rng.randint(1, 2)) if self.rng.random() < 0.4 else None
        query = Select(items, found.source, self._narrowed(where, found))
        return TlpCase(query, ex.predicate(self.rng.randint(1, 3)))

    # ---- SELECT

    def select(
        self, *, prefix: str = "t", name: str = "c", want: list[Kind] | None = None, shape: str = "", top: bool = False
    ) -> tuple[Select, Scope]:
        rng = self.rng
        found = self._source(prefix, allow_derived=prefix == "t")
        source, scope = found.source, found.scope
        ex = Expressions(rng, scope)
        where = ex.predicate(rng.randint(1, 2)) if rng.random() < 0.7 else None
        shape = shape or rng.choices(["plain", "distinct", "grouped", "aggregate"], [40, 15, 30, 15])[0]
        if shape in ("plain", "distinct"):
            kinds = want or [self._item_kind(scope) for _ in range(rng.randint(1, 4))]
            exprs = [ex.expr(kind, rng.randint(0, 2)) for kind in kinds]
            if not want and rng.random() < 0.2:
                exprs.append(ex.window())
            items = tuple((e, f"{name}{i}") for i, e in enumerate(exprs))
            select = Select(items, source, self._narrowed(where, found), distinct=shape == "distinct")
            if shape == "distinct" and top and rng.random() < 0.4:
                select = self._ordered(select, range(len(items)))
            return select, scope
        keys = [ex.key() for _ in range(rng.randint(1, 2))] if shape == "grouped" else []
        aggregates = [ex.aggregate(rng.randint(0, 2)) for _ in range(rng.randint(1, 3))]
        items = tuple((e, f"{name}{i}") for i, e in enumerate([*keys, *aggregates]))
        having = self._having(ex) if rng.random() < (0.4 if keys else 0.1) else None
        select = Select(items, source, self._narrowed(where, found), group_by=tuple(keys), having=having)
        if keys and top and rng.random() < 0.4:
            select = self._ordered(select, range(len(keys)))
        return select, scope

    def _item_kind(self, scope: Scope) -> Kind:
        present = scope.kinds()
        return self.rng.choice(present) if present and self.rng.random() < 0.8 else self.rng.choice(ITEM_KINDS)

    def _having(self, ex: Expressions) -> Expr:
        def condition() -> Expr:
            agg = ex.aggregate(1)
            while agg.kind is Kind.DOUBLE:  # a sum of doubles may differ in its last bits: no boundary on it
                agg = ex.aggregate(1)
            if agg.name.startswith("count"):
                value: Expr = Literal(Kind.INT, self.rng.randint(0, 6))
            else:
                value = ex.literal(agg.kind, agg.arg)
            return Compare(Kind.BOOLEAN, self.rng.choice(["=", "<>", "<", "<=", ">", ">="]), agg, value)

        if self.rng.random() < 0.25:
            return Logical(Kind.BOOLEAN, self.rng.choice(("AND", "OR")), condition(), condition())
        return condition()

    def _ordered(self, select: Select, positions: range) -> Select:
        rng = self.rng
        order = list(positions)
        rng.shuffle(order)
        keys = tuple(OrderKey(p, rng.random() < 0.5, rng.choice([None, None, "FIRST", "LAST"])) for p in order)
        return dataclasses.replace(select, order_by=keys, limit=rng.randint(1, 20))

    # ---- FROM

    def _narrowed(self, where: Expr | None, found: From) -> Expr | None:
        """``where``, and ranges on columns of many values while the source is large (answers of a few hundred
        rows at most keep the comparison cheap)."""
        rows, candidates = float(found.rows), list(found.narrow)
        while rows > 300 and candidates:
            column = candidates.pop(self.rng.randrange(len(candidates)))
            samples = column.stats.samples
            keep = max(1, round(len(samples) * 150 / rows))
            rows *= keep / len(samples)
            if self.rng.random() < 0.5:
                range_: Expr = Compare(Kind.BOOLEAN, "<", column.ref, Literal(column.ref.kind, samples[keep]))
            else:
                start = self.rng.randrange(len(samples) - keep)
                low, high = Literal(column.ref.kind, samples[start]), Literal(column.ref.kind, samples[start + keep])
                range_ = Between(Kind.BOOLEAN, column.ref, low, high)
            where = range_ if where is None else Logical(Kind.BOOLEAN, "AND", range_, where)
        return where

    def _source(self, prefix: str, *, allow_derived: bool) -> From:
        found = self._derived() if allow_derived and self.rng.random() < 0.15 else self._joined(prefix)
        roll = self.rng.random()
        if roll < 0.3 and not isinstance(found.source, Join):
            return self._respelled(found, qualified=False, upper=roll < 0.05)  # as people write one-table queries
        if roll > 0.92:
            return self._respelled(found, qualified=True, upper=True)
        return found

    def _respelled(self, found: From, *, qualified: bool, upper: bool) -> From:
        """The same columns, written without their table's alias or in upper case: lakeport must read them as the
        same columns (in upper case, a known bug, it does not know their types: see ``AVOID_UNTYPED_REWRITES``)."""

        def respell(c: Available) -> Available:
            typed = c.ref.typed and not upper
            return Available(dataclasses.replace(c.ref, qualified=qualified, upper=upper, typed=typed), c.stats)

        narrow = [respell(c) for c in found.narrow]
        return From(found.source, Scope([respell(c) for c in found.scope.columns]), found.rows, narrow)

    def _available(self, spec: TableSpec, alias: str, *, nullable: bool) -> list[Available]:
        found = []
        for column in spec.columns:
            stats = self.stats[(spec.qualified, column.name)]
            if nullable:
                stats = dataclasses.replace(stats, nullable=True)
            found.append(Available(ColumnRef(column.kind, alias, column.name), stats))
        return found

    def _joined(self, prefix: str) -> From:
        rng = self.rng
        first = rng.choices(TABLES, [t.weight for t in TABLES])[0]
        source: Source = TableSource(first.database, first.name, f"{prefix}0")
        present = [(first, f"{prefix}0")]
        columns = self._available(first, f"{prefix}0", nullable=False)
        rows = float(self.sizes[first.qualified])
        for n in (1, 2):
            if rng.random() >= (0.4 if n == 1 else 0.2):
                break
            names = {spec.qualified for spec, _ in present}
            choices = [
                (alias, mine, key, other, other_key)
                for spec, alias in present
                for edge in EDGES
                for mine, key, other, other_key in (
                    (edge.left, edge.left_key, edge.right, edge.right_key),
                    (edge.right, edge.right_key, edge.left, edge.left_key),
                )
                if mine == spec.qualified and other not in names
            ]
            if not choices:
                break
            alias, mine, key, other_name, other_key = rng.choice(choices)
            # from a key to the rows that refer to it, each row meets several: the answer grows
            rows *= max(1.0, self.sizes[other_name] / self.sizes[mine])
            other = BY_NAME[other_name]
            how = rng.choice(("INNER", "LEFT"))
            right = TableSource(other.database, other.name, f"{prefix}{n}")
            left_ref = next(c.ref for c in columns if c.ref.alias == alias and c.ref.name == key)
            right_ref = ColumnRef(other.column(other_key).kind, right.alias, other_key)
            source = Join(source, right, how, ((left_ref, right_ref),))
            present.append((other, right.alias))
            columns += self._available(other, right.alias, nullable=how == "LEFT")
        narrow = [c for c in columns if len(c.stats.samples) >= SAMPLES and c.ref.kind is not Kind.BOOLEAN]
        return From(source, Scope(columns), round(rows), narrow)

    def _derived(self) -> From:
        inner, inner_scope = self.select(prefix="u", name="x")
        alias = "s0"
        columns = []
        for e, name in inner.items:
            if isinstance(e, ColumnRef):
                stats = dataclasses.replace(inner_scope.stats(e), nullable=True)
            else:
                size = bound(e, inner_scope) if e.kind in NUMERIC else 0.0
                stats = ColumnStats((), size, True)
            columns.append(Available(ColumnRef(e.kind, alias, name, typed=not mistyped_in_subquery(e)), stats))
        return From(DerivedSource(inner, alias), Scope(columns), 300, [])
