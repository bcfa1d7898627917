"""The first rows of a CSV, JSON or Parquet object, for the storage browser's preview.

Only the head of a text object is read (``max_bytes``, default 1 MiB, after gunzipping a ``.gz`` object), so a
preview of a large file stays fast; a Parquet object is read through ranged gets (its footer, then the first row
group's pages). Every read goes through :class:`~lakeport.storage.Storage`, so the caller needs ``s3:GetObject``
on the object, as for a download.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import io
import json
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from lakeport.errors import InvalidInput

if TYPE_CHECKING:
    from lakeport.storage.objects import ObjectInfo
    from lakeport.storage.storage import Storage

FORMATS = ("csv", "json", "parquet")
MAX_BYTES = 1024 * 1024
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Preview:
    """``columns`` (name and type) and up to ``limit`` ``rows`` (lists of JSON values) of one object."""

    bucket: str
    key: str
    format: str
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Bucket": self.bucket,
            "Key": self.key,
            "Format": self.format,
            "columns": self.columns,
            "rows": self.rows,
            "truncated": self.truncated,
            "warnings": self.warnings,
        }


def preview_object(
    storage: Storage,
    bucket: str,
    key: str,
    *,
    limit: int = 20,
    format: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> Preview:
    """The first ``limit`` rows of ``s3://bucket/key``; ``format`` (csv, json, parquet) is guessed from the key's
    suffix, then from the bytes, when not given."""
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"a preview shows 1 to 1000 rows, not {limit}")
    info = storage.head_object(bucket, key)
    compressed = key.endswith(".gz")
    chosen = format or _guess(key.removesuffix(".gz"), info)
    if chosen not in FORMATS:
        raise InvalidInput(
            f"s3://{bucket}/{key}: cannot preview format {chosen!r}",
            hint=f"previews read {', '.join(FORMATS)}; pass format= to say which one the object holds",
        )
    if chosen == "parquet":
        if compressed:
            raise InvalidInput(f"s3://{bucket}/{key}: a gzipped Parquet file cannot be previewed")
        columns, rows, truncated = _parquet(storage, info, limit)
        return Preview(bucket, key, chosen, columns, rows, truncated)
    head, cut = _head(storage, info, max_bytes, compressed)
    if chosen == "csv":
        delimiter = "\t" if key.removesuffix(".gz").endswith(".tsv") else None
        columns, rows, more = _csv(head, limit, delimiter, key)
    else:
        columns, rows, more = _json(head, limit, cut, key)
    warnings = [f"read the first {max_bytes} bytes only"] if cut else []
    return Preview(bucket, key, chosen, columns, rows, more or cut, warnings)


def _guess(key: str, info: ObjectInfo) -> str:
    for suffix, name in _SUFFIXES.items():
        if key.lower().endswith(suffix):
            return name
    kind = info.content_type.lower()
    if "json" in kind:
        return "json"
    if "csv" in kind:
        return "csv"
    if "parquet" in kind:
        return "parquet"
    return "unknown"


def _head(storage: Storage, info: ObjectInfo, max_bytes: int, compressed: bool) -> tuple[str, bool]:
    """The object's first ``max_bytes`` (decompressed) as text, cut at the last whole line; and whether cut."""
    with storage.get_object(info.bucket, info.key) as stream:
        if compressed:
            with gzip.GzipFile(mode="rb", fileobj=cast("IO[bytes]", stream)) as unzipped:
                try:
                    data = unzipped.read(max_bytes + 1)
                except (OSError, EOFError) as exc:
                    raise InvalidInput(f"s3://{info.bucket}/{info.key} is not valid gzip: {exc}") from None
        else:
            data = stream.read(max_bytes + 1)
    cut = len(data) > max_bytes
    if cut:
        data = data[:max_bytes]
        newline = data.rfind(b"\n")
        data = data[: newline + 1] if newline >= 0 else data
    return data.decode("utf-8", errors="replace").lstrip("\ufeff"), cut


def _csv(text: str, limit: int, delimiter: str | None, key: str) -> tuple[list[dict[str, str]], list[list[Any]], bool]:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[: 64 * 1024], delimiters=",;|\t").delimiter
        except csv.Error:
            delimiter = ","
    if csv.field_size_limit() < len(text) + 1:  # a long field is data, not an error (the text is capped already)
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)  # "" lets csv see \r, \r\n and \n ends
    rows: list[list[Any]] = []
    more = False
    try:
        header = next(reader, None)
        if header is None:
            return [], [], False
        for record in reader:
            if not record:
                continue
            if len(rows) == limit:
                more = True
                break
            rows.append(list(record) + [None] * (len(header) - len(record)))
    except csv.Error as exc:
        raise InvalidInput(f"{key}: not readable as CSV (line {reader.line_num}): {exc}") from None
    names = [name or f"col{i}" for i, name in enumerate(header)]
    return [{"Name": name, "Type": "string"} for name in names], [r[: len(names)] for r in rows], more


def _json(text: str, limit: int, cut: bool, key: str) -> tuple[list[dict[str, str]], list[list[Any]], bool]:
    stripped = text.lstrip()
    records: list[Any]
    more = False
    if stripped.startswith("["):
        if cut:
            raise InvalidInput(
                f"{key}: a JSON array larger than the preview's read size cannot be previewed",
                hint="JSON Lines (one object per line) previews at any size",
            )
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{key}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
        records = list(document[:limit])
        more = len(document) > limit
    else:
        records = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            if len(records) == limit:
                more = True
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"{key}: line {number} is not valid JSON (column {exc.colno}): {exc.msg}",
                    hint="a JSON object is previewed as JSON Lines: one object per line",
                ) from None
    names: dict[str, str] = {}
    for record in records:
        for name, value in record.items() if isinstance(record, dict) else [("value", record)]:
            names.setdefault(str(name), _json_type(value))
    rows = [[(record.get(n) if isinstance(record, dict) else record) for n in names] for record in records]
    return [{"Name": n, "Type": t} for n, t in names.items()], rows, more


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "struct"
    if isinstance(value, list):
        return "array"
    return "string"


class _RangedFile(io.RawIOBase):
    """A seekable read-only file over an object, each read a ranged get (pyarrow reads a Parquet footer first)."""

    def __init__(self, storage: Storage, info: ObjectInfo) -> None:
        self._storage = storage
        self._info = info
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._info.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._info.size - self._position)
        if size <= 0:
            return 0
        end = self._position + size - 1
        with self._storage.get_object(self._info.bucket, self._info.key, byte_range=(self._position, end)) as s:
            data = s.readall()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _parquet(storage: Storage, info: ObjectInfo, limit: int) -> tuple[list[dict[str, str]], list[list[Any]], bool]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if info.size < 12:
        raise InvalidInput(f"s3://{info.bucket}/{info.key} is too small to be a Parquet file ({info.size} bytes)")
    try:
        parquet = pq.ParquetFile(io.BufferedReader(_RangedFile(storage, info), buffer_size=256 * 1024))
        batch = next(parquet.iter_batches(batch_size=limit), None)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"s3://{info.bucket}/{info.key} is not a readable Parquet file: {exc}") from None
    schema = parquet.schema_arrow
    columns = [{"Name": f.name, "Type": str(f.type)} for f in schema]
    if batch is None:
        return columns, [], False
    table = pa.Table.from_batches([batch])
    rows = [[_jsonable(v) for v in row.values()] for row in table.to_pylist()]
    return columns, rows, parquet.metadata.num_rows > len(rows)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
