"""The crawler's object index: for each file it has seen, the ETag and size it had and what was found in it.

A re-crawl compares the listing with the index and samples only files that are new or whose ETag or size
changed; unchanged files are taken from the index without being opened. The index is saved in the same
transaction as the catalog changes, so it never claims more than the catalog holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import delete, select

from lakeport.crawler.classifiers import FileShape
from lakeport.crawler.schema import crawler_objects

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class IndexEntry:
    bucket: str
    key: str
    etag: str
    size: int
    shape: FileShape | None
    warning: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


Index = dict[tuple[str, str], IndexEntry]
T = TypeVar("T")


def load_index(conn: Connection, crawler: str) -> Index:
    rows = conn.execute(select(crawler_objects).where(crawler_objects.c.crawler == crawler)).all()
    shapes: dict[str, FileShape] = {}  # files of one dataset mostly share a shape: parse each text once

    def shape_of(text: str | None) -> FileShape | None:
        if text is None:
            return None
        found = shapes.get(text)
        if found is None:
            found = shapes[text] = FileShape.from_json(json.loads(text))
        return found

    return {(r.bucket, r.key): IndexEntry(r.bucket, r.key, r.etag, r.size, shape_of(r.shape), r.warning) for r in rows}


def save_index(conn: Connection, crawler: str, before: Index, after: Index) -> None:
    """Write the difference between the index as loaded and as it is now."""
    gone = [k for k in before if k not in after]
    changed = [e for k, e in after.items() if before.get(k) != e]
    for bucket, key in [*gone, *((e.bucket, e.key) for e in changed if (e.bucket, e.key) in before)]:
        conn.execute(
            delete(crawler_objects).where(
                crawler_objects.c.crawler == crawler, crawler_objects.c.bucket == bucket, crawler_objects.c.key == key
            )
        )
    rows = [
        {
            "crawler": crawler,
            "bucket": e.bucket,
            "key": e.key,
            "etag": e.etag,
            "size": e.size,
            "shape": None if e.shape is None else json.dumps(e.shape.to_json(), sort_keys=True),
            "warning": e.warning,
        }
        for e in changed
    ]
    for chunk in _chunks(rows):
        conn.execute(crawler_objects.insert(), chunk)


def _chunks(items: Iterable[T], size: int = 500) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
