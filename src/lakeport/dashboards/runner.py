"""Running one statement through the query service and reading its rows back, JSON-ready."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakeport.errors import InvalidInput

if TYPE_CHECKING:
    from lakeport.query.service import Queries


@dataclass(frozen=True)
class Answer:
    execution_id: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]


class QueryFailed(InvalidInput):
    default_code = "InvalidParameterValueException"


def run_query(queries: Queries, sql: str, *, what: str, database: str = "default", max_rows: int = 100_000) -> Answer:
    """Run ``sql`` to its end; QueryFailed naming ``what`` (the dataset or visual) and the reason."""
    execution = queries.start_query_execution(sql, database=database, wait=True)
    if execution.state != "SUCCEEDED":
        raise QueryFailed(
            f"{what}: the query {execution.state.lower()}: {execution.state_change_reason or 'no reason given'}",
            hint=f"lakeport queries get {execution.id} shows the statement",
        )
    columns, rows = queries.get_query_rows(execution.id, max_rows=max_rows)
    return Answer(execution.id, columns, [[_json(v) for v in row] for row in rows])


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


QueriesFor = Callable[[], "Queries"]
