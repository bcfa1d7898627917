"""The small interface both object-store backends implement, and the factory that picks one by URL.

A backend only stores bytes; access checks and event records are the :class:`~lakeport.storage.Storage`
service's job, so both backends behave the same under it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from lakeport.errors import ConfigError

if TYPE_CHECKING:
    from lakeport.settings import StorageSettings
    from lakeport.storage.objects import BucketInfo, ListPage, ObjectInfo, ObjectStream

Progress = Callable[[int], None]
"""Called with the number of bytes just transferred."""


class Backend(Protocol):
    name: str
    location: str

    def create_bucket(self, bucket: str) -> None: ...

    def delete_bucket(self, bucket: str) -> None: ...

    def bucket_exists(self, bucket: str) -> bool: ...

    def list_buckets(self) -> list[BucketInfo]: ...

    def put_object(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo: ...

    def open_object(self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None) -> ObjectStream: ...

    def head_object(self, bucket: str, key: str) -> ObjectInfo: ...

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListPage: ...

    def delete_object(self, bucket: str, key: str) -> bool:
        """Delete ``key`` (a missing key is not an error, as in S3); return whether it existed."""
        ...

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> ObjectInfo: ...

    def presign(self, bucket: str, key: str, expires_in: int) -> str | None:
        """A native presigned GET URL, or None when the store has none (the lakeport server signs instead)."""
        ...


def open_backend(settings: StorageSettings, lake_root: Path) -> Backend:
    """The backend ``storage.url`` names: a folder (default ``objects`` in the lake), ``file://`` or ``s3://``."""
    url = settings.url.strip()
    if url.startswith("s3://"):
        from lakeport.storage.s3 import S3Backend

        return S3Backend(settings)
    if url.startswith("file://"):
        path = Path(url[len("file://") :])
    elif "://" in url:
        raise ConfigError(
            f"storage.url {url!r}: unsupported scheme", hint="use a folder path, file:///abs/path or s3://"
        )
    else:
        path = Path(url)
    if not path.is_absolute():
        path = lake_root / path
    from lakeport.storage.local import LocalBackend

    return LocalBackend(path, fsync=settings.fsync)
