"""``/api/v1/storage``: buckets and objects (S3) — list, inspect, download, upload, delete, preview.

Object keys travel as the ``key`` query parameter (keys hold slashes). Object listings are paged the way S3's
ListObjectsV2 is (``max_keys`` and ``continuation_token``, answering ``NextContinuationToken``), because the store
pages them itself; the bucket list uses the API's ``limit``/``next_token``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO, cast
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from lakeport.server.api.deps import CallerLake, Paging, action
from lakeport.storage.objects import ObjectStream
from lakeport.storage.preview import preview_object

router = APIRouter(prefix="/api/v1/storage", tags=["storage"])
BUCKET = "arn:aws:s3:::{bucket}"
OBJECT = "arn:aws:s3:::{bucket}/{key}"
SPOOL_BYTES = 8 * 1024 * 1024  # an upload larger than this is spooled to a temporary file, not held in memory

Key = Annotated[str, Query(min_length=1, description="the object's key")]


@router.get("/buckets", openapi_extra=action("s3:ListAllMyBuckets", "arn:aws:s3:::*"))
def list_buckets(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every bucket (ListBuckets)."""
    return page.of([b.to_dict() for b in lake.storage.list_buckets()], "Buckets")


@router.get("/buckets/{bucket}/objects", openapi_extra=action("s3:ListBucket", BUCKET))
def list_objects(
    lake: CallerLake,
    bucket: str,
    prefix: Annotated[str, Query(description="only keys that start with this")] = "",
    delimiter: Annotated[str | None, Query(description="group keys up to this into CommonPrefixes ('/')")] = None,
    max_keys: Annotated[int, Query(ge=1, le=1000, description="objects and prefixes in this page")] = 1000,
    continuation_token: Annotated[str | None, Query(description="the previous page's NextContinuationToken")] = None,
    start_after: Annotated[str | None, Query(description="only keys after this one")] = None,
) -> dict[str, Any]:
    """One page of objects and common prefixes in key order (ListObjectsV2)."""
    found = lake.storage.list_objects(
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=max_keys,
        continuation_token=continuation_token,
        start_after=start_after,
    )
    return found.to_dict()


@router.get("/buckets/{bucket}/objects/head", openapi_extra=action("s3:GetObject", OBJECT))
def head_object(lake: CallerLake, bucket: str, key: Key) -> dict[str, Any]:
    """An object's size, ETag, content type and metadata (HeadObject)."""
    return lake.storage.head_object(bucket, key).to_dict()


@router.get(
    "/buckets/{bucket}/objects/download",
    response_class=StreamingResponse,
    openapi_extra=action("s3:GetObject", OBJECT),
)
def download_object(lake: CallerLake, bucket: str, key: Key) -> StreamingResponse:
    """The object's bytes, streamed, with its content type (GetObject)."""
    stream = lake.storage.get_object(bucket, key)
    info = stream.info
    name = key.rsplit("/", 1)[-1] or "object"
    headers = {
        "Content-Length": str(info.size),
        "ETag": f'"{info.etag}"',
        "Last-Modified": info.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
    }
    return StreamingResponse(_chunks(stream), media_type=info.content_type, headers=headers)


def _chunks(stream: ObjectStream) -> Iterator[bytes]:
    with stream:
        yield from stream.iter_chunks()


@router.put(
    "/buckets/{bucket}/objects",
    openapi_extra={
        **action("s3:PutObject", OBJECT),
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    },
)
async def put_object(lake: CallerLake, request: Request, bucket: str, key: Key) -> dict[str, Any]:
    """Upload the request's body as the object (PutObject); its Content-Type header becomes the object's (when
    absent or ``application/octet-stream``, the type is guessed from the key)."""
    given = request.headers.get("content-type", "").split(";")[0].strip()
    content_type = None if given in ("", "application/octet-stream") else given
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        info = await run_in_threadpool(
            lake.storage.put_object, bucket, key, cast("BinaryIO", spool), content_type=content_type
        )
    return info.to_dict()


@router.delete("/buckets/{bucket}/objects", openapi_extra=action("s3:DeleteObject", OBJECT))
def delete_object(lake: CallerLake, bucket: str, key: Key) -> dict[str, Any]:
    """Delete the object; deleting a missing key succeeds, as in S3 (DeleteObject)."""
    existed = lake.storage.delete_object(bucket, key)
    return {"Bucket": bucket, "Key": key, "Deleted": existed}


@router.get("/buckets/{bucket}/objects/preview", openapi_extra=action("s3:GetObject", OBJECT))
def preview(
    lake: CallerLake,
    bucket: str,
    key: Key,
    limit: Annotated[int, Query(ge=1, le=1000, description="rows to show")] = 20,
    format: Annotated[
        str | None, Query(pattern="^(csv|json|parquet)$", description="csv, json or parquet (default: guessed)")
    ] = None,
) -> dict[str, Any]:
    """The first rows of a CSV, JSON (Lines) or Parquet object as ``{columns, rows}``."""
    return preview_object(lake.storage, bucket, key, limit=limit, format=format).to_dict()
