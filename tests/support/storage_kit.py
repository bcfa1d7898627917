"""Helpers of the storage contract suite: expected ETags, bucket names, and moto's in-process S3 store."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

MiB = 1024 * 1024
PART_SIZE = 5 * MiB
"""The S3 multipart part size of the test lakes (``storage.multipart_chunk_mb = 5`` in tests/conftest.py)."""

MOTO_ACCOUNT = "123456789012"
"""moto's default account: the one an access key unknown to moto's IAM (ours) acts in."""


def new_bucket_name(stem: str = "t") -> str:
    return f"{stem}-{uuid.uuid4().hex[:12]}"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def multipart_etag(data: bytes, part_size: int = PART_SIZE) -> str:
    """S3's ETag for ``data`` uploaded in ``part_size`` parts: MD5 of the parts' binary MD5s, ``-``, part count."""
    digests = [
        hashlib.md5(data[at : at + part_size], usedforsecurity=False).digest() for at in range(0, len(data), part_size)
    ]
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def moto_s3_backend() -> Any:
    """moto's S3 store behind the session's ThreadedMotoServer (the server runs inside the test process)."""
    from moto.s3.models import s3_backends

    return s3_backends[MOTO_ACCOUNT]["aws"]


def moto_put(bucket: str, key: str, value: bytes) -> None:
    """Store an object straight into moto's store, as a fast stand-in for a PUT over HTTP."""
    moto_s3_backend().put_object(bucket, key, value)


def moto_drop_bucket(name: str) -> None:
    """Empty and remove a moto bucket without one request per key (for buckets filled in-process)."""
    backend = moto_s3_backend()
    fake = backend.get_bucket(name)
    for key in list(fake.keys.values()):
        dispose = getattr(key, "dispose", None)
        if dispose is not None:
            dispose()
    fake.keys.clear()
    backend.delete_bucket(name)
