"""Structured logs in groups and streams (CloudWatch Logs' role), kept in the metadata DB.

Every long operation writes its events here as it goes, one short transaction per batch, so a reader sees
them live: ``/lakeport/crawlers/<crawler>`` / ``<run id>`` for crawls, and so on for jobs and queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from lakeport.metadata.times import iso, now, utc
from lakeport.observe.schema import log_events, log_groups, log_streams

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lakeport.metadata.database import MetadataDB

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")


@dataclass(frozen=True)
class LogEvent:
    id: int
    group: str
    stream: str
    timestamp: datetime
    level: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "stream": self.stream,
            "timestamp": iso(self.timestamp),
            "level": self.level,
            "message": self.message,
            "fields": dict(self.fields),
        }


class LogStore:
    """Append and read log events."""

    def __init__(self, db: MetadataDB) -> None:
        self.db = db

    def put(self, group: str, stream: str, message: str, *, level: str = "INFO", **fields: Any) -> None:
        """Append one event, creating its group and stream on first use."""
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        stamp = now()

        def work(conn: Connection) -> None:
            self._ensure_stream(conn, group, stream, stamp)
            conn.execute(
                log_events.insert().values(
                    group_name=group, stream_name=stream, timestamp=stamp, level=level, message=message, fields=fields
                )
            )
            conn.execute(
                update(log_streams)
                .where(log_streams.c.group_name == group, log_streams.c.name == stream)
                .values(last_event_at=stamp)
            )

        self.db.run_write(work)

    def _ensure_stream(self, conn: Connection, group: str, stream: str, stamp: datetime) -> None:
        exists = conn.execute(
            select(func.count())
            .select_from(log_streams)
            .where(log_streams.c.group_name == group, log_streams.c.name == stream)
        ).scalar_one()
        if exists:
            return
        try:
            with conn.begin_nested():
                if not conn.execute(select(log_groups.c.name).where(log_groups.c.name == group)).first():
                    conn.execute(log_groups.insert().values(name=group, retention_days=None, created_at=stamp))
                conn.execute(log_streams.insert().values(group_name=group, name=stream, created_at=stamp))
        except IntegrityError:
            pass  # another writer created it first (PostgreSQL); it exists now either way

    def events(self, group: str, stream: str | None = None, *, after_id: int = 0, limit: int = 1000) -> list[LogEvent]:
        """Events of a group (one stream, or all) in the order they were written."""
        query = select(log_events).where(log_events.c.group_name == group, log_events.c.id > after_id)
        if stream is not None:
            query = query.where(log_events.c.stream_name == stream)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(log_events.c.id).limit(limit)).all()
        return [
            LogEvent(r.id, r.group_name, r.stream_name, utc(r.timestamp), r.level, r.message, r.fields or {})
            for r in rows
        ]
