"""Landing dataset files in the lake: where they go, and uploading a batch all-or-nothing.

Every way data arrives (the sample generator, the Kaggle loader, any folder of files, the Spotify Web API
connector) ends here, so a batch either lands whole or, on failure, the objects it had already written
are removed again and the staging area keeps its last good state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.errors import InvalidInput, LakeportError

if TYPE_CHECKING:
    from lakeport.storage import ObjectInfo, Storage

FileProgress = Callable[[str, int], None]
"""Called as ``progress(file_name, nbytes)`` while a batch uploads."""


@dataclass(frozen=True)
class Destination:
    bucket: str
    prefix: str  # empty, or ends with "/"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return self.prefix + name


def resolve_destination(to: str, default_bucket: str) -> Destination:
    """``s3://bucket/prefix/`` as given, or a prefix such as ``staging/spotify/`` in the default bucket."""
    text = to.strip()
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not bucket:
            raise InvalidInput(f"destination {to!r} names no bucket", hint="write s3://bucket/staging/name/")
    else:
        bucket, prefix = default_bucket, text.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Destination(bucket, prefix)


@dataclass(frozen=True)
class LandedFile:
    name: str
    uri: str
    size: int
    etag: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.name, "uri": self.uri, "bytes": self.size, "etag": self.etag}


def upload_batch(
    storage: Storage,
    files: list[tuple[str, Path]],
    dest: Destination,
    *,
    progress: FileProgress | None = None,
) -> list[LandedFile]:
    """Upload ``(object name, local path)`` pairs under ``dest``, all or nothing.

    An object about to be overwritten is first copied to a local backup; if any upload fails, objects this
    batch created are removed and overwritten ones are put back, so the prefix keeps its last good state.
    """
    written: list[ObjectInfo] = []
    with tempfile.TemporaryDirectory(prefix="lakeport-batch-") as tmp:
        backups: dict[str, Path] = {}
        try:
            for index, (name, path) in enumerate(files):
                key = dest.key(name)
                if storage.object_exists(dest.bucket, key):
                    backups[key] = Path(tmp) / f"{index}.bak"
                    storage.download_file(dest.bucket, key, backups[key])

                def advance(n: int, name: str = name) -> None:
                    if progress:
                        progress(name, n)

                written.append(storage.upload_file(path, dest.bucket, key, progress=advance))
        except BaseException:
            _roll_back(storage, dest.bucket, [info.key for info in written], backups)
            raise
    return [LandedFile(name, info.uri, info.size, info.etag) for (name, _), info in zip(files, written, strict=True)]


def _roll_back(storage: Storage, bucket: str, keys: list[str], backups: dict[str, Path]) -> None:
    """Put back what a failed batch overwrote and remove what it created (best effort; the original failure
    is the one reported)."""
    for key in keys:
        try:
            if key in backups:
                storage.upload_file(backups[key], bucket, key)
            else:
                storage.delete_object(bucket, key)
        except LakeportError:
            continue
