"""The local-folder backend: ``<root>/<bucket>/<key>``, written atomically, never outside its bucket.

Layout under the root: one folder per bucket, objects as plain files (so other programs can read and drop
files), and ``.lakeport/`` for what S3 keeps beside the bytes: ``meta/<bucket>/<key>.json`` (ETag, content
type, user metadata, checked against the file's size, mtime and inode so a file changed by hand is re-hashed)
and ``tmp/`` for uploads in flight. Bucket names cannot start with a dot, so ``.lakeport`` never collides.

A put streams into ``tmp/`` with an MD5 running, fsyncs, and renames into place: a reader sees the old
object or the new one, never part of one, even if the writer is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from lakeport.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    Conflict,
    InvalidInput,
    InvalidKey,
    NoSuchBucket,
    NoSuchKey,
)
from lakeport.processes import HOST, process_alive
from lakeport.storage.backend import Progress
from lakeport.storage.etags import md5_hex
from lakeport.storage.keys import guess_content_type, validate_bucket_name, validate_key
from lakeport.storage.objects import (
    CHUNK_SIZE,
    BucketInfo,
    ListPage,
    ObjectInfo,
    ObjectStream,
    decode_token,
    encode_token,
)

INTERNAL_DIR = ".lakeport"
MAX_SEGMENT_BYTES = 250  # NAME_MAX is 255; the metadata file adds ".json"
STALE_TMP_SECONDS = 24 * 3600


def _writer_gone(name: str) -> bool:
    """Whether a temporary upload ``<pid>-<uuid>@<host>.part`` belongs to a process of this host that has died."""
    writer, _, host = name.removesuffix(".part").rpartition("@")
    pid = writer.split("-", 1)[0]
    return host == HOST and pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid))


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=UTC)


class _Skip:
    """The common prefix a listing has rolled up: the walk passes over every key under it."""

    def __init__(self, under: str | None) -> None:
        self.under = under

    def covers(self, key: str) -> bool:
        return self.under is not None and key.startswith(self.under)


def _sort_name(entry: os.DirEntry[str]) -> str:
    """Order directory entries as their keys sort: a folder ``a`` holds keys ``a/...``, so it sorts as ``a/``."""
    return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name


class LocalBackend:
    name = "local"

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.location = str(root)
        self.fsync = fsync
        self._internal = root / INTERNAL_DIR
        self._tmp = self._internal / "tmp"
        self._meta = self._internal / "meta"
        self._meta_dir = str(self._meta)
        self._swept = False

    # ---- paths

    def _bucket_dir(self, bucket: str) -> Path:
        validate_bucket_name(bucket)
        path = self.root / bucket
        if not path.is_dir():
            raise NoSuchBucket(f"bucket {bucket!r} does not exist in {self.root}", hint=f"lakeport s3 mb s3://{bucket}")
        return path

    def _object_path(self, bucket: str, key: str) -> Path:
        """The file for ``key``, after proving it cannot lead outside the bucket (including through symlinks)."""
        validate_key(key, bucket)
        for segment in key.split("/"):
            if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
                raise InvalidKey(
                    f"object key s3://{bucket}/{key} has a path segment longer than {MAX_SEGMENT_BYTES} bytes",
                    hint="a local folder cannot store it; shorten the segment",
                )
        bucket_dir = self._bucket_dir(bucket)
        path = bucket_dir / key
        real_bucket = os.path.realpath(bucket_dir)
        # Resolve whatever part of the path exists today: a symlink anywhere on it must stay in the bucket.
        real = os.path.realpath(path)
        if not (real == real_bucket or real.startswith(real_bucket + os.sep)):
            raise InvalidKey(
                f"object key s3://{bucket}/{key} resolves outside its bucket (through a symbolic link)",
                hint="remove the link or copy the target into the bucket",
            )
        return path

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self._meta / bucket / (key + ".json")

    # ---- buckets

    def create_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        path = self.root / bucket
        if path.exists():
            raise BucketAlreadyExists(f"bucket {bucket!r} already exists in {self.root}")
        path.mkdir(parents=True)

    def delete_bucket(self, bucket: str) -> None:
        path = self._bucket_dir(bucket)
        if any(True for _ in self._walk(path, "", "", _Skip(None))):
            raise BucketNotEmpty(
                f"bucket {bucket!r} is not empty",
                hint=f"remove its objects first: lakeport s3 rb s3://{bucket} --force",
            )
        shutil.rmtree(path)
        shutil.rmtree(self._meta / bucket, ignore_errors=True)

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket_name(bucket)
        return (self.root / bucket).is_dir()

    def list_buckets(self) -> list[BucketInfo]:
        if not self.root.is_dir():
            return []
        out = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("."):
                out.append(BucketInfo(entry.name, _mtime(entry.stat())))
        return out

    # ---- objects

    def put_object(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        dest = self._object_path(bucket, key)
        self._check_storable(bucket, key, dest)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._sweep_stale_tmp()
        tmp = self._tmp / f"{os.getpid()}-{uuid.uuid4().hex}@{HOST}.part"  # whose it is: see _sweep_stale_tmp
        try:
            with tmp.open("wb") as out:
                etag = md5_hex(self._copy_chunks(body, out, progress))
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self.fsync:
            self._fsync_dir(dest.parent)
        st = dest.stat()
        ctype = content_type or guess_content_type(key)
        self._write_meta(bucket, key, st, etag, ctype, metadata or {})
        return ObjectInfo(bucket, key, st.st_size, etag, _mtime(st), ctype, dict(metadata or {}))

    @staticmethod
    def _copy_chunks(body: BinaryIO, out: BinaryIO, progress: Progress | None) -> Iterator[bytes]:
        while chunk := body.read(CHUNK_SIZE):
            out.write(chunk)
            if progress:
                progress(len(chunk))
            yield chunk

    def _check_storable(self, bucket: str, key: str, dest: Path) -> None:
        """A folder cannot hold both ``a`` and ``a/b``; say so instead of failing with an OS error."""
        if dest.is_dir():
            raise Conflict(
                f"cannot store s3://{bucket}/{key}: objects already exist under s3://{bucket}/{key}/",
                hint="a local folder cannot hold a key and keys below it; use another key or an S3 store",
            )
        parent = dest.parent
        bucket_dir = self.root / bucket
        while parent != bucket_dir:
            if parent.exists() and not parent.is_dir():
                prefix = parent.relative_to(bucket_dir).as_posix()
                raise Conflict(
                    f"cannot store s3://{bucket}/{key}: object s3://{bucket}/{prefix} already exists",
                    hint="a local folder cannot hold a key and keys below it; use another key or an S3 store",
                )
            parent = parent.parent

    def _fsync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _sweep_stale_tmp(self) -> None:
        """Remove uploads abandoned by killed writers, once per process: those of a writer on this host whose
        process is gone (the pid and host are in the name), and any older than a day."""
        if self._swept:
            return
        self._swept = True
        cutoff = time.time() - STALE_TMP_SECONDS
        for entry in os.scandir(self._tmp):
            try:
                if _writer_gone(entry.name) or entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue

    def _write_meta(
        self, bucket: str, key: str, st: os.stat_result, etag: str, ctype: str, metadata: dict[str, str]
    ) -> None:
        path = self._meta_path(bucket, key)
        record = {
            "etag": etag,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "ino": st.st_ino,
            "content_type": ctype,
            "metadata": metadata,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            return  # the sidecar is a cache: without it the ETag is recomputed from the bytes

    def _read_meta(self, bucket: str, key: str, st: os.stat_result) -> dict[str, Any] | None:
        try:
            # Plain os.path and open(): listing reads one sidecar per object, and pathlib's parsing shows up there.
            with open(os.path.join(self._meta_dir, bucket, key + ".json"), "rb") as handle:
                record: dict[str, Any] = json.loads(handle.read())
        except (OSError, ValueError):
            return None
        if (record.get("size"), record.get("mtime_ns"), record.get("ino")) != (
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
        ):
            return None
        return record

    def _info(self, bucket: str, key: str, path: str | Path, st: os.stat_result) -> ObjectInfo:
        record = self._read_meta(bucket, key, st)
        if record is None:
            # Written by another program (or changed by hand): hash it once and remember.
            with open(path, "rb") as handle:
                etag = md5_hex(iter(lambda: handle.read(CHUNK_SIZE), b""))
            ctype = guess_content_type(key)
            self._write_meta(bucket, key, st, etag, ctype, {})
            return ObjectInfo(bucket, key, st.st_size, etag, _mtime(st), ctype, {})
        return ObjectInfo(
            bucket,
            key,
            st.st_size,
            record["etag"],
            _mtime(st),
            record.get("content_type") or "application/octet-stream",
            dict(record.get("metadata") or {}),
        )

    def _stat_file(self, bucket: str, key: str) -> tuple[Path, os.stat_result]:
        path = self._object_path(bucket, key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchKey(f"object s3://{bucket}/{key} does not exist") from None
        except OSError as exc:  # a symbolic link that loops (ELOOP) or cannot be followed is no object either
            raise NoSuchKey(f"object s3://{bucket}/{key} does not exist ({exc.strerror or exc})") from None
        if not stat.S_ISREG(st.st_mode):
            raise NoSuchKey(f"object s3://{bucket}/{key} does not exist (it is a prefix of other keys)")
        return path, st

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        path, st = self._stat_file(bucket, key)
        return self._info(bucket, key, path, st)

    def open_object(self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None) -> ObjectStream:
        path, _st = self._stat_file(bucket, key)
        handle = path.open("rb")
        # Describe the bytes this handle holds (the inode we opened), even if the key is replaced meanwhile.
        info = self._info(bucket, key, path, os.fstat(handle.fileno()))
        if byte_range is None or (byte_range[1] is not None and byte_range[1] < byte_range[0]):
            return ObjectStream(info, handle)  # no range, or one S3 ignores (end before start): the whole object
        start, end = byte_range
        last = info.size - 1 if end is None else min(end, info.size - 1)
        if start < 0 or start > last:
            handle.close()
            raise InvalidInput(
                f"range bytes={start}-{'' if end is None else end} is not satisfiable for "
                f"s3://{bucket}/{key} ({info.size} bytes)",
                code="InvalidRange",
            )
        handle.seek(start)
        return ObjectStream(info, handle, length=last - start + 1)

    def delete_object(self, bucket: str, key: str) -> bool:
        path = self._object_path(bucket, key)
        try:
            existed = path.is_file()
            if existed:
                path.unlink()
        except FileNotFoundError:
            existed = False  # removed by someone else in between
        self._meta_path(bucket, key).unlink(missing_ok=True)
        self._prune_empty_dirs(path.parent, self.root / bucket)
        self._prune_empty_dirs(self._meta_path(bucket, key).parent, self._meta / bucket)
        return existed

    @staticmethod
    def _prune_empty_dirs(start: Path, stop: Path) -> None:
        path = start
        while path != stop and stop in path.parents:
            try:
                path.rmdir()
            except OSError:
                return
            path = path.parent

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> ObjectInfo:
        with self.open_object(src_bucket, src_key) as src:
            return self.put_object(
                dst_bucket,
                dst_key,
                src,  # type: ignore[arg-type]
                content_type=src.info.content_type,
                metadata=src.info.metadata,
            )

    def presign(self, bucket: str, key: str, expires_in: int) -> str | None:
        return None

    # ---- listing

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListPage:
        bucket_dir = self._bucket_dir(bucket)
        if max_keys < 0 or max_keys > 1000:
            raise InvalidInput(f"max_keys {max_keys} is outside 0..1000", code="InvalidArgument")
        delimiter = delimiter or None
        after, skip_under = start_after or "", None
        if continuation_token:
            after, was_prefix = decode_token(continuation_token)
            skip_under = after if was_prefix else None
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last: tuple[str, bool] | None = None
        truncated = False
        if max_keys == 0:
            return ListPage(bucket, prefix, delimiter, [], [], False, None)
        skip = _Skip(skip_under)
        for key, path, st in self._walk(bucket_dir, prefix, after, skip):
            if len(objects) + len(prefixes) >= max_keys:
                truncated = True
                break
            common = self._common_prefix(key, prefix, delimiter)
            if common is not None:
                prefixes.append(common)
                last = (common, True)
                skip.under = common  # the walk passes over the rest of this prefix without descending
                continue
            objects.append(self._info(bucket, key, path, st))
            last = (key, False)
        token = encode_token(*last) if truncated and last else None
        return ListPage(bucket, prefix, delimiter, objects, prefixes, truncated, token)

    @staticmethod
    def _common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
        if not delimiter:
            return None
        at = key.find(delimiter, len(prefix))
        return None if at < 0 else key[: at + len(delimiter)]

    def _walk(
        self, bucket_dir: Path, prefix: str, after: str, skip: _Skip
    ) -> Iterator[tuple[str, str, os.stat_result]]:
        """Yield ``(key, path, stat)`` for every file with ``key > after`` under ``prefix``, in key order."""
        # Start in the deepest folder the prefix names, to avoid walking the whole bucket.
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        if any(segment in ("", ".", "..") for segment in base.split("/")[:-1]):
            return  # no valid key starts with "a//", "a/./" or "a/../" (the folder path would alias another)
        start_dir = bucket_dir / base if base else bucket_dir
        real_bucket = os.path.realpath(bucket_dir)
        if base and not os.path.realpath(start_dir).startswith(real_bucket + os.sep):
            return
        yield from self._walk_dir(start_dir, base, prefix, after, skip, real_bucket)

    def _walk_dir(
        self, folder: Path, rel: str, prefix: str, after: str, skip: _Skip, real_bucket: str
    ) -> Iterator[tuple[str, str, os.stat_result]]:
        try:
            entries = sorted(os.scandir(folder), key=_sort_name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if skip.covers(rel):
                return  # the caller rolled this whole folder into a common prefix
            key = rel + entry.name
            if skip.covers(key):
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not target.startswith(real_bucket + os.sep) or os.path.isdir(target):
                    continue  # links leading out of the bucket, and folder links (loops), are not objects
            if entry.is_dir(follow_symlinks=False):
                dir_key = key + "/"
                if not (dir_key.startswith(prefix) or prefix.startswith(dir_key)):
                    continue
                if after and not after.startswith(dir_key) and after > dir_key:
                    continue  # every key in this folder sorts before ``after``
                yield from self._walk_dir(Path(entry.path), dir_key, prefix, after, skip, real_bucket)
                continue
            if not key.startswith(prefix) or key <= after:
                continue
            try:
                st = entry.stat()
            except OSError:
                continue  # removed while we listed; or a link that loops (ELOOP) or cannot be followed: no object
            if stat.S_ISREG(st.st_mode):
                yield key, entry.path, st
