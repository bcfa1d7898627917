"""S3 ETags: the MD5 of the bytes for a single upload, ``md5(part md5s)-N`` for a multipart upload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from lakeport.storage.objects import CHUNK_SIZE


def md5_hex(chunks: Iterable[bytes]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    with path.open("rb") as handle:
        return md5_hex(iter(lambda: handle.read(CHUNK_SIZE), b""))


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 gives a completed multipart upload, from the binary MD5 of each part."""
    return f"{hashlib.md5(b''.join(part_md5s), usedforsecurity=False).hexdigest()}-{len(part_md5s)}"


def strip_quotes(etag: str) -> str:
    return etag.strip().strip('"')
