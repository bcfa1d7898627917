"""The object storage service (S3's role): every call is authorized, then done, then recorded as an event."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from lakeport.errors import InvalidInput, NoSuchKey
from lakeport.iam.arns import bucket_arn, object_arn
from lakeport.storage.events import CREATED_COPY, CREATED_MULTIPART, CREATED_PUT, EventLog, ObjectChange
from lakeport.storage.keys import guess_content_type
from lakeport.storage.presign import sign_url

if TYPE_CHECKING:
    from lakeport.iam import IAM, Principal
    from lakeport.storage.backend import Backend, Progress
    from lakeport.storage.objects import BucketInfo, ListPage, ObjectInfo, ObjectStream

ALL_BUCKETS_ARN = "arn:aws:s3:::*"


class Storage:
    """Buckets and objects for one principal. ``as_principal`` gives the same store for another caller."""

    def __init__(
        self,
        backend: Backend,
        iam: IAM,
        events: EventLog,
        principal: Principal,
        *,
        default_bucket: str,
        presign_base_url: str,
        presign_secret: str,
    ) -> None:
        self.backend = backend
        self.iam = iam
        self.events = events
        self.principal = principal
        self.default_bucket = default_bucket
        self._presign_base_url = presign_base_url
        self._presign_secret = presign_secret

    def as_principal(self, principal: Principal) -> Storage:
        return Storage(
            self.backend,
            self.iam,
            self.events,
            principal,
            default_bucket=self.default_bucket,
            presign_base_url=self._presign_base_url,
            presign_secret=self._presign_secret,
        )

    def _authorize(self, action: str, resource: str) -> None:
        self.iam.authorize(self.principal, action, resource)

    # ---- buckets

    def create_bucket(self, bucket: str) -> None:
        self._authorize("s3:CreateBucket", bucket_arn(bucket))
        self.backend.create_bucket(bucket)

    def delete_bucket(self, bucket: str, *, force: bool = False) -> int:
        """Delete a bucket; with ``force``, delete its objects first. Returns how many objects went."""
        self._authorize("s3:DeleteBucket", bucket_arn(bucket))
        removed = 0
        if force:
            for info in self.iter_objects(bucket):
                self.delete_object(bucket, info.key)
                removed += 1
        self.backend.delete_bucket(bucket)
        return removed

    def bucket_exists(self, bucket: str) -> bool:
        self._authorize("s3:ListBucket", bucket_arn(bucket))
        return self.backend.bucket_exists(bucket)

    def list_buckets(self) -> list[BucketInfo]:
        self._authorize("s3:ListAllMyBuckets", ALL_BUCKETS_ARN)
        return self.backend.list_buckets()

    # ---- objects

    def put_object(
        self,
        bucket: str,
        key: str,
        body: BinaryIO | bytes,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Store ``body`` (bytes or a readable binary stream, read in chunks) under ``key``, atomically."""
        self._authorize("s3:PutObject", object_arn(bucket, key))
        stream = io.BytesIO(body) if isinstance(body, bytes | bytearray) else body
        info = self.backend.put_object(
            bucket,
            key,
            stream,
            content_type=content_type or guess_content_type(key),
            metadata=metadata,
            progress=progress,
        )
        self._created(info, CREATED_MULTIPART if info.multipart else CREATED_PUT)
        return info

    def put_objects(self, items: Sequence[tuple[str, str, bytes, str | None]]) -> list[ObjectInfo]:
        """Store several small objects ``(bucket, key, body, content type)``, each atomically, and record their
        events in one transaction (a query's result file and its metadata, for example)."""
        for bucket, key, _, _ in items:
            self._authorize("s3:PutObject", object_arn(bucket, key))
        infos = [
            self.backend.put_object(
                bucket, key, io.BytesIO(body), content_type=kind or guess_content_type(key), metadata=None
            )
            for bucket, key, body, kind in items
        ]
        self.events.record(
            [
                ObjectChange(
                    i.bucket, i.key, i.etag, i.size, i.last_modified, CREATED_MULTIPART if i.multipart else CREATED_PUT
                )
                for i in infos
            ],
            source="lakeport",
        )
        return infos

    def get_object(self, bucket: str, key: str, *, byte_range: tuple[int, int | None] | None = None) -> ObjectStream:
        """The object's bytes as a stream; close it (or use ``with``) when done."""
        self._authorize("s3:GetObject", object_arn(bucket, key))
        return self.backend.open_object(bucket, key, byte_range)

    def read_bytes(self, bucket: str, key: str) -> bytes:
        with self.get_object(bucket, key) as stream:
            return stream.readall()

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        self._authorize("s3:GetObject", object_arn(bucket, key))
        return self.backend.head_object(bucket, key)

    def object_exists(self, bucket: str, key: str) -> bool:
        try:
            self.head_object(bucket, key)
        except NoSuchKey:
            return False
        return True

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
        """One page of ListObjectsV2 (objects and common prefixes, in key order)."""
        # S3's condition keys for ListBucket, so a policy can allow listing one prefix of a bucket only
        context: dict[str, str] = {"s3:prefix": prefix, "s3:max-keys": str(max_keys)}
        if delimiter is not None:
            context["s3:delimiter"] = delimiter
        self.iam.authorize(self.principal, "s3:ListBucket", bucket_arn(bucket), context)
        return self.backend.list_objects(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=continuation_token,
            start_after=start_after,
        )

    def iter_pages(self, bucket: str, *, prefix: str = "", delimiter: str | None = None) -> Iterator[ListPage]:
        token: str | None = None
        while True:
            page = self.list_objects(bucket, prefix=prefix, delimiter=delimiter, continuation_token=token)
            yield page
            if not page.is_truncated or not page.next_token:
                return
            token = page.next_token

    def iter_objects(self, bucket: str, *, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, following pagination."""
        for page in self.iter_pages(bucket, prefix=prefix):
            yield from page.objects

    def delete_object(self, bucket: str, key: str) -> bool:
        """Delete ``key``; deleting a missing key succeeds, as in S3. Returns whether it existed."""
        self._authorize("s3:DeleteObject", object_arn(bucket, key))
        existed = self.backend.delete_object(bucket, key)
        self.events.record_removed(bucket, key)
        return existed

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> ObjectInfo:
        self._authorize("s3:GetObject", object_arn(src_bucket, src_key))
        self._authorize("s3:PutObject", object_arn(dst_bucket, dst_key))
        info = self.backend.copy_object(src_bucket, src_key, dst_bucket, dst_key)
        self._created(info, CREATED_COPY)
        return info

    def _created(self, info: ObjectInfo, event_name: str) -> None:
        self.events.record_created(
            info.bucket,
            info.key,
            etag=info.etag,
            size=info.size,
            last_modified=info.last_modified,
            event_name=event_name,
        )

    # ---- files

    def upload_file(
        self,
        path: Path,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
        with handle:
            return self.put_object(bucket, key, handle, content_type=content_type, progress=progress)

    def download_file(self, bucket: str, key: str, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        """Write the object to ``path`` atomically (a temp file beside it, then a rename)."""
        with self.get_object(bucket, key) as stream:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                with tmp.open("wb") as out:
                    for chunk in stream.iter_chunks():
                        out.write(chunk)
                        if progress:
                            progress(len(chunk))
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return stream.info

    # ---- presigned URLs

    def presign(self, bucket: str, key: str, *, expires_in: int = 3600) -> str:
        """A URL that lets anyone holding it GET the object until it expires (1 s to 7 days, as in S3)."""
        if not 1 <= expires_in <= 604800:
            raise InvalidInput(f"expires_in {expires_in} s is outside 1..604800 (7 days)")
        self._authorize("s3:GetObject", object_arn(bucket, key))
        self.backend.head_object(bucket, key)
        native = self.backend.presign(bucket, key, expires_in)
        if native:
            return native
        return sign_url(self._presign_base_url, self._presign_secret, bucket, key, expires_in)
