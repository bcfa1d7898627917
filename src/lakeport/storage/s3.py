"""The S3 backend: any S3-compatible endpoint through boto3, with the local backend's semantics.

Uploads stream in parts of ``storage.multipart_chunk_mb`` MiB: a body that fits in one part is one
PutObject, a larger one a multipart upload (aborted on any failure, so no partial object ever shows), and
memory stays at about one part whatever the object's size.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from lakeport.errors import (
    AccessDenied,
    BucketAlreadyExists,
    BucketNotEmpty,
    InvalidBucketName,
    InvalidInput,
    LakeportError,
    NoSuchBucket,
    NoSuchKey,
    ServiceUnavailable,
    missing_dependency,
)
from lakeport.storage.backend import Progress
from lakeport.storage.etags import strip_quotes
from lakeport.storage.keys import validate_bucket_name, validate_key
from lakeport.storage.objects import BucketInfo, ListPage, ObjectInfo, ObjectStream

if TYPE_CHECKING:
    from lakeport.settings import StorageSettings

MIN_PART = 5 * 1024 * 1024


class S3Backend:
    name = "s3"

    def __init__(self, settings: StorageSettings) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ModuleNotFoundError:
            raise missing_dependency("boto3", "s3", "An S3 object store (storage.url = s3://)") from None
        self.settings = settings
        self.location = settings.endpoint_url or "AWS S3"
        self.part_size = max(MIN_PART, settings.multipart_chunk_mb * 1024 * 1024)
        kwargs: dict[str, Any] = {"region_name": settings.region}
        if settings.endpoint_url:
            kwargs["endpoint_url"] = settings.endpoint_url
        if settings.access_key_id:
            kwargs["aws_access_key_id"] = settings.access_key_id
            kwargs["aws_secret_access_key"] = settings.secret_access_key
        config = Config(
            retries={"max_attempts": 5, "mode": "standard"},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        )
        self.client: Any = boto3.session.Session().client("s3", config=config, **kwargs)
        from botocore.exceptions import BotoCoreError, ClientError

        self._store_errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)

    # ---- error mapping

    def _error(self, exc: Exception, bucket: str, key: str | None = None) -> LakeportError:
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        where = f"s3://{bucket}/{key}" if key else f"bucket {bucket!r}"
        if isinstance(exc, EndpointConnectionError):
            return ServiceUnavailable(
                f"cannot reach the S3 endpoint {self.location}",
                hint="check storage.endpoint_url and the network",
            )
        if isinstance(exc, NoCredentialsError):
            return AccessDenied(
                f"no S3 credentials for {self.location}",
                hint="set storage.access_key_id/secret_access_key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            )
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            message = str(exc.response.get("Error", {}).get("Message", "")) or code
            if code == "NoSuchBucket":
                return NoSuchBucket(f"bucket {bucket!r} does not exist at {self.location}")
            if key and (code in ("NoSuchKey", "404", "NotFound") or status == 404):
                return NoSuchKey(f"object {where} does not exist")
            if status == 404:
                return NoSuchBucket(f"bucket {bucket!r} does not exist at {self.location}")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return BucketAlreadyExists(f"bucket {bucket!r} already exists at {self.location}", code=code)
            if code == "BucketNotEmpty":
                return BucketNotEmpty(f"bucket {bucket!r} is not empty", hint=f"lakeport s3 rb s3://{bucket} --force")
            if code == "InvalidBucketName":
                return InvalidBucketName(f"bucket name {bucket!r} is not valid: {message}")
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
                return AccessDenied(f"the S3 endpoint denied access to {where}: {message}", code=code or None)
            if code == "InvalidRange" or status == 416:
                return InvalidInput(f"range not satisfiable for {where}", code="InvalidRange")
            if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                return ServiceUnavailable(f"the S3 endpoint failed on {where}: {message}", code=code or None)
            return InvalidInput(f"the S3 endpoint rejected the request on {where}: {message}", code=code or None)
        return ServiceUnavailable(f"S3 request on {where} failed: {exc}")

    # ---- buckets

    def create_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        # In us-east-1, S3 answers 200 to re-creating a bucket you own; keep the local backend's semantics.
        try:
            exists = self.bucket_exists(bucket)
        except LakeportError:
            exists = False  # e.g. another account's bucket: let CreateBucket give the answer
        if exists:
            raise BucketAlreadyExists(
                f"bucket {bucket!r} already exists at {self.location}", code="BucketAlreadyOwnedByYou"
            )
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if self.settings.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.region}
        try:
            self.client.create_bucket(**kwargs)
        except Exception as exc:
            raise self._error(exc, bucket) from exc

    def delete_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        try:
            self.client.delete_bucket(Bucket=bucket)
        except Exception as exc:
            raise self._error(exc, bucket) from exc

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket_name(bucket)
        try:
            self.client.head_bucket(Bucket=bucket)
            return True
        except Exception as exc:
            err = self._error(exc, bucket)
            if isinstance(err, NoSuchBucket):
                return False
            raise err from exc

    def list_buckets(self) -> list[BucketInfo]:
        try:
            answer = self.client.list_buckets()
        except Exception as exc:
            raise self._error(exc, "*") from exc
        return [
            BucketInfo(b["Name"], _utc(b["CreationDate"]) if b.get("CreationDate") else None)
            for b in answer.get("Buckets", [])
        ]

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
        validate_bucket_name(bucket)
        validate_key(key, bucket)
        extra: dict[str, Any] = {"Metadata": dict(metadata or {})}
        if content_type:
            extra["ContentType"] = content_type
        first = _read_full(body, self.part_size)
        try:
            if len(first) < self.part_size:
                self.client.put_object(Bucket=bucket, Key=key, Body=first, **extra)
                if progress:
                    progress(len(first))
                return self.head_object(bucket, key)
            return self._multipart(bucket, key, body, first, extra, progress)
        except self._store_errors as exc:
            raise self._error(exc, bucket, key) from exc

    def _multipart(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        first: bytes,
        extra: dict[str, Any],
        progress: Progress | None,
    ) -> ObjectInfo:
        upload_id = self.client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            chunk = first
            while chunk:
                number = len(parts) + 1
                answer = self.client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentMD5=_b64md5(chunk),
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                if progress:
                    progress(len(chunk))
                chunk = _read_full(body, self.part_size)
            self.client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            with contextlib.suppress(Exception):  # the original failure is the one to report
                self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        info = self.head_object(bucket, key)
        return ObjectInfo(
            info.bucket,
            info.key,
            info.size,
            info.etag,
            info.last_modified,
            info.content_type,
            info.metadata,
            True,
        )

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        validate_bucket_name(bucket)
        validate_key(key, bucket)
        try:
            answer = self.client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            err = self._error(exc, bucket, key)
            if isinstance(err, NoSuchKey) and not self.bucket_exists(bucket):
                err = NoSuchBucket(f"bucket {bucket!r} does not exist at {self.location}")
            raise err from exc
        return _info_from(bucket, key, answer, answer["ContentLength"])

    def open_object(self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None) -> ObjectStream:
        validate_bucket_name(bucket)
        validate_key(key, bucket)
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if byte_range is not None:
            start, end = byte_range
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = self.client.get_object(**kwargs)
        except Exception as exc:
            raise self._error(exc, bucket, key) from exc
        length = int(answer["ContentLength"])
        total = length
        if "ContentRange" in answer:
            total = int(str(answer["ContentRange"]).rsplit("/", 1)[1])
        return ObjectStream(_info_from(bucket, key, answer, total), answer["Body"], length=length)

    def delete_object(self, bucket: str, key: str) -> bool:
        """S3's DeleteObject does not say whether the key existed, so ask with a HEAD first."""
        try:
            self.head_object(bucket, key)
            existed = True
        except NoSuchKey:
            existed = False
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise self._error(exc, bucket, key) from exc
        return existed

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> ObjectInfo:
        validate_bucket_name(src_bucket)
        validate_bucket_name(dst_bucket)
        validate_key(src_key, src_bucket)
        validate_key(dst_key, dst_bucket)
        try:
            self.client.copy(
                {"Bucket": src_bucket, "Key": src_key},
                dst_bucket,
                dst_key,
            )
        except Exception as exc:
            raise self._error(exc, src_bucket, src_key) from exc
        return self.head_object(dst_bucket, dst_key)

    def presign(self, bucket: str, key: str, expires_in: int) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

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
        validate_bucket_name(bucket)
        if max_keys < 0 or max_keys > 1000:
            raise InvalidInput(f"max_keys {max_keys} is outside 0..1000", code="InvalidArgument")
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        if continuation_token:
            kwargs["ContinuationToken"] = continuation_token
        elif start_after:
            kwargs["StartAfter"] = start_after
        try:
            answer = self.client.list_objects_v2(**kwargs)
        except Exception as exc:
            raise self._error(exc, bucket) from exc
        objects = [
            ObjectInfo(
                bucket,
                item["Key"],
                int(item["Size"]),
                strip_quotes(item["ETag"]),
                _utc(item["LastModified"]),
            )
            for item in answer.get("Contents", [])
        ]
        prefixes = [p["Prefix"] for p in answer.get("CommonPrefixes", [])]
        truncated = bool(answer.get("IsTruncated"))
        return ListPage(
            bucket,
            prefix,
            delimiter or None,
            objects,
            prefixes,
            truncated,
            answer.get("NextContinuationToken"),
        )


def _read_full(body: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = body.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _info_from(bucket: str, key: str, answer: dict[str, Any], size: int) -> ObjectInfo:
    etag = strip_quotes(str(answer.get("ETag", "")))
    return ObjectInfo(
        bucket,
        key,
        int(size),
        etag,
        _utc(answer["LastModified"]),
        str(answer.get("ContentType") or "application/octet-stream"),
        dict(answer.get("Metadata") or {}),
        multipart="-" in etag,
    )
