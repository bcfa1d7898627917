"""What the object store hands back: object facts, listing pages and readable object streams."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import IO, Any, Protocol

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"Name": self.name, "CreationDate": self.created.isoformat() if self.created else None}


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    multipart: bool = False

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        """The fields S3's HeadObject/ListObjectsV2 answer with, under S3's names."""
        return {
            "Bucket": self.bucket,
            "Key": self.key,
            "Size": self.size,
            "ETag": f'"{self.etag}"',
            "LastModified": self.last_modified.isoformat(),
            "ContentType": self.content_type,
            "Metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class ListPage:
    """One page of ListObjectsV2: objects and common prefixes in key order, at most ``max_keys`` of both."""

    bucket: str
    prefix: str
    delimiter: str | None
    objects: list[ObjectInfo]
    common_prefixes: list[str]
    is_truncated: bool
    next_token: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.bucket,
            "Prefix": self.prefix,
            "Delimiter": self.delimiter,
            "Contents": [o.to_dict() for o in self.objects],
            "CommonPrefixes": [{"Prefix": p} for p in self.common_prefixes],
            "KeyCount": len(self.objects) + len(self.common_prefixes),
            "IsTruncated": self.is_truncated,
            "NextContinuationToken": self.next_token,
        }


def encode_token(last: str, is_prefix: bool) -> str:
    """An opaque continuation token that resumes a listing after ``last``."""
    raw = json.dumps({"after": last, "prefix": is_prefix}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, bool]:
    from lakeport.errors import InvalidInput

    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        return str(data["after"]), bool(data["prefix"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            f"continuation token {token[:40]!r} is not one this store issued",
            hint="pass the NextContinuationToken of the previous page unchanged",
        ) from None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class ObjectStream:
    """An object's bytes as a stream: ``read()``, iteration in chunks, and a context manager."""

    def __init__(self, info: ObjectInfo, raw: _Readable | IO[bytes], length: int | None = None) -> None:
        self.info = info
        self._raw = raw
        self._remaining = info.size if length is None else length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._raw.read(size)
        self._remaining -= len(data)
        return data

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        while chunk := self.read(chunk_size):
            yield chunk

    def readall(self) -> bytes:
        return b"".join(self.iter_chunks())

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
