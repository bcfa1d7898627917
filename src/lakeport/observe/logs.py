"""Structured logs in groups and streams (CloudWatch Logs' role), kept in the metadata DB.

Every long operation writes its events here as it goes, one short transaction per batch, so a reader sees
them live: ``/lakeport/crawlers/<crawler>`` / ``<run id>`` for crawls, ``/lakeport/jobs/<job>`` / ``<run id>``
for job runs, and so on. :class:`LogStore` is the service's own, unauthorized store (services write their logs
through it); users reach the same data through :class:`lakeport.observe.log_access.CloudWatchLogs`, which
checks ``logs:*`` permissions first.

Writes: ``put`` (one event, now) and ``put_log_events`` (a batch, one transaction, ``executemany``).
Reads: ``get_log_events`` and ``filter_log_events`` in CloudWatch's shapes (``log_reads``), ``events`` (lakeport's
own form, in write order). Retention: a group's events older than its ``retentionInDays`` are deleted by
``apply_retention()``, and by writers to that group at most once per ``retention_interval`` seconds (per process
and across processes), in batches of short transactions so that other writers are never held up for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from lakeport.errors import AlreadyExists, InvalidInput
from lakeport.metadata.times import now, utc
from lakeport.observe import log_reads
from lakeport.observe.log_shapes import (
    LEVELS,
    RETENTION_DAYS,
    InvalidLogParameter,
    LogEvent,
    LogGroup,
    LogStream,
    check_group_name,
    check_retention,
    check_stream_name,
    from_ms,
    group_not_found,
    offset_token,
    parse_offset,
    stream_not_found,
    to_ms,
)
from lakeport.observe.schema import log_events, log_groups, log_streams

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.metadata.database import MetadataDB

__all__ = ["LEVELS", "RETENTION_DAYS", "LogEvent", "LogGroup", "LogStore", "LogStream"]

MAX_BATCH = 10_000  # PutLogEvents' limit on events per call
_DELETE_BATCH = 5_000
_FUTURE = timedelta(hours=2)  # CloudWatch refuses events more than 2 hours ahead…
_PAST = timedelta(days=14)  # …or older than 14 days
# SQLite: a whole batch as one JSON parameter, unpacked by json_each: one statement, one step, so the writer
# (often a background thread, see etl/python_jobs.py) gives up Python's GIL once per batch, not once per row
_INSERT_SQLITE = (
    "INSERT INTO log_events (group_name, stream_name, timestamp, level, message, fields, ingestion_time) "
    "SELECT ?, ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), ? FROM json_each(?) ORDER BY key"
)
# captured output: [[µs since the epoch, level, message], …] with one fields document for all of them
_INSERT_SQLITE_LINES = (
    "INSERT INTO log_events (group_name, stream_name, timestamp, level, message, fields, ingestion_time) "
    "SELECT ?1, ?2, strftime('%Y-%m-%d %H:%M:%S', value ->> 0 / 1000000, 'unixepoch') "
    "|| printf('.%06d', value ->> 0 % 1000000), value ->> 1, value ->> 2, ?3, ?4 FROM json_each(?5) ORDER BY key"
)
_INSERT_SQLITE_ROWS = (
    "INSERT INTO log_events (group_name, stream_name, timestamp, level, message, fields, ingestion_time) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

Row_ = tuple[datetime, str, str, Mapping[str, Any]]  # (timestamp, level, message, fields)


class _StreamGone(Exception):
    """The stream a write expected was deleted meanwhile (the transaction is rolled back and retried)."""


class LogStore:
    """Append and read log events; create, describe, expire and delete groups and streams."""

    def __init__(
        self,
        db: MetadataDB,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        retention_interval: float = 300.0,
    ) -> None:
        self.db = db
        self.region = region
        self.account_id = account_id
        self.retention_interval = retention_interval
        self._next_retention_check: dict[str, float] = {}
        self._known_streams: set[tuple[str, str]] = set()  # streams this process has written to (no lookup)

    def group_arn(self, group: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}"

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    # ---- writing

    def put(self, group: str, stream: str, message: str, *, level: str = "INFO", **fields: Any) -> None:
        """Append one event stamped now, creating its group and stream on first use."""
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        self._write(group, stream, [(now(), level, message, fields)])

    def put_many(self, group: str, stream: str, rows: Sequence[Row_]) -> None:
        """Append ``(timestamp, level, message, fields)`` rows in one transaction (what captured output uses)."""
        if rows:
            self._write(group, stream, rows)

    def put_log_events(self, group: str, stream: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """PutLogEvents: ``[{"timestamp": ms, "message": str}]`` in one transaction; lakeport also takes
        ``level`` and ``fields`` per event. The group and stream are created on first use (CloudWatch wants
        CreateLogStream first). Events too new, too old or past the group's retention are rejected as AWS does."""
        if len(events) > MAX_BATCH:
            raise InvalidLogParameter(
                f"log stream {stream} in group {group}: {len(events)} events in one call",
                hint=f"send at most {MAX_BATCH} events per put_log_events call",
            )
        check_group_name(group)
        check_stream_name(group, stream)
        stamp = now()
        retention = self._retention_of(group)
        expired_before = stamp - timedelta(days=retention) if retention else None
        rows: list[tuple[datetime, str, str, Mapping[str, Any]]] = []
        info: dict[str, int] = {}
        for index, event in enumerate(events):
            try:
                at = from_ms(int(event["timestamp"]))
                message = str(event["message"])
            except (KeyError, TypeError, ValueError):
                raise InvalidLogParameter(
                    f"log stream {stream} in group {group}: event {index} needs an integer timestamp (ms) and a message"
                ) from None
            level = str(event.get("level", "INFO"))
            if level not in LEVELS:
                raise InvalidLogParameter(f"event {index}: level {level!r} is not one of {', '.join(LEVELS)}")
            if at > stamp + _FUTURE:
                info.setdefault("tooNewLogEventStartIndex", index)
            elif expired_before is not None and at < expired_before:
                info["expiredLogEventEndIndex"] = index
            elif at < stamp - _PAST:
                info["tooOldLogEventEndIndex"] = index
            else:
                rows.append((at, level, message, event.get("fields") or {}))
        rows.sort(key=lambda r: r[0])
        if rows:
            self._write(group, stream, rows, stamp=stamp)
        out: dict[str, Any] = {}
        if info:
            out["rejectedLogEventsInfo"] = info
        return out

    def _write(self, group: str, stream: str, rows: Sequence[Row_], *, stamp: datetime | None = None) -> None:
        stamp = stamp or now()
        ingestion = to_ms(stamp)
        size = 0
        for index, (_, _, message, _) in enumerate(rows):
            try:
                size += len(message.encode("utf-8"))
            except UnicodeEncodeError:  # a lone surrogate (bytes decoded with surrogateescape): store it replaced
                at, level, _, fields = rows[index]
                message = message.encode("utf-8", "replace").decode("utf-8")
                rows = [*rows[:index], (at, level, message, fields), *rows[index + 1 :]]
                size += len(message.encode("utf-8"))
        first, last = min(r[0] for r in rows), max(r[0] for r in rows)

        def insert(conn: Connection) -> None:
            if self.db.dialect == "sqlite":  # executemany on the driver: no per-row type processing
                encoded: dict[int, str] = {}  # rows often share one fields mapping (captured output does)

                def as_json(fields: Mapping[str, Any]) -> str:
                    key = id(fields)
                    if key not in encoded:
                        encoded[key] = _json(fields)
                    return encoded[key]

                values = [(_sqlite_time(at), level, message, as_json(fields)) for at, level, message, fields in rows]
                if any("\x00" in message for _, _, message, _ in rows):  # SQLite's JSON functions stop at NUL
                    conn.exec_driver_sql(_INSERT_SQLITE_ROWS, [(group, stream, *value, ingestion) for value in values])
                else:
                    conn.exec_driver_sql(_INSERT_SQLITE, (group, stream, ingestion, _ENCODER.encode(values)))
            else:
                conn.execute(
                    log_events.insert(),
                    [
                        {
                            "group_name": group,
                            "stream_name": stream,
                            "timestamp": at,
                            "level": level,
                            "message": message,
                            "fields": dict(fields),
                            "ingestion_time": ingestion,
                        }
                        for at, level, message, fields in rows
                    ],
                )

        self._commit_batch(group, stream, stamp, first, last, size, insert)

    def put_lines(
        self, group: str, stream: str, lines: Sequence[tuple[int, str, str]], fields: Mapping[str, Any]
    ) -> None:
        """Append captured output: ``(time in ns since the epoch, level, message)`` lines that share ``fields``,
        in one transaction. On SQLite the rows are built by SQLite from one JSON document (times formatted
        there too), so the writing thread spends about a microsecond of Python per line: a job that prints a
        lot is barely slowed by having its output logged (bench/logs.py)."""
        if not lines:
            return
        messages = "\n".join(message for _, _, message in lines)
        try:
            size = len(messages.encode("utf-8")) - (len(lines) - 1)
        except UnicodeEncodeError:  # a lone surrogate: the general path stores it replaced
            size = -1
        if self.db.dialect != "sqlite" or size < 0 or "\x00" in messages:
            self.put_many(group, stream, [(_from_ns(ns), level, message, fields) for ns, level, message in lines])
            return
        stamp = now()
        ingestion = to_ms(stamp)
        times = [ns for ns, _, _ in lines]
        first, last = _from_ns(min(times)), _from_ns(max(times))
        payload = _ENCODER.encode([(ns // 1000, level, message) for ns, level, message in lines])
        extra = _json(fields)

        def insert(conn: Connection) -> None:
            conn.exec_driver_sql(_INSERT_SQLITE_LINES, (group, stream, extra, ingestion, payload))

        self._commit_batch(group, stream, stamp, first, last, size, insert)

    def _commit_batch(
        self,
        group: str,
        stream: str,
        stamp: datetime,
        first: datetime,
        last: datetime,
        size: int,
        insert: Callable[[Connection], None],
    ) -> None:
        """One transaction: ``insert`` the events, then move the stream's first/last times and stored bytes."""

        def work(conn: Connection) -> None:
            if (group, stream) not in self._known_streams:
                self._ensure_stream(conn, group, stream, stamp)
            insert(conn)
            first_col, last_col = log_streams.c.first_event_at, log_streams.c.last_event_at
            changed = conn.execute(
                update(log_streams)
                .where(log_streams.c.group_name == group, log_streams.c.name == stream)
                .values(
                    first_event_at=case((or_(first_col.is_(None), first_col > first), first), else_=first_col),
                    last_event_at=case((or_(last_col.is_(None), last_col < last), last), else_=last_col),
                    last_ingestion_at=stamp,
                    stored_bytes=log_streams.c.stored_bytes + size,
                )
            ).rowcount
            if not changed:  # deleted since this process last wrote to it: undo, and write again from the top
                self._known_streams.discard((group, stream))
                raise _StreamGone

        try:
            self.db.run_write(work)
        except _StreamGone:
            self.db.run_write(work)
        self._known_streams.add((group, stream))
        self._maybe_apply_retention(group)

    def _ensure_stream(
        self, conn: Connection, group: str, stream: str, stamp: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """The stream's (first, last) event times, creating the group and stream when they are new."""
        row = conn.execute(
            select(log_streams.c.first_event_at, log_streams.c.last_event_at).where(
                log_streams.c.group_name == group, log_streams.c.name == stream
            )
        ).first()
        if row is not None:
            return row.first_event_at, row.last_event_at
        try:
            with conn.begin_nested():
                if not conn.execute(select(log_groups.c.name).where(log_groups.c.name == group)).first():
                    conn.execute(log_groups.insert().values(name=group, retention_days=None, created_at=stamp))
                conn.execute(log_streams.insert().values(group_name=group, name=stream, created_at=stamp))
        except IntegrityError:
            pass  # another writer created it first (PostgreSQL); it exists now either way
        return None, None

    # ---- groups and streams

    def create_log_group(self, name: str, retention_days: int | None = None) -> LogGroup:
        check_group_name(name)
        if retention_days is not None:
            check_retention(name, retention_days)

        def work(conn: Connection) -> None:
            if conn.execute(select(log_groups.c.name).where(log_groups.c.name == name)).first():
                raise AlreadyExists(
                    f"log group {name} already exists",
                    hint="change its retention with put_retention_policy",
                    code="ResourceAlreadyExistsException",
                )
            conn.execute(log_groups.insert().values(name=name, retention_days=retention_days, created_at=now()))

        self.db.run_write(work)
        return self.get_log_group(name)

    def create_log_stream(self, group: str, stream: str) -> LogStream:
        check_stream_name(group, stream)

        def work(conn: Connection) -> None:
            self._group_row(conn, group)
            if conn.execute(
                select(log_streams.c.name).where(log_streams.c.group_name == group, log_streams.c.name == stream)
            ).first():
                raise AlreadyExists(
                    f"log stream {stream} already exists in log group {group}", code="ResourceAlreadyExistsException"
                )
            conn.execute(log_streams.insert().values(group_name=group, name=stream, created_at=now()))

        self.db.run_write(work)
        return self.describe_log_streams(group, prefix=stream)[0][0]

    def delete_log_group(self, name: str) -> None:
        """Delete a group with its streams and events (the events in batches, then the group)."""
        with self.db.read() as conn:
            self._group_row(conn, name)
        while self._delete_events(log_events.c.group_name == name):
            pass

        def work(conn: Connection) -> None:
            conn.execute(delete(log_events).where(log_events.c.group_name == name))
            conn.execute(delete(log_streams).where(log_streams.c.group_name == name))
            conn.execute(delete(log_groups).where(log_groups.c.name == name))

        self.db.run_write(work)
        self._next_retention_check.pop(name, None)
        self._known_streams = {k for k in self._known_streams if k[0] != name}

    def delete_log_stream(self, group: str, stream: str) -> None:
        with self.db.read() as conn:
            self._stream_row(conn, group, stream)
        where = (log_events.c.group_name == group) & (log_events.c.stream_name == stream)
        while self._delete_events(where):
            pass
        self.db.run_write(
            lambda conn: conn.execute(
                delete(log_streams).where(log_streams.c.group_name == group, log_streams.c.name == stream)
            )
        )
        self._known_streams.discard((group, stream))

    def put_retention_policy(self, group: str, days: int) -> LogGroup:
        check_retention(group, days)
        self._set_retention(group, days)
        self._next_retention_check.pop(group, None)
        self.apply_retention(group)
        return self.get_log_group(group)

    def delete_retention_policy(self, group: str) -> LogGroup:
        self._set_retention(group, None)
        return self.get_log_group(group)

    def _set_retention(self, group: str, days: int | None) -> None:
        def work(conn: Connection) -> None:
            self._group_row(conn, group)
            conn.execute(update(log_groups).where(log_groups.c.name == group).values(retention_days=days))

        self.db.run_write(work)

    def get_log_group(self, name: str) -> LogGroup:
        groups, _ = self.describe_log_groups(exact=name)
        if not groups:
            raise group_not_found(name)
        return groups[0]

    def describe_log_groups(
        self, prefix: str | None = None, *, limit: int = 50, next_token: str | None = None, exact: str | None = None
    ) -> tuple[list[LogGroup], str | None]:
        """Groups by name (``logGroupNamePrefix``), ``limit`` at a time; (groups, next token or None)."""
        offset = parse_offset(next_token)
        sizes = (
            select(log_streams.c.group_name, func.sum(log_streams.c.stored_bytes).label("size"))
            .group_by(log_streams.c.group_name)
            .subquery()
        )
        query = select(log_groups, sizes.c.size).outerjoin(sizes, sizes.c.group_name == log_groups.c.name)
        if exact is not None:
            query = query.where(log_groups.c.name == exact)
        elif prefix:
            query = query.where(log_groups.c.name.startswith(prefix, autoescape=True))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(log_groups.c.name).offset(offset).limit(limit + 1)).all()
        groups = [
            LogGroup(r.name, self.group_arn(r.name), utc(r.created_at), r.retention_days, int(r.size or 0))
            for r in rows[:limit]
        ]
        return groups, offset_token(offset + limit) if len(rows) > limit else None

    def describe_log_streams(
        self,
        group: str,
        prefix: str | None = None,
        *,
        order_by: str = "LogStreamName",
        descending: bool = False,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[LogStream], str | None]:
        """A group's streams ordered by name or by last event time; (streams, next token or None)."""
        if order_by not in ("LogStreamName", "LastEventTime"):
            raise InvalidLogParameter(f"order by {order_by!r}", hint="LogStreamName or LastEventTime")
        if prefix and order_by == "LastEventTime":
            raise InvalidLogParameter(
                f"log group {group}: a stream prefix cannot be combined with ordering by LastEventTime",
                hint="CloudWatch refuses that pair too; order by LogStreamName",
            )
        offset = parse_offset(next_token)
        column = log_streams.c.name if order_by == "LogStreamName" else log_streams.c.last_event_at
        query = select(log_streams).where(log_streams.c.group_name == group)
        if prefix:
            query = query.where(log_streams.c.name.startswith(prefix, autoescape=True))
        order = [column.desc(), log_streams.c.name.desc()] if descending else [column, log_streams.c.name]
        with self.db.read() as conn:
            self._group_row(conn, group)
            rows = conn.execute(query.order_by(*order).offset(offset).limit(limit + 1)).all()
        streams = [self._stream(r) for r in rows[:limit]]
        return streams, offset_token(offset + limit) if len(rows) > limit else None

    def _stream(self, r: Row[Any]) -> LogStream:
        def opt(value: datetime | None) -> datetime | None:
            return None if value is None else utc(value)

        return LogStream(
            r.group_name,
            r.name,
            self.stream_arn(r.group_name, r.name),
            utc(r.created_at),
            opt(r.first_event_at),
            opt(r.last_event_at),
            opt(r.last_ingestion_at),
            int(r.stored_bytes or 0),
        )

    def _group_row(self, conn: Connection, group: str) -> Row[Any]:
        row = conn.execute(select(log_groups).where(log_groups.c.name == group)).first()
        if row is None:
            raise group_not_found(group)
        return row

    def _stream_row(self, conn: Connection, group: str, stream: str) -> Row[Any]:
        self._group_row(conn, group)
        row = conn.execute(
            select(log_streams).where(log_streams.c.group_name == group, log_streams.c.name == stream)
        ).first()
        if row is None:
            raise stream_not_found(group, stream)
        return row

    # ---- retention

    def _retention_of(self, group: str) -> int | None:
        with self.db.read() as conn:
            return conn.execute(select(log_groups.c.retention_days).where(log_groups.c.name == group)).scalar()

    def _maybe_apply_retention(self, group: str) -> None:
        """Writers sweep their group at most once per interval (a dictionary lookup the rest of the time)."""
        clock = time.monotonic()
        if clock < self._next_retention_check.get(group, 0.0):
            return
        self._next_retention_check[group] = clock + self.retention_interval
        with self.db.read() as conn:
            row = conn.execute(
                select(log_groups.c.retention_days, log_groups.c.retention_checked_at).where(log_groups.c.name == group)
            ).first()
        if row is None or row.retention_days is None:
            return
        if row.retention_checked_at is not None and now() - utc(row.retention_checked_at) < timedelta(
            seconds=self.retention_interval
        ):
            return  # another process swept it lately
        self.apply_retention(group)

    def apply_retention(self, group: str | None = None) -> int:
        """Delete the events older than their group's retention (every group with one, or ``group``); the count."""
        query = select(log_groups.c.name, log_groups.c.retention_days).where(log_groups.c.retention_days.is_not(None))
        if group is not None:
            query = query.where(log_groups.c.name == group)
        with self.db.read() as conn:
            groups = conn.execute(query).all()
        deleted = 0
        for name, days in groups:
            stamp = now()
            self._mark_swept(name, stamp)
            where = (log_events.c.group_name == name) & (log_events.c.timestamp < stamp - timedelta(days=days))
            while count := self._delete_events(where):
                deleted += count
        return deleted

    def _mark_swept(self, group: str, stamp: datetime) -> None:
        def work(conn: Connection) -> None:
            conn.execute(update(log_groups).where(log_groups.c.name == group).values(retention_checked_at=stamp))

        self.db.run_write(work)

    def _delete_events(self, where: Any) -> int:
        """Delete one batch of matching events in its own short transaction, keeping stream sizes right."""

        def work(conn: Connection) -> int:
            rows = conn.execute(
                select(log_events.c.id, log_events.c.group_name, log_events.c.stream_name, log_events.c.message)
                .where(where)
                .order_by(log_events.c.id)
                .limit(_DELETE_BATCH)
            ).all()
            if not rows:
                return 0
            sizes: dict[tuple[str, str], int] = {}
            for r in rows:
                key = (r.group_name, r.stream_name)
                sizes[key] = sizes.get(key, 0) + len(r.message.encode("utf-8", "replace"))
            ids = [r.id for r in rows]
            for start in range(0, len(ids), 500):
                conn.execute(delete(log_events).where(log_events.c.id.in_(ids[start : start + 500])))
            for (group, stream), size in sizes.items():
                conn.execute(
                    update(log_streams)
                    .where(log_streams.c.group_name == group, log_streams.c.name == stream)
                    .values(stored_bytes=func.max(log_streams.c.stored_bytes - size, 0))
                    if self.db.dialect == "sqlite"
                    else update(log_streams)
                    .where(log_streams.c.group_name == group, log_streams.c.name == stream)
                    .values(stored_bytes=func.greatest(log_streams.c.stored_bytes - size, 0))
                )
            return len(rows)

        return self.db.run_write(work)

    # ---- reading

    def events(self, group: str, stream: str | None = None, *, after_id: int = 0, limit: int = 1000) -> list[LogEvent]:
        """Events of a group (one stream, or all) in the order they were written."""
        query = select(log_events).where(log_events.c.group_name == group, log_events.c.id > after_id)
        if stream is not None:
            query = query.where(log_events.c.stream_name == stream)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(log_events.c.id).limit(limit)).all()
        return [log_reads.event_of(r) for r in rows]

    def get_log_events(
        self,
        group: str,
        stream: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 10_000,
        start_from_head: bool = False,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """GetLogEvents: one stream's events in time order, a page at a time, with forward/backward tokens."""
        with self.db.read() as conn:
            self._stream_row(conn, group, stream)
        return log_reads.get_log_events(
            self.db, group, stream, start_time, end_time, _limit(limit, 10_000), start_from_head, next_token
        )

    def filter_log_events(
        self,
        group: str,
        *,
        stream_names: Iterable[str] | None = None,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 10_000,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """FilterLogEvents: a group's events (some streams, a time range) matching a filter pattern, in time
        order; read in chunks, never the whole group at once."""
        names = None if stream_names is None else list(stream_names)
        if names is not None and stream_prefix:
            raise InvalidLogParameter(
                f"log group {group}: stream names and a stream prefix cannot be combined",
                hint="pass one of them (CloudWatch refuses both)",
            )
        with self.db.read() as conn:
            self._group_row(conn, group)
        return log_reads.filter_log_events(
            self.db,
            group,
            names,
            stream_prefix,
            filter_pattern,
            start_time,
            end_time,
            _limit(limit, 10_000),
            next_token,
        )

    def follow(
        self,
        group: str,
        *,
        after_id: int,
        stream_names: Iterable[str] | None = None,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        limit: int = 1000,
    ) -> tuple[list[LogEvent], int]:
        """Events stored after event ``after_id`` (arrival order), matching; (events, the id to follow from).

        What ``lakeport logs tail --follow`` polls with (``aws logs tail --follow`` semantics)."""
        return log_reads.follow(
            self.db, group, after_id, None if stream_names is None else list(stream_names), stream_prefix,
            filter_pattern, limit,
        )  # fmt: skip

    def scan(
        self,
        group: str,
        *,
        stream_names: Iterable[str] | None = None,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> Iterator[LogEvent]:
        """Every matching event of a group in time order, as lakeport events (with level and fields), streamed."""
        with self.db.read() as conn:
            self._group_row(conn, group)
        names = None if stream_names is None else list(stream_names)
        return log_reads.scan(self.db, group, names, stream_prefix, filter_pattern, start_time, end_time)

    def last_event_id(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(log_events.c.id))).scalar() or 0)


def _limit(limit: int, most: int) -> int:
    if not 1 <= limit <= most:
        raise InvalidInput(f"limit {limit} is out of range", hint=f"1 to {most}")
    return limit


_ENCODER = json.JSONEncoder(default=str)


def _json(fields: Mapping[str, Any]) -> str:
    return _ENCODER.encode(dict(fields)) if fields else "{}"


def _from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, UTC)


def _sqlite_time(at: datetime) -> str:
    """How SQLAlchemy stores a DateTime in SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC."""
    if at.tzinfo is not UTC:
        at = utc(at)
    return at.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
