"""Reading just enough of a file to classify it: the first bytes (decompressed), or a Parquet footer.

Glue samples the start of a file: for CSV the first 1,000 records or 1 MB, for JSON the first 1 MB. A
:class:`Sample` holds the first ``limit`` decompressed bytes and knows whether the file goes on after them.
Compressed files (gzip, bzip2, zstd) are recognized by their magic bytes, whatever their name says.
Columnar formats keep their schema at the end, so :meth:`Sample.read_tail` fetches it by range.
"""

from __future__ import annotations

import bz2
import codecs
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.storage.objects import ObjectInfo, ObjectStream

CHUNK = 64 * 1024
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\x28\xb5\x2f\xfd", "zstd"))


def compression_of(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class _Decompressor:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._impl: Any
        if kind == "gzip":
            self._impl = zlib.decompressobj(wbits=47)  # gzip header, concatenated members handled below
        elif kind == "bzip2":
            self._impl = bz2.BZ2Decompressor()
        else:
            import zstandard

            self._impl = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> bytes:
        out = self._impl.decompress(data)
        if self.kind == "gzip":
            # A gzip file may hold several members; start a new decompressor on what follows the first.
            while self._impl.eof and self._impl.unused_data:
                rest = self._impl.unused_data
                self._impl = zlib.decompressobj(wbits=47)
                out += self._impl.decompress(rest)
        return bytes(out)

    @property
    def finished(self) -> bool:
        return bool(getattr(self._impl, "eof", False))


@dataclass
class Sample:
    """The start of one object, decompressed, plus a way to read its end."""

    info: ObjectInfo
    head: bytes  # the first raw (possibly compressed) bytes
    data: bytes  # the first ``limit`` decompressed bytes
    truncated: bool  # the file goes on after ``data``
    compression: str | None
    raw_bytes_read: int
    read_range: Callable[[int, int], bytes]

    @property
    def uri(self) -> str:
        return self.info.uri

    def text(self) -> str:
        """The sample as text: UTF-8 (a BOM dropped), undecodable bytes replaced."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        return decoder.decode(self.data, final=not self.truncated)

    def read_tail(self, length: int) -> bytes:
        size = self.info.size
        start = max(0, size - length)
        return self.read_range(start, size - 1)

    def estimated_rows(self, rows_in_sample: int) -> int:
        """Rows in the whole file, scaled from the sample by the share of the file it covered."""
        if not self.truncated or self.raw_bytes_read <= 0:
            return rows_in_sample
        return round(rows_in_sample * self.info.size / self.raw_bytes_read)


def read_sample(
    open_object: Callable[[tuple[int, int | None] | None], ObjectStream], info: ObjectInfo, limit: int
) -> Sample:
    """Read the first ``limit`` bytes of content of an object (decompressing as needed)."""

    def read_range(start: int, end: int) -> bytes:
        with open_object((start, end)) as stream:
            return stream.readall()

    if info.size == 0:
        return Sample(info, b"", b"", False, None, 0, read_range)
    with open_object(None) as stream:
        first = stream.read(min(CHUNK, max(limit, 16)))
        compression = compression_of(first)
        if compression is None:
            rest = stream.read(limit - len(first) + 1) if len(first) <= limit else b""
            data = first + rest
            truncated = len(data) > limit or info.size > len(data)
            data = data[:limit]
            return Sample(info, first, data, truncated, None, len(data), read_range)
        decompressor = _Decompressor(compression)
        out = bytearray()
        raw_read = 0
        chunk = first
        try:
            while chunk:
                raw_read += len(chunk)
                out += decompressor.feed(chunk)
                if len(out) > limit:
                    break
                chunk = stream.read(CHUNK)
        except Exception as exc:  # zlib.error, OSError, EOFError, zstandard.ZstdError …
            raise InvalidInput(f"{info.uri}: corrupt {compression} data ({exc})") from None
        if len(out) <= limit and not decompressor.finished:
            raise InvalidInput(f"{info.uri}: truncated {compression} file: the compressed stream ends early")
        truncated = len(out) > limit
        return Sample(info, first, bytes(out[:limit]), truncated, compression, raw_read, read_range)
