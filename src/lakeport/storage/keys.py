"""Bucket names and object keys: S3's naming rules, plus the rules that keep a key inside its bucket.

Both backends apply the same rules so that data moves between a local folder and an S3 store unchanged.
A key may not be absolute, contain ``.`` or ``..`` segments, empty segments, backslashes, NUL or other
control characters, or end with ``/`` (folder markers are not stored; prefixes exist implicitly).
"""

from __future__ import annotations

import mimetypes
import re

from lakeport.errors import InvalidBucketName, InvalidKey

MAX_KEY_BYTES = 1024
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def validate_bucket_name(name: str) -> str:
    """Return ``name`` if it follows S3's bucket naming rules, else raise :class:`InvalidBucketName`."""
    problem = None
    if not 3 <= len(name) <= 63:
        problem = "must be 3 to 63 characters long"
    elif not _BUCKET_RE.match(name):
        problem = (
            "may hold only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "may not contain '..', '.-' or '-.'"
    elif _IP_RE.match(name):
        problem = "may not look like an IP address"
    elif name.startswith("xn--") or name.endswith("-s3alias"):
        problem = "may not start with 'xn--' or end with '-s3alias'"
    if problem:
        raise InvalidBucketName(f"bucket name {printable(repr(name))} {problem}", hint="for example: my-lake-staging")
    return name


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes, safe to print in an error on a terminal."""
    return _CONTROL_RE.sub(lambda m: repr(m.group())[1:-1], text)


def validate_key(key: str, bucket: str = "") -> str:
    """Return ``key`` if it is a safe object key, else raise :class:`InvalidKey` saying why."""
    where = printable(f"s3://{bucket}/{key}" if bucket else repr(key))
    problem = None
    if not key:
        problem = "is empty"
    elif len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        problem = f"is longer than {MAX_KEY_BYTES} bytes"
    elif _CONTROL_RE.search(key):
        problem = "contains a control character"
    elif "\\" in key:
        problem = "contains a backslash"
    elif key.startswith("/"):
        problem = "is absolute (starts with '/')"
    elif key.endswith("/"):
        problem = "ends with '/' (a folder marker; prefixes exist without them)"
    else:
        for segment in key.split("/"):
            if segment in ("", ".", ".."):
                problem = (
                    f"has a {segment or 'empty'!r} path segment" if segment else "has an empty path segment ('//')"
                )
                break
    if problem:
        raise InvalidKey(f"object key {where} {problem}", hint="use keys like staging/spotify/albums.csv")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey(f"object key {where} is not valid Unicode text") from None
    return key


def guess_content_type(key: str) -> str:
    """The content type S3 clients would send for ``key``, from its extension."""
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or "application/octet-stream"
