"""Copies between local files and the lake, in the shape of ``aws s3 cp|mv|rm|sync``.

A transfer is planned first (a list of :class:`Transfer` items with sizes, so a front end can show one
progress bar for the whole job) and then run item by item. Locations are ``s3://bucket/key``, a local
path, or ``-`` for standard input/output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lakeport.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from lakeport.storage.backend import Progress
    from lakeport.storage.storage import Storage

Action = Literal["upload", "download", "copy", "delete"]


@dataclass(frozen=True)
class Location:
    """A lake object or prefix (``bucket`` set), a local path (``path`` set), or standard I/O."""

    bucket: str | None = None
    key: str = ""
    path: Path | None = None

    @property
    def is_lake(self) -> bool:
        return self.bucket is not None

    @property
    def is_stdio(self) -> bool:
        return self.bucket is None and self.path is None

    def __str__(self) -> str:
        if self.is_lake:
            return f"s3://{self.bucket}/{self.key}"
        return "-" if self.path is None else str(self.path)


def parse_location(text: str) -> Location:
    if text == "-":
        return Location()
    if text.startswith("s3://"):
        bucket, _, key = text[len("s3://") :].partition("/")
        if not bucket:
            raise InvalidInput(f"{text!r} names no bucket", hint="write s3://bucket/key")
        return Location(bucket=bucket, key=key)
    return Location(path=Path(text).expanduser())


@dataclass(frozen=True)
class Transfer:
    action: Action
    source: Location
    dest: Location
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "source": str(self.source), "dest": str(self.dest), "size": self.size}


def _join_key(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return prefix + name if prefix.endswith("/") else f"{prefix}/{name}"


def _dir_prefix(key: str) -> str:
    return key if not key or key.endswith("/") else key + "/"


class Transfers:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # ---- planning

    def plan_copy(self, src: Location, dst: Location, *, recursive: bool = False) -> list[Transfer]:
        if not src.is_lake and not dst.is_lake:
            raise InvalidInput(f"{src} → {dst}: one side must be an s3:// location", hint="use cp for local copies")
        if recursive:
            return list(self._plan_tree(src, dst))
        return [self._plan_one(src, dst)]

    def _plan_one(self, src: Location, dst: Location) -> Transfer:
        if src.is_stdio:
            if not dst.is_lake or not dst.key or dst.key.endswith("/"):
                raise InvalidInput("reading standard input needs a full destination key: s3://bucket/key")
            return Transfer("upload", src, dst, 0)
        if src.is_lake:
            if not src.key:
                raise InvalidInput(f"{src} names a bucket, not an object", hint="add --recursive to copy everything")
            assert src.bucket is not None
            info = self.storage.head_object(src.bucket, src.key)
            name = src.key.rsplit("/", 1)[-1]
            if dst.is_lake:
                key = _join_key(dst.key, name) if not dst.key or dst.key.endswith("/") else dst.key
                return Transfer("copy", src, Location(dst.bucket, key), info.size)
            if dst.is_stdio:
                return Transfer("download", src, dst, info.size)
            assert dst.path is not None
            target = dst.path / name if dst.path.is_dir() or str(dst.path).endswith(os.sep) else dst.path
            return Transfer("download", src, Location(path=target), info.size)
        assert src.path is not None
        if src.path.is_dir():
            raise InvalidInput(f"{src.path} is a folder", hint="add --recursive to copy a folder")
        if not src.path.is_file():
            raise NotFound(f"local file {src.path} does not exist")
        key = _join_key(dst.key, src.path.name) if not dst.key or dst.key.endswith("/") else dst.key
        return Transfer("upload", src, Location(dst.bucket, key), src.path.stat().st_size)

    def _plan_tree(self, src: Location, dst: Location) -> Iterator[Transfer]:
        if src.is_stdio or dst.is_stdio:
            raise InvalidInput("--recursive cannot read standard input or write standard output")
        if src.is_lake:
            assert src.bucket is not None
            prefix = _dir_prefix(src.key)
            for info in self.storage.iter_objects(src.bucket, prefix=prefix):
                rel = info.key[len(prefix) :]
                source = Location(src.bucket, info.key)
                if dst.is_lake:
                    yield Transfer("copy", source, Location(dst.bucket, _join_key(dst.key, rel)), info.size)
                else:
                    assert dst.path is not None
                    yield Transfer("download", source, Location(path=dst.path / rel), info.size)
            return
        assert src.path is not None
        if not src.path.is_dir():
            raise NotFound(f"local folder {src.path} does not exist")
        for path in sorted(p for p in src.path.rglob("*") if p.is_file()):
            rel = path.relative_to(src.path).as_posix()
            yield Transfer(
                "upload",
                Location(path=path),
                Location(dst.bucket, _join_key(dst.key, rel)),
                path.stat().st_size,
            )

    def plan_remove(self, target: Location, *, recursive: bool = False) -> list[Transfer]:
        if not target.is_lake or target.bucket is None:
            raise InvalidInput(f"{target}: rm works on s3:// locations")
        if not recursive:
            if not target.key:
                raise InvalidInput(f"{target} names a bucket", hint="add --recursive, or use rb to remove the bucket")
            return [Transfer("delete", target, target, 0)]
        prefix = _dir_prefix(target.key)
        return [
            Transfer("delete", Location(target.bucket, o.key), Location(target.bucket, o.key), o.size)
            for o in self.storage.iter_objects(target.bucket, prefix=prefix)
        ]

    def plan_sync(self, src: Location, dst: Location, *, delete: bool = False) -> list[Transfer]:
        """Copy what is missing or differs (size, or a newer source), like ``aws s3 sync``; optionally delete extras."""
        source = self._inventory(src)
        target = self._inventory(dst)
        plan: list[Transfer] = []
        for rel, (size, mtime, where) in sorted(source.items()):
            there = target.get(rel)
            # S3 keeps LastModified in whole seconds: compare at that precision, or a file written in the same
            # second as its upload looks newer than its copy and is copied again on every sync.
            if there is not None and there[0] == size and there[1] >= mtime.replace(microsecond=0):
                continue
            dest = self._child(dst, rel)
            action: Action = "copy" if src.is_lake and dst.is_lake else ("upload" if dst.is_lake else "download")
            plan.append(Transfer(action, where, dest, size))
        if delete:
            for rel in sorted(set(target) - set(source)):
                where = target[rel][2]
                plan.append(Transfer("delete", where, where, target[rel][0]))
        return plan

    def _child(self, base: Location, rel: str) -> Location:
        if base.is_lake:
            return Location(base.bucket, _join_key(base.key, rel))
        assert base.path is not None
        return Location(path=base.path / rel)

    def _inventory(self, where: Location) -> dict[str, tuple[int, datetime, Location]]:
        out: dict[str, tuple[int, datetime, Location]] = {}
        if where.is_stdio:
            raise InvalidInput("sync cannot use standard input or output")
        if where.is_lake:
            assert where.bucket is not None
            prefix = _dir_prefix(where.key)
            for info in self.storage.iter_objects(where.bucket, prefix=prefix):
                out[info.key[len(prefix) :]] = (
                    info.size,
                    info.last_modified,
                    Location(where.bucket, info.key),
                )
            return out
        assert where.path is not None
        if not where.path.exists():
            return out
        for path in where.path.rglob("*"):
            if path.is_file():
                st = path.stat()
                rel = path.relative_to(where.path).as_posix()
                out[rel] = (st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), Location(path=path))
        return out

    # ---- running

    def run(
        self,
        plan: list[Transfer],
        *,
        progress: Progress | None = None,
        on_done: Callable[[Transfer], None] | None = None,
    ) -> list[Transfer]:
        for item in plan:
            self._run_one(item, progress)
            if on_done:
                on_done(item)
        return plan

    def _run_one(self, item: Transfer, progress: Progress | None) -> None:
        src, dst = item.source, item.dest
        if item.action == "delete":
            if src.is_lake:
                assert src.bucket is not None
                self.storage.delete_object(src.bucket, src.key)
            elif src.path is not None:
                src.path.unlink(missing_ok=True)
            return
        if item.action == "copy":
            assert src.bucket is not None
            assert dst.bucket is not None
            self.storage.copy_object(src.bucket, src.key, dst.bucket, dst.key)
            if progress:
                progress(item.size)
            return
        if item.action == "upload":
            assert dst.bucket is not None
            if src.path is None:
                self.storage.put_object(dst.bucket, dst.key, sys.stdin.buffer, progress=progress)
            else:
                self.storage.upload_file(src.path, dst.bucket, dst.key, progress=progress)
            return
        assert src.bucket is not None
        if dst.path is None:
            with self.storage.get_object(src.bucket, src.key) as stream:
                for chunk in stream.iter_chunks():
                    sys.stdout.buffer.write(chunk)
                    if progress:
                        progress(len(chunk))
                sys.stdout.buffer.flush()
            return
        self.storage.download_file(src.bucket, src.key, dst.path, progress=progress)

    def move(self, plan: list[Transfer], *, progress: Progress | None = None) -> list[Transfer]:
        """Run a copy plan, removing each source once its copy is complete."""
        for item in plan:
            self._run_one(item, progress)
            src = item.source
            if src.is_lake:
                assert src.bucket is not None
                self.storage.delete_object(src.bucket, src.key)
            elif src.path is not None:
                src.path.unlink()
        return plan
