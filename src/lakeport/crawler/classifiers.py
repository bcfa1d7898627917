"""Classifiers: each one looks at a file sample and says what format it is, how sure it is, and its schema.

As in Glue, classifiers run in an explicit order, custom ones first, then the built-ins of
:data:`BUILTIN_CLASSIFIERS`. A classifier that answers with certainty 1.0 wins at once; otherwise the most
certain answer wins; when none answers the file is ``UNKNOWN`` and the crawl reports it and goes on.
Custom classifiers are registered with :func:`register_classifier` or by a plugin (see ``plugins.py``).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from lakeport.catalog.model import TableFormat
from lakeport.crawler.sampling import Sample
from lakeport.errors import InvalidInput

PARQUET_MAGIC = b"PAR1"
AVRO_MAGIC = b"Obj\x01"
ORC_MAGIC = b"ORC"


@dataclass(frozen=True)
class FileShape:
    """What a classifier found in one file."""

    classification: str
    columns: tuple[tuple[str, str], ...]
    format: TableFormat
    rows: int | None = None
    rows_exact: bool = False
    certainty: float = 1.0
    notes: tuple[str, ...] = ()  # problems worth a warning that did not stop classification
    parameters: Mapping[str, str] = field(default_factory=dict)  # extra table parameters (Iceberg metadata)

    def signature(self) -> tuple[tuple[str, str], ...]:
        return self.columns

    def to_json(self) -> dict[str, Any]:
        return {
            "classification": self.classification,
            "columns": [list(c) for c in self.columns],
            "format": self.format.to_dict(),
            "rows": self.rows,
            "rows_exact": self.rows_exact,
            "certainty": self.certainty,
            "notes": list(self.notes),
            "parameters": dict(self.parameters),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileShape:
        return cls(
            classification=data["classification"],
            columns=tuple((str(n), str(t)) for n, t in data["columns"]),
            format=TableFormat.from_dict(data["format"]),
            rows=data.get("rows"),
            rows_exact=bool(data.get("rows_exact")),
            certainty=float(data.get("certainty", 1.0)),
            notes=tuple(data.get("notes") or ()),
            parameters=dict(data.get("parameters") or {}),
        )


@dataclass(frozen=True)
class ClassifierOptions:
    csv_header: str = "auto"
    csv_delimiter: str | None = None


class Classifier(Protocol):
    name: str

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        """A shape when the sample is this classifier's format, else None; InvalidInput when it is but broken."""
        ...


def _hive_columns(columns: Iterable[tuple[str, Any]]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, kind in columns:
        lowered = name.lower()
        if lowered in seen:
            continue  # Hive column names are case-insensitive: the first spelling wins
        seen.add(lowered)
        out.append((lowered, str(kind)))
    return tuple(out)


class ParquetClassifier:
    name = "parquet"

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        if not sample.head.startswith(PARQUET_MAGIC):
            return None
        import pyarrow as pa
        import pyarrow.parquet as pq

        from lakeport.catalog.external_schemas import columns_from_arrow_schema

        size = sample.info.size
        if size < 12:
            raise InvalidInput(f"{sample.uri}: truncated Parquet file ({size} bytes)")
        tail = sample.read_tail(8)
        if tail[4:] != PARQUET_MAGIC:
            raise InvalidInput(f"{sample.uri}: truncated Parquet file: no footer magic at the end")
        footer_length = int.from_bytes(tail[:4], "little")
        if footer_length + 12 > size:
            raise InvalidInput(f"{sample.uri}: corrupt Parquet footer (length {footer_length} > file size)")
        footer = sample.read_tail(footer_length + 8)
        try:
            metadata = pq.read_metadata(pa.BufferReader(PARQUET_MAGIC + footer))
            schema = metadata.schema.to_arrow_schema()
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InvalidInput(f"{sample.uri}: unreadable Parquet footer ({exc})") from None
        compression = None
        if metadata.num_row_groups and metadata.num_columns:
            codec = str(metadata.row_group(0).column(0).compression).lower()
            compression = None if codec == "uncompressed" else codec
        return FileShape(
            "parquet",
            _hive_columns(columns_from_arrow_schema(schema)),
            TableFormat("parquet", compression=compression),
            rows=metadata.num_rows,
            rows_exact=True,
        )


class AvroClassifier:
    name = "avro"

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        if not sample.data.startswith(AVRO_MAGIC):
            return None
        from lakeport.catalog.external_schemas import columns_from_avro_schema, read_avro_header_schema

        schema = read_avro_header_schema(sample.data)
        return FileShape("avro", _hive_columns(columns_from_avro_schema(schema)), TableFormat("avro"))


class JsonClassifier:
    name = "json"

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        text = sample.text().lstrip("\ufeff \t\r\n")
        if not text.startswith(("{", "[")):
            return None
        from lakeport.crawler.json_format import sniff_json

        try:
            shape = sniff_json(text, truncated=sample.truncated)
        except InvalidInput:
            return None  # not JSON after all (a CSV line may start with '['): let the others try
        if not shape.columns:
            return None
        certainty = 1.0 if not shape.warnings else max(0.5, 1.0 - len(shape.warnings) / max(shape.records_sampled, 1))
        return FileShape(
            "json",
            _hive_columns(shape.columns),
            TableFormat("json", compression=sample.compression, json_layout=shape.layout),
            rows=sample.estimated_rows(shape.records_sampled),
            certainty=certainty,
            notes=tuple(shape.warnings),
        )


class CsvClassifier:
    name = "csv"

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        from lakeport.crawler.csv_format import sniff_csv

        if sample.data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # before NULs call it binary
            raise InvalidInput(
                "UTF-16 text (it starts with a UTF-16 byte order mark): text files are read as UTF-8; "
                "convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"
            )
        text = sample.text()
        shape = sniff_csv(text, truncated=sample.truncated, delimiter=options.csv_delimiter, header=options.csv_header)
        certainty = 1.0 if not shape.warnings else 0.9
        # Rows: the sniffer stops at 1,000 records; past that, count lines in the sample and scale to the file.
        if not sample.truncated and shape.rows_sampled < 1000:
            records = shape.rows_sampled  # the whole file was parsed: the exact count of records
        else:
            lines = text.count("\n") + (0 if text.endswith("\n") or sample.truncated else 1)
            records = max(lines - (1 if shape.has_header else 0), 0)
        # Quotes only matter (OpenCSVSerde rather than LazySimpleSerDe) when the data uses them.
        quote = shape.quote if shape.multiline or shape.quote in text else None
        return FileShape(
            "csv",
            _hive_columns(shape.columns),
            TableFormat(
                "csv",
                delimiter=shape.delimiter,
                quote=quote,
                escape=shape.escape,
                header=shape.has_header,
                compression=sample.compression,
                null_markers=("", "\\N"),
                timestamp_formats=dict(shape.timestamp_formats),
                multiline=shape.multiline,
            ),
            rows=sample.estimated_rows(records),
            certainty=certainty,
            notes=tuple(shape.warnings),
        )


BUILTIN_CLASSIFIERS: tuple[Classifier, ...] = (
    ParquetClassifier(),
    AvroClassifier(),
    JsonClassifier(),
    CsvClassifier(),
)
"""The built-in classifiers in the order they are tried (binary formats by magic bytes first)."""

_CUSTOM: dict[str, Classifier] = {}


def register_classifier(classifier: Classifier) -> None:
    """Make a custom classifier available to crawlers by its name (crawlers list the ones they use)."""
    _CUSTOM[classifier.name] = classifier


def custom_classifier(name: str) -> Classifier:
    from lakeport.crawler.plugins import load_plugins

    load_plugins()
    try:
        return _CUSTOM[name]
    except KeyError:
        known = ", ".join(sorted(_CUSTOM)) or "none registered"
        raise InvalidInput(f"unknown classifier {name!r}", hint=f"known custom classifiers: {known}") from None


@dataclass
class Verdict:
    shape: FileShape | None
    reason: str = ""
    tried: list[str] = field(default_factory=list)


def classify(sample: Sample, options: ClassifierOptions, custom: Sequence[Classifier] = ()) -> Verdict:
    """Run the classifiers in order (custom first); InvalidInput from one means the file is broken."""
    if sample.info.size == 0 or not sample.data:
        return Verdict(None, "empty file")
    best: FileShape | None = None
    tried: list[str] = []
    for classifier in (*custom, *BUILTIN_CLASSIFIERS):
        tried.append(classifier.name)
        try:
            shape = classifier.classify(sample, options)
        except InvalidInput as exc:
            if best is not None:  # an earlier classifier recognized the file, with doubts: its answer stands
                break
            return Verdict(None, exc.message.removeprefix(f"{sample.uri}: "), tried)
        if shape is None:
            continue
        if shape.certainty >= 1.0:
            return Verdict(_with_encoding_note(sample, shape), tried=tried)
        if best is None or shape.certainty > best.certainty:
            best = shape
    if best is None:
        return Verdict(None, "UNKNOWN: no classifier recognized the format", tried)
    return Verdict(_with_encoding_note(sample, best), tried=tried)


def _with_encoding_note(sample: Sample, shape: FileShape) -> FileShape:
    """A text file (CSV, JSON) that is not all UTF-8 is still cataloged, as Glue does, with a warning naming the
    first line that is not: Athena and the jobs read text as UTF-8 and stop there."""
    if shape.classification not in ("csv", "json"):
        return shape
    try:
        sample.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if sample.truncated and exc.start >= len(sample.data) - 3:
            return shape  # a character cut by the end of the sample
        line = sample.data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (sample.data.rfind(b"\n", 0, exc.start) + 1) + 1
        note = (
            f"line {line}, column {column}: not UTF-8 text (byte 0x{sample.data[exc.start]:02X}); queries and jobs "
            "read text as UTF-8 and will fail on it: convert the file to UTF-8"
        )
        return replace(shape, notes=(*shape.notes, note))
    return shape


def dumps_shape(shape: FileShape | None) -> str:
    return json.dumps(None if shape is None else shape.to_json())
