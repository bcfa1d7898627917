"""Object events: every object created or removed, as S3 event notification records, kept in the metadata DB.

The log keeps the last known state of every object (bucket, key → ETag). A created event is recorded only
when the object is new or its ETag changed, and a removed event only when the object was known, so the same
change reported twice (by lakeport itself and by the file watcher, or by two scans) is recorded once:
delivery to consumers is at-least-once, deduplicated by (bucket, key, ETag).

Consumers (triggers, later) read with a named cursor: :meth:`EventLog.poll` returns events after the cursor
and :meth:`EventLog.ack` moves it, so a consumer that dies before acknowledging sees the events again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from lakeport.iam.arns import bucket_arn
from lakeport.metadata.schema import metadata_obj
from lakeport.metadata.times import iso, utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lakeport.metadata.database import MetadataDB

object_events = Table(
    "object_events",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_name", String(64), nullable=False),
    Column("bucket", String(63), nullable=False),
    Column("key", String(1024), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("source", String(32), nullable=False),
    Index("ix_object_events_bucket_key", "bucket", "key"),
)

object_state = Table(
    "object_state",
    metadata_obj,
    Column("bucket", String(63), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("etag", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("last_modified", DateTime(timezone=True), nullable=False),
)

event_cursors = Table(
    "event_cursors",
    metadata_obj,
    Column("consumer", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

CREATED_PUT = "ObjectCreated:Put"
CREATED_COPY = "ObjectCreated:Copy"
CREATED_MULTIPART = "ObjectCreated:CompleteMultipartUpload"
REMOVED_DELETE = "ObjectRemoved:Delete"


@dataclass(frozen=True)
class ObjectEvent:
    id: int
    event_name: str
    bucket: str
    key: str
    size: int
    etag: str
    event_time: datetime
    source: str

    @property
    def sequencer(self) -> str:
        """Orders events on the same key, as S3's ``sequencer`` does (a fixed-width hex string)."""
        return f"{self.id:016X}"

    @property
    def created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")

    def to_record(self) -> dict[str, Any]:
        """The S3 event notification record (``Records[i]``) for this event."""
        obj: dict[str, Any] = {"key": self.key, "sequencer": self.sequencer}
        if self.created:
            obj.update(size=self.size, eTag=self.etag)
        return {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventTime": iso(self.event_time),
            "eventName": self.event_name,
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": self.bucket, "arn": bucket_arn(self.bucket)},
                "object": obj,
            },
            "lakeport": {"id": self.id, "source": self.source},
        }


@dataclass(frozen=True)
class ObjectChange:
    """One change to record: a created object (with its ETag) or a removed one (``etag=None``)."""

    bucket: str
    key: str
    etag: str | None = None
    size: int = 0
    last_modified: datetime | None = None
    event_name: str = CREATED_PUT


def _row_event(row: Any) -> ObjectEvent:
    return ObjectEvent(row.id, row.event_name, row.bucket, row.key, row.size, row.etag, utc(row.event_time), row.source)


class EventLog:
    def __init__(self, db: MetadataDB) -> None:
        self.db = db

    # ---- recording

    def record(self, changes: Iterable[ObjectChange], *, source: str) -> list[ObjectEvent]:
        """Record a batch of changes in one transaction; return the events that were new."""
        batch = list(changes)
        if not batch:
            return []

        def work(conn: Connection) -> list[ObjectEvent]:
            return [e for c in batch if (e := self._apply(conn, c, source)) is not None]

        for _ in range(3):
            try:
                return self.db.run_write(work)
            except IntegrityError:  # another process recorded the same object first: re-read its state
                continue
        return self.db.run_write(work)

    def record_created(
        self,
        bucket: str,
        key: str,
        *,
        etag: str,
        size: int,
        last_modified: datetime | None = None,
        event_name: str = CREATED_PUT,
        source: str = "lakeport",
    ) -> ObjectEvent | None:
        events = self.record([ObjectChange(bucket, key, etag, size, last_modified, event_name)], source=source)
        return events[0] if events else None

    def record_removed(self, bucket: str, key: str, *, source: str = "lakeport") -> ObjectEvent | None:
        events = self.record([ObjectChange(bucket, key, None, event_name=REMOVED_DELETE)], source=source)
        return events[0] if events else None

    def _apply(self, conn: Connection, change: ObjectChange, source: str) -> ObjectEvent | None:
        where = and_(object_state.c.bucket == change.bucket, object_state.c.key == change.key)
        known = conn.execute(select(object_state.c.etag, object_state.c.size).where(where)).first()
        now = datetime.now(UTC)
        if change.etag is None:
            if known is None:
                return None
            conn.execute(delete(object_state).where(where))
            size, etag = int(known.size), str(known.etag)
        else:
            if known is not None and known.etag == change.etag:
                return None
            values = {"etag": change.etag, "size": change.size, "last_modified": change.last_modified or now}
            if known is None:
                conn.execute(object_state.insert().values(bucket=change.bucket, key=change.key, **values))
            else:
                conn.execute(update(object_state).where(where).values(**values))
            size, etag = change.size, change.etag
        row = {
            "event_name": change.event_name,
            "bucket": change.bucket,
            "key": change.key,
            "size": size,
            "etag": etag,
            "event_time": now,
            "source": source,
        }
        event_id = conn.execute(object_events.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
        return ObjectEvent(id=int(event_id), **row)  # type: ignore[arg-type]

    # ---- reading

    def read(
        self, *, after: int = 0, limit: int = 1000, bucket: str | None = None, prefix: str = ""
    ) -> list[ObjectEvent]:
        query = select(object_events).where(object_events.c.id > after)
        if bucket:
            query = query.where(object_events.c.bucket == bucket)
        if prefix:
            query = query.where(object_events.c.key.startswith(prefix, autoescape=True))
        query = query.order_by(object_events.c.id).limit(limit)
        with self.db.read() as conn:
            return [_row_event(row) for row in conn.execute(query)]

    def known_objects(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """``key → ETag`` of every object the log believes exists under ``prefix``."""
        query = select(object_state.c.key, object_state.c.etag).where(object_state.c.bucket == bucket)
        if prefix:
            query = query.where(object_state.c.key.startswith(prefix, autoescape=True))
        with self.db.read() as conn:
            return {row.key: row.etag for row in conn.execute(query)}

    def known_buckets(self) -> list[str]:
        with self.db.read() as conn:
            return [row[0] for row in conn.execute(select(object_state.c.bucket).distinct())]

    # ---- consumers

    def poll(self, consumer: str, *, limit: int = 100) -> list[ObjectEvent]:
        """Events the consumer has not acknowledged yet, oldest first."""
        return self.read(after=self.position(consumer), limit=limit)

    def latest_id(self) -> int:
        """The id of the newest event (0 when there is none): a consumer starting now begins after it."""
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(object_events.c.id))).scalar() or 0)

    def position(self, consumer: str) -> int:
        with self.db.read() as conn:
            value = conn.execute(select(event_cursors.c.position).where(event_cursors.c.consumer == consumer)).scalar()
        return int(value or 0)

    def ack(self, consumer: str, event_id: int) -> None:
        """Mark every event up to ``event_id`` as handled by ``consumer`` (never moves the cursor back)."""

        def work(conn: Connection) -> None:
            where = event_cursors.c.consumer == consumer
            current = conn.execute(select(event_cursors.c.position).where(where)).scalar()
            now = datetime.now(UTC)
            if current is None:
                conn.execute(event_cursors.insert().values(consumer=consumer, position=event_id, updated_at=now))
            elif event_id > current:
                conn.execute(update(event_cursors).where(where).values(position=event_id, updated_at=now))

        self.db.run_write(work)

    def follow(self, consumer: str, *, limit: int = 100) -> Iterator[ObjectEvent]:
        """Yield unacknowledged events, acknowledging each once the caller asks for the next one."""
        for event in self.poll(consumer, limit=limit):
            yield event
            self.ack(consumer, event.id)
