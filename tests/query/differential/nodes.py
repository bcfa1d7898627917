"""The query AST both renderings are made from: typed expressions and SELECT / UNION ALL queries.

Every expression carries its result ``Kind`` (the type family Trino gives it); the generator only builds
well-typed trees, so the two renderings need no type inference of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Kind(Enum):
    INT = "int"  # integer or bigint
    DECIMAL = "decimal"
    DOUBLE = "double"
    VARCHAR = "varchar"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


NUMERIC = (Kind.INT, Kind.DECIMAL, Kind.DOUBLE)
Value = int | Decimal | float | str | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Expr:
    kind: Kind


@dataclass(frozen=True)
class ColumnRef(Expr):
    alias: str
    name: str
    qualified: bool = True  # written alias.name (else the bare name: the FROM clause has one table)
    upper: bool = False  # written in upper case (identifiers are case-insensitive)
    typed: bool = True  # False: lakeport cannot know its type (a bare name, or a subquery's column made of one)


@dataclass(frozen=True)
class Literal(Expr):
    value: Value  # None: a NULL of ``kind``


@dataclass(frozen=True)
class Negate(Expr):
    arg: Expr


@dataclass(frozen=True)
class Arith(Expr):
    op: str  # + - * / %
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # = <> < <= > >= , IS DISTINCT FROM, IS NOT DISTINCT FROM
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Logical(Expr):
    op: str  # AND, OR
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    arg: Expr


@dataclass(frozen=True)
class IsNull(Expr):
    arg: Expr
    negated: bool = False


@dataclass(frozen=True)
class Between(Expr):
    arg: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class InList(Expr):
    arg: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like(Expr):
    arg: Expr
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Case(Expr):
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None


@dataclass(frozen=True)
class Coalesce(Expr):
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Func(Expr):
    """A scalar function by its Athena name (lower, substr, greatest, date_add, day_of_week …): the renderings
    say what each means in DuckDB."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Cast(Expr):
    """CAST(arg AS kind): int → varchar/double, double/decimal → int (Trino rounds half away from zero),
    decimal → double, date/boolean → varchar."""

    arg: Expr


@dataclass(frozen=True)
class Agg(Expr):
    name: str  # count, sum, min, max, avg, count_if, bool_and, bool_or, stddev, variance
    arg: Expr | None  # None: count(*)
    distinct: bool = False


@dataclass(frozen=True)
class WindowKey:
    expr: Expr
    descending: bool
    nulls: str | None  # FIRST, LAST, or None for Trino's default (last)


@dataclass(frozen=True)
class Window(Expr):
    """``name(arg) OVER (PARTITION BY … ORDER BY …)`` with the default frame: rank, dense_rank, or an aggregate."""

    name: str
    arg: Expr | None
    partition: tuple[Expr, ...]
    order: tuple[WindowKey, ...]


# ---- queries


@dataclass(frozen=True)
class TableSource:
    database: str
    table: str
    alias: str


@dataclass(frozen=True)
class DerivedSource:
    query: Select
    alias: str


@dataclass(frozen=True)
class Join:
    left: Source
    right: TableSource
    how: str  # INNER, LEFT
    on: tuple[tuple[ColumnRef, ColumnRef], ...]


Source = TableSource | DerivedSource | Join


@dataclass(frozen=True)
class OrderKey:
    position: int  # 0-based output column
    descending: bool
    nulls: str | None  # FIRST, LAST, or None for the default (Trino: NULLS LAST either way)


@dataclass(frozen=True)
class Select:
    items: tuple[tuple[Expr, str], ...]  # (expression, output name)
    source: Source
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    distinct: bool = False
    order_by: tuple[OrderKey, ...] = ()
    limit: int | None = None

    @property
    def kinds(self) -> list[Kind]:
        return [e.kind for e, _ in self.items]


@dataclass(frozen=True)
class UnionAll:
    left: Select
    right: Select

    @property
    def kinds(self) -> list[Kind]:
        return self.left.kinds


Query = Select | UnionAll


def names(query: Query) -> list[str]:
    first = query.left if isinstance(query, UnionAll) else query
    return [name for _, name in first.items]


def is_ordered(query: Query) -> bool:
    return isinstance(query, Select) and bool(query.order_by)


def children(e: Expr) -> list[Expr]:
    """The expressions directly inside ``e`` (CASE branches and function arguments included)."""
    found: list[Expr] = []

    def collect(value: object) -> None:
        if isinstance(value, Expr):
            found.append(value)
        elif isinstance(value, WindowKey):
            found.append(value.expr)
        elif isinstance(value, tuple):
            for item in value:
                collect(item)

    for value in vars(e).values():
        collect(value)
    return found


def walk(e: Expr) -> list[Expr]:
    """``e`` and every expression inside it."""
    return [e, *(x for child in children(e) for x in walk(child))]
