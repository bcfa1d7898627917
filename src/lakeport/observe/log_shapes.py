"""What the logs service hands out, in CloudWatch Logs' shapes: groups, streams, events, times, paging tokens."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lakeport.errors import InvalidInput, NotFound
from lakeport.metadata.times import iso, utc

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The values CloudWatch Logs accepts for ``retentionInDays`` (PutRetentionPolicy)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GROUP_NAME = re.compile(r"^[\w.\-/#]{1,512}$")


class ResourceNotFound(NotFound):
    default_code = "ResourceNotFoundException"


class InvalidLogParameter(InvalidInput):
    default_code = "InvalidParameterException"


def to_ms(value: datetime) -> int:
    return (utc(value) - EPOCH) // timedelta(milliseconds=1)


def to_us(value: datetime) -> int:
    return (utc(value) - EPOCH) // timedelta(microseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def check_group_name(name: str) -> None:
    if not _GROUP_NAME.match(name or ""):
        raise InvalidLogParameter(
            f"log group name {name!r} is not valid",
            hint="1 to 512 characters: letters, digits, '_', '-', '/', '.', '#'",
        )


def check_stream_name(group: str, name: str) -> None:
    if not name or len(name) > 512 or ":" in name or "*" in name:
        raise InvalidLogParameter(
            f"log stream name {name!r} in group {group} is not valid",
            hint="1 to 512 characters, without ':' or '*'",
        )


def check_retention(group: str, days: int) -> None:
    if days not in RETENTION_DAYS:
        raise InvalidLogParameter(
            f"log group {group}: {days} is not a retention CloudWatch Logs accepts",
            hint="retention in days is one of " + ", ".join(map(str, RETENTION_DAYS)),
        )


def group_not_found(group: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"log group {group} does not exist", hint="list them with `lakeport logs groups` (names start with '/')"
    )


def stream_not_found(group: str, stream: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"log stream {stream} does not exist in log group {group}",
        hint=f"list them with `lakeport logs streams {group}`",
    )


@dataclass(frozen=True)
class LogEvent:
    """One stored event (lakeport's structured form: level and fields beside the message)."""

    id: int
    group: str
    stream: str
    timestamp: datetime
    level: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    ingestion_time: int | None = None

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

    def to_cloudwatch(self) -> dict[str, Any]:
        """FilterLogEvents' FilteredLogEvent (GetLogEvents' OutputLogEvent is the same without the stream)."""
        stamp = to_ms(self.timestamp)
        return {
            "logStreamName": self.stream,
            "timestamp": stamp,
            "message": self.message,
            "ingestionTime": self.ingestion_time if self.ingestion_time is not None else stamp,
            "eventId": str(self.id),
        }


@dataclass(frozen=True)
class LogGroup:
    name: str
    arn: str
    created_at: datetime
    retention_days: int | None
    stored_bytes: int

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logGroupName": self.name,
            "creationTime": to_ms(self.created_at),
            "metricFilterCount": 0,
            "arn": self.arn + ":*",
            "storedBytes": self.stored_bytes,
            "logGroupClass": "STANDARD",
            "logGroupArn": self.arn,
        }
        if self.retention_days is not None:
            out["retentionInDays"] = self.retention_days
        return out


@dataclass(frozen=True)
class LogStream:
    group: str
    name: str
    arn: str
    created_at: datetime
    first_event_at: datetime | None
    last_event_at: datetime | None
    last_ingestion_at: datetime | None
    stored_bytes: int

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logStreamName": self.name,
            "creationTime": to_ms(self.created_at),
            "arn": self.arn,
            "storedBytes": self.stored_bytes,
        }
        for key, value in (
            ("firstEventTimestamp", self.first_event_at),
            ("lastEventTimestamp", self.last_event_at),
            ("lastIngestionTime", self.last_ingestion_at),
        ):
            if value is not None:
                out[key] = to_ms(value)
        return out


# ---- paging tokens: a position (event time in microseconds, event id) in a group's (time, id) order


def position_token(prefix: str, timestamp: datetime, event_id: int) -> str:
    return f"{prefix}/{to_us(timestamp):020d}/{event_id}"


def parse_position(token: str, prefixes: str, what: str) -> tuple[str, datetime, int]:
    parts = token.split("/")
    if len(parts) != 3 or parts[0] not in prefixes or not parts[1].isdigit() or not parts[2].isdigit():
        raise InvalidLogParameter(
            f"{what} {token!r} is not a token this service handed out", hint="pass the token from the last answer"
        )
    return parts[0], from_us(int(parts[1])), int(parts[2])


def offset_token(offset: int) -> str:
    return f"o/{offset}"


def parse_offset(token: str | None) -> int:
    if not token:
        return 0
    kind, _, value = token.partition("/")
    if kind != "o" or not value.isdigit():
        raise InvalidLogParameter(f"next token {token!r} is not one this service handed out")
    return int(value)
