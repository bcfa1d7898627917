"""Reading log events in CloudWatch's shapes: GetLogEvents pages, FilterLogEvents scans, and tail's follow.

A filter scan walks the group in (time, id) order, ``CHUNK`` rows per query, each its own short read: the
database narrows by group, streams, time range and, for the pattern's plain terms, ``LIKE`` (a superset:
SQLite's ``LIKE`` ignores ASCII case); the pattern itself is evaluated in Python on each row, and the scan stops
as soon as the page is full. Memory stays one chunk and one page, whatever the group's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, Text, and_, cast, func, or_, select, type_coerce

from lakeport.metadata.times import utc
from lakeport.observe.filter_patterns import FilterPattern, parse_filter_pattern
from lakeport.observe.log_shapes import LogEvent, from_ms, parse_position, position_token
from lakeport.observe.schema import log_events

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from lakeport.metadata.database import MetadataDB

CHUNK = 2_000
_START = "00000000000000000000/0"


def event_of(r: Row[Any]) -> LogEvent:
    mapping = r._mapping
    return LogEvent(
        r.id,
        r.group_name,
        r.stream_name,
        _time(r.timestamp),
        r.level,
        r.message,
        _fields(mapping.get("fields")),
        mapping.get("ingestion_time"),
    )


def _time(value: datetime | str) -> datetime:
    """A stored time: SQLite's text (read raw, see ``_columns``) or the driver's datetime."""
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _fields(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {} if value in ("{}", "null", "") else json.loads(value)
    return dict(value or {})


def _columns(pattern: FilterPattern | None) -> list[Any]:
    """The columns a scan reads; time and fields come raw (no per-row type processing): most rows of a filtered
    scan are dropped, and only the kept ones are converted (``event_of``)."""
    wanted = [
        log_events.c.id,
        log_events.c.group_name,
        log_events.c.stream_name,
        type_coerce(log_events.c.timestamp, String).label("timestamp"),
        log_events.c.level,
        log_events.c.message,
        log_events.c.ingestion_time,
    ]
    if pattern is not None and pattern.kind == "json":
        wanted.append(type_coerce(log_events.c.fields, Text).label("fields"))
    return wanted


def _after(at: datetime, event_id: int) -> Any:
    return or_(log_events.c.timestamp > at, and_(log_events.c.timestamp == at, log_events.c.id > event_id))


def _before(at: datetime, event_id: int) -> Any:
    return or_(log_events.c.timestamp < at, and_(log_events.c.timestamp == at, log_events.c.id < event_id))


def _narrowing(
    group: str,
    streams: Sequence[str] | None,
    prefix: str | None,
    start_time: int | None,
    end_time: int | None,
    pattern: FilterPattern | None,
    dialect: str = "",
) -> list[Any]:
    where: list[Any] = [log_events.c.group_name == group]
    if streams is not None:
        where.append(log_events.c.stream_name.in_(list(streams)))
    if prefix:
        where.append(log_events.c.stream_name.startswith(prefix, autoescape=True))
    if start_time is not None:
        where.append(log_events.c.timestamp >= from_ms(start_time))
    if end_time is not None:
        where.append(log_events.c.timestamp < from_ms(end_time))
    json_pattern = pattern is not None and pattern.kind == "json"
    for alternatives in pattern.sql_terms if pattern is not None else ():
        columns = (
            [log_events.c.message, log_events.c.level, cast(log_events.c.fields, Text)]
            if json_pattern
            else [log_events.c.message]
        )
        where.append(or_(*(c.contains(term, autoescape=True) for term in alternatives for c in columns)))
    if json_pattern and dialect == "sqlite" and pattern is not None:
        fields_test = _json_sql(pattern.json_tree)
        if fields_test is not None:  # the fields decide, unless the message is JSON itself (Python decides)
            where.append(or_(func.ltrim(log_events.c.message).like("{%"), fields_test))
    return where


_NUMERIC = ("integer", "real")


def _json_sql(tree: Any) -> Any:
    """A SQLite condition on ``fields`` that every match of a JSON pattern's tree meets (a superset; None when
    the tree says nothing the fields can check)."""
    if tree is None:
        return None
    if tree[0] == "and":
        parts = [p for p in (_json_sql(t) for t in tree[1]) if p is not None]
        return and_(*parts) if parts else None
    if tree[0] == "or":
        parts = [_json_sql(t) for t in tree[1]]
        return None if any(p is None for p in parts) else or_(*parts)
    _, path, op, value = tree
    if not path or path[0] in ("level", "message") or any(isinstance(p, str) and '"' in p for p in path):
        return None  # the level and message are columns of their own
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f'."{p}"' for p in path)
    kind = func.json_type(log_events.c.fields, where)
    extracted = func.json_extract(log_events.c.fields, where)
    if isinstance(value, float):
        compare = {
            "=": extracted == value,
            "!=": extracted != value,
            "<": extracted < value,
            ">": extracted > value,
            "<=": extracted <= value,
            ">=": extracted >= value,
        }[op]
        return or_(and_(kind.in_(_NUMERIC), compare), kind == "text")  # text: a number in a string, Python decides
    if op == "=":
        return and_(kind == "text", extracted == value)
    if op == "!=":
        return and_(kind.is_not(None), kind != "null", or_(kind != "text", extracted != value))
    return None


def _matches(pattern: FilterPattern | None, r: Row[Any]) -> bool:
    if pattern is None or pattern.kind == "all":
        return True
    if pattern.kind != "json":
        return pattern.matches(r.message)
    return pattern.matches_lazily(r.message, r.level, lambda: _fields(r.fields))


def get_log_events(
    db: MetadataDB,
    group: str,
    stream: str,
    start_time: int | None,
    end_time: int | None,
    limit: int,
    start_from_head: bool,
    next_token: str | None,
) -> dict[str, Any]:
    where = _narrowing(group, [stream], None, start_time, end_time, None)
    if next_token:
        direction, at, event_id = parse_position(next_token, "fb", "next token")
        where.append(_after(at, event_id) if direction == "f" else _before(at, event_id))
        forward = direction == "f"
    else:
        forward = start_from_head
    order = (
        [log_events.c.timestamp, log_events.c.id]
        if forward
        else [log_events.c.timestamp.desc(), log_events.c.id.desc()]
    )
    with db.read() as conn:
        rows = list(conn.execute(select(*_columns(None)).where(*where).order_by(*order).limit(limit)).all())
    if not forward:
        rows.reverse()
    events = [event_of(r) for r in rows]
    if events:
        forward_token = position_token("f", events[-1].timestamp, events[-1].id)
        backward_token = position_token("b", events[0].timestamp, events[0].id)
    elif next_token:
        position = next_token[2:]
        forward_token, backward_token = f"f/{position}", f"b/{position}"
    else:
        forward_token, backward_token = f"f/{_START}", f"b/{_START}"
    return {
        "events": [{k: v for k, v in e.to_cloudwatch().items() if k != "logStreamName"} for e in events],
        "nextForwardToken": forward_token,
        "nextBackwardToken": backward_token,
    }


def filter_log_events(
    db: MetadataDB,
    group: str,
    streams: Sequence[str] | None,
    prefix: str | None,
    filter_pattern: str | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
    next_token: str | None,
) -> dict[str, Any]:
    pattern = parse_filter_pattern(filter_pattern)
    where = _narrowing(group, streams, prefix, start_time, end_time, pattern, db.dialect)
    position = parse_position(next_token, "p", "next token")[1:] if next_token else None
    found: list[LogEvent] = []
    for r in _scan(db, where, _columns(pattern), position):
        if _matches(pattern, r):
            found.append(event_of(r))
            if len(found) == limit:
                break
    out: dict[str, Any] = {"events": [e.to_cloudwatch() for e in found], "searchedLogStreams": []}
    if len(found) == limit:
        out["nextToken"] = position_token("p", found[-1].timestamp, found[-1].id)
    return out


def _scan(
    db: MetadataDB, where: list[Any], columns: list[Any], position: tuple[datetime, int] | None
) -> Iterator[Row[Any]]:
    """Rows in (time, id) order, ``CHUNK`` at a time, each chunk its own read."""
    while True:
        query = select(*columns).where(*where)
        if position is not None:
            query = query.where(_after(*position))
        with db.read() as conn:
            rows = conn.execute(query.order_by(log_events.c.timestamp, log_events.c.id).limit(CHUNK)).all()
        yield from rows
        if len(rows) < CHUNK:
            return
        position = (_time(rows[-1].timestamp), rows[-1].id)


def follow(
    db: MetadataDB,
    group: str,
    after_id: int,
    streams: Sequence[str] | None,
    prefix: str | None,
    filter_pattern: str | None,
    limit: int,
) -> tuple[list[LogEvent], int]:
    pattern = parse_filter_pattern(filter_pattern)
    where = _narrowing(group, streams, prefix, None, None, pattern, db.dialect)
    found: list[LogEvent] = []
    last = after_id
    while len(found) < limit:
        with db.read() as conn:
            rows = conn.execute(
                select(*_columns(pattern)).where(*where, log_events.c.id > last).order_by(log_events.c.id).limit(CHUNK)
            ).all()
        for r in rows:
            last = r.id
            if _matches(pattern, r):
                found.append(event_of(r))
                if len(found) == limit:
                    break
        if len(rows) < CHUNK:
            break
    return found, last


def scan(
    db: MetadataDB,
    group: str,
    streams: Sequence[str] | None,
    prefix: str | None,
    filter_pattern: str | None,
    start_time: int | None,
    end_time: int | None,
) -> Iterator[LogEvent]:
    """Every matching event in (time, id) order, read a chunk at a time (what ``logs tail`` prints)."""
    pattern = parse_filter_pattern(filter_pattern)
    where = _narrowing(group, streams, prefix, start_time, end_time, pattern, db.dialect)
    for r in _scan(db, where, _columns(pattern), None):
        if _matches(pattern, r):
            yield event_of(r)
