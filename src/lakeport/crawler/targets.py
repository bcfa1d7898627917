"""What a crawler reads: ``s3://bucket/prefix`` include paths and Glue's exclusion glob patterns.

Exclusions are matched against the key relative to the include path, as Glue does:

- ``*`` matches any characters within one path segment (never ``/``); ``**`` matches across segments;
- ``?`` matches one character (not ``/``); ``[abc]`` / ``[!abc]`` a character class;
- ``{a,b}`` either alternative (alternatives may themselves hold globs); ``\\`` escapes the next character.

So with include path ``s3://lake/sales/``, ``*.csv`` excludes CSV files directly in ``sales/``, ``**.csv``
excludes them at any depth, and ``2019/**`` everything under ``sales/2019/``.

Files Hadoop, Spark and Athena treat as hidden are never data: names starting with ``_`` or ``.``
(``_SUCCESS``, ``_committed_…``, ``.crc`` files) and ``…_$folder$`` markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lakeport.errors import InvalidInput


@dataclass(frozen=True)
class Target:
    bucket: str
    prefix: str  # "" or ending with "/"

    @classmethod
    def parse(cls, text: str) -> Target:
        """``s3://bucket/prefix``, ``s3://bucket`` or ``bucket/prefix``; the prefix is a folder."""
        raw = text.strip()
        body = raw[5:] if raw.lower().startswith("s3://") else raw
        if "://" in body or not body or body.startswith("/"):
            raise InvalidInput(f"crawler target {text!r} is not an S3 path", hint="write it as s3://bucket/prefix/")
        bucket, _, prefix = body.partition("/")
        if not bucket:
            raise InvalidInput(f"crawler target {text!r} has no bucket")
        prefix = prefix.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def covers(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket and key.startswith(self.prefix)

    def relative(self, key: str) -> str:
        return key[len(self.prefix) :]


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
                continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "," and depth:
            out.append("|")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        raise InvalidInput(f"exclusion pattern {pattern!r} has an unclosed '{{'")
    return "".join(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(_translate(pattern) + r"\Z")
    except re.error as exc:
        raise InvalidInput(f"exclusion pattern {pattern!r} is not a valid glob: {exc}") from None


def excluded(relative_key: str, patterns: tuple[str, ...]) -> bool:
    """Whether a key (relative to its include path) matches one of the exclusion globs."""
    return any(compile_glob(p).match(relative_key) for p in patterns)


def hidden(relative_key: str) -> bool:
    """Hidden files and folder markers that are never data (see the module docstring)."""
    if relative_key.endswith("_$folder$"):
        return True
    return any(part.startswith(("_", ".")) for part in relative_key.split("/") if part)
