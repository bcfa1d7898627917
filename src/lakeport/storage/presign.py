"""Presigned URLs for the local backend, signed with the lake's secret and checked by the lakeport server.

S3 stores presign natively (SigV4); a local folder has no server of its own, so lakeport signs
``<server>/s3/<bucket>/<key>?X-Lakeport-Expires=<epoch>&X-Lakeport-Signature=<hmac>`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit

from lakeport.errors import AccessDenied, InvalidInput


def _signature(secret: str, bucket: str, key: str, expires: int) -> str:
    message = f"GET\n{bucket}\n{key}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_url(base_url: str, secret: str, bucket: str, key: str, expires_in: int, *, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + expires_in)
    path = f"/s3/{quote(bucket)}/{quote(key)}"
    signature = _signature(secret, bucket, key, expires)
    return f"{base_url.rstrip('/')}{path}?X-Lakeport-Expires={expires}&X-Lakeport-Signature={signature}"


def verify_url(url: str, secret: str, *, now: float | None = None) -> tuple[str, str]:
    """Return ``(bucket, key)`` if ``url`` is a valid, unexpired lakeport presigned URL."""
    parts = urlsplit(url)
    segments = parts.path.split("/", 3)
    if len(segments) != 4 or segments[1] != "s3":
        raise InvalidInput(f"{url} is not a lakeport presigned URL")
    bucket, key = unquote(segments[2]), unquote(segments[3])
    query = parse_qs(parts.query)
    try:
        expires = int(query["X-Lakeport-Expires"][0])
        signature = query["X-Lakeport-Signature"][0]
    except (KeyError, ValueError, IndexError):
        raise InvalidInput(f"{url} lacks X-Lakeport-Expires or X-Lakeport-Signature") from None
    if not hmac.compare_digest(signature, _signature(secret, bucket, key, expires)):
        raise AccessDenied(f"presigned URL for s3://{bucket}/{key} has a bad signature", code="SignatureDoesNotMatch")
    if (time.time() if now is None else now) > expires:
        raise AccessDenied(f"presigned URL for s3://{bucket}/{key} has expired", hint="ask for a new one")
    return bucket, key
