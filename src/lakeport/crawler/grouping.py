"""From classified files to tables: which folders are tables, which are partitions, and the merged schemas.

The rule (Glue's, made deterministic; ``docs/crawler.md`` walks through examples):

1. Files are placed in the folder tree below the include path. Folders are visited from the include path down.
2. A folder with sub-folders and no files of its own becomes ONE table whose sub-folders are partitions when
   (a) every file below it sits at the same depth, (b) all of them have the same format (classification and
   compression, and for CSV the same delimiter and header), (c) there are at most 5 distinct file schemas,
   and (d) the schemas are similar: every file's columns cover more than 70 % of the combined columns.
   Otherwise each sub-folder is decided on its own, and files lying next to sub-folders become one table each.
   As Glue documents, the include path itself is the first candidate: ``staging/sales/year=…`` crawled from
   ``staging/`` is table ``staging`` partitioned by ``partition_0`` (``sales``) and ``year``; to get table
   ``sales``, crawl ``staging/sales/`` (each table's root folder as its own include path).
3. A folder with only files becomes one table when its files pass (b)-(d); otherwise every
   file becomes its own table, named after the file (``albums.csv`` → ``albums_csv``) with the file as its
   location, as Glue does.
4. A table is named after its folder (the include path's last folder, or the bucket, for the top), lower-cased
   with other characters than letters, digits and ``_`` turned into ``_``.
5. Partition keys come from the folder levels below the table: ``key=value`` folders give the key's name when
   every folder at that level uses the same key, other levels are ``partition_0``, ``partition_1`` … . Key
   types come from all the values of the level (``bigint``, ``date`` or ``string``); with the crawler option
   ``partition_types = "string"`` every key is ``string``, as Glue's crawler records them.
6. Table level (``table_level``, the bucket is level 1) fixes where tables are instead: every folder at that
   level is a table, whatever the schemas. "Combine compatible schemas" makes the include path one table
   when all files have the same format.
Columns merge by name in first-seen order (files in key order); a column whose types differ across files
takes the common supertype (``bigint`` + ``double`` → ``double``; incompatible → ``string``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lakeport.catalog.model import EXTERNAL_TABLE, TableFormat
from lakeport.catalog.names import identifier
from lakeport.catalog.supertypes import common_supertype
from lakeport.catalog.types import parse_type
from lakeport.crawler.classifiers import FileShape
from lakeport.crawler.partitions import infer_partition_type, parse_segment, partition_key_names
from lakeport.crawler.targets import Target

SIMILARITY_THRESHOLD = 0.7
MAX_SCHEMAS = 5


@dataclass(frozen=True)
class CrawledFile:
    bucket: str
    key: str
    size: int
    etag: str
    shape: FileShape


@dataclass
class PartitionPlan:
    values: tuple[str | None, ...]
    location: str
    files: int = 0
    size: int = 0
    rows: int | None = 0  # exact row count, None when a file's count is only estimated


@dataclass
class TablePlan:
    name: str
    location: str
    format: TableFormat
    columns: list[tuple[str, str]]
    partition_keys: list[tuple[str, str]] = field(default_factory=list)
    partitions: list[PartitionPlan] = field(default_factory=list)
    table_type: str = EXTERNAL_TABLE
    files: int = 0
    size: int = 0
    rows: int = 0
    parameters: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def merge_columns(schemas: Iterable[Sequence[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Union of columns by (lower-case) name in first-seen order; differing types take their supertype."""
    merged: dict[str, str] = {}
    for columns in schemas:
        for name, kind in columns:
            if name not in merged:
                merged[name] = kind
            elif merged[name] != kind:
                merged[name] = str(common_supertype(parse_type(merged[name]), parse_type(kind)))
    return list(merged.items())


def merge_formats(formats: Sequence[TableFormat]) -> TableFormat:
    """One table's format from its files': the first file's, quoted if any file quotes, all timestamp formats."""
    first = formats[0]
    if first.classification != "csv" or len(formats) == 1:
        return first
    quote = next((f.quote for f in formats if f.quote), None)
    stamps: dict[str, str] = {}
    for f in formats:
        for column, pattern in f.timestamp_formats.items():
            stamps.setdefault(column, pattern)
    return dataclasses.replace(
        first, quote=quote, multiline=any(f.multiline for f in formats), timestamp_formats=stamps
    )


def format_key(shape: FileShape) -> tuple[object, ...]:
    """Files can share a table only when they are read the same way."""
    fmt = shape.format
    if shape.classification == "csv":
        return ("csv", fmt.compression, fmt.delimiter, fmt.header)
    if shape.classification == "json":
        return ("json", fmt.compression, fmt.json_layout)
    return (shape.classification, fmt.compression)


def similar(files: Sequence[CrawledFile]) -> bool:
    """Rules 2(b)-(d): one format, at most 5 distinct schemas, every file covering > 70 % of all columns."""
    if not files:
        return False
    if len({format_key(f.shape) for f in files}) != 1:
        return False
    if len({f.shape.signature() for f in files}) > MAX_SCHEMAS:
        return False
    union = {name for f in files for name, _ in f.shape.columns}
    if not union:
        return False
    for columns in {f.shape.signature() for f in files}:
        if len({name for name, _ in columns}) / len(union) <= SIMILARITY_THRESHOLD:
            return False
    return True


@dataclass
class _Node:
    parts: tuple[str, ...]
    files: list[CrawledFile] = field(default_factory=list)
    children: dict[str, _Node] = field(default_factory=dict)

    def all_files(self) -> list[CrawledFile]:
        out = list(self.files)
        for child in self.children.values():
            out.extend(child.all_files())
        return out


class Planner:
    """Turns the classified files of one include path into table plans (see the module docstring)."""

    def __init__(
        self,
        target: Target,
        *,
        table_level: int | None = None,
        combine: bool = False,
        infer_partition_types: bool = True,
    ) -> None:
        self.target = target
        self.table_level = table_level
        self.combine = combine
        self.infer_partition_types = infer_partition_types

    def _folder_parts(self, f: CrawledFile) -> tuple[str, ...]:
        return tuple(self.target.relative(f.key).split("/")[:-1])

    def _location(self, parts: Sequence[str]) -> str:
        return self.target.uri + "".join(f"{p}/" for p in parts)

    def _root_name(self) -> str:
        pieces = [p for p in self.target.prefix.split("/") if p]
        return identifier(pieces[-1] if pieces else self.target.bucket, "table")

    def plan(self, files: Sequence[CrawledFile]) -> list[TablePlan]:
        ordered = sorted(files, key=lambda f: f.key)
        if not ordered:
            return []
        if self.table_level is not None:
            return self._by_level(ordered)
        if self.combine and len({format_key(f.shape) for f in ordered}) == 1:
            return [self._table((), ordered)]
        root = _Node(())
        for f in ordered:
            node = root
            for part in self._folder_parts(f):
                node = node.children.setdefault(part, _Node((*node.parts, part)))
            node.files.append(f)
        return self._decide(root)

    def _by_level(self, files: Sequence[CrawledFile]) -> list[TablePlan]:
        assert self.table_level is not None
        prefix_depth = len([p for p in self.target.prefix.split("/") if p])
        depth = max(self.table_level - 1 - prefix_depth, 0)  # folders below the include path
        roots: dict[tuple[str, ...], list[CrawledFile]] = {}
        for f in files:
            parts = self._folder_parts(f)
            roots.setdefault(parts[:depth], []).append(f)
        return [self._table(parts, group) for parts, group in sorted(roots.items())]

    def _decide(self, node: _Node) -> list[TablePlan]:
        if node.children:
            subtree = node.all_files()
            depths = {len(self._folder_parts(f)) - len(node.parts) for f in subtree}
            if not node.files and len(depths) == 1 and similar(subtree):
                return [self._table(node.parts, subtree)]
            plans: list[TablePlan] = []
            for _, child in sorted(node.children.items()):
                plans.extend(self._decide(child))
            plans.extend(self._file_table(f) for f in node.files)
            return plans
        if similar(node.files):
            return [self._table(node.parts, node.files)]
        return [self._file_table(f) for f in node.files]

    def _file_table(self, f: CrawledFile) -> TablePlan:
        plan = self._table(self._folder_parts(f), [f], partition_depth=0)
        plan.name = identifier(f.key.rsplit("/", 1)[-1], "file")
        plan.location = f"s3://{f.bucket}/{f.key}"
        return plan

    def _table(
        self, parts: tuple[str, ...], files: Sequence[CrawledFile], partition_depth: int | None = None
    ) -> TablePlan:
        name = identifier(parts[-1], "table") if parts else self._root_name()
        location = self._location(parts)
        below = [self._folder_parts(f)[len(parts) :] for f in files]
        depth = min(len(b) for b in below) if partition_depth is None else partition_depth
        columns = merge_columns(f.shape.columns for f in files)
        plan = TablePlan(
            name=name, location=location, format=merge_formats([f.shape.format for f in files]), columns=columns
        )
        keys, key_types = self._partition_keys([b[:depth] for b in below], {c for c, _ in columns}, plan)
        plan.partition_keys = list(zip(keys, key_types, strict=True))
        partitions: dict[tuple[str | None, ...], PartitionPlan] = {}
        for f, folders in zip(files, below, strict=True):
            segments = folders[:depth]
            values = tuple(parse_segment(s)[1] for s in segments)
            part = partitions.get(values)
            if part is None:
                part = partitions[values] = PartitionPlan(values, location + "".join(f"{s}/" for s in segments))
            part.files += 1
            part.size += f.size
            if part.rows is not None:
                part.rows = part.rows + f.shape.rows if f.shape.rows_exact and f.shape.rows is not None else None
        plan.partitions = [partitions[v] for v in sorted(partitions, key=lambda v: tuple(x or "" for x in v))]
        plan.files = len(files)
        plan.size = sum(f.size for f in files)
        plan.rows = sum(f.shape.rows or 0 for f in files)
        return plan

    def _partition_keys(
        self, levels: Sequence[Sequence[str]], column_names: set[str], plan: TablePlan
    ) -> tuple[list[str], list[str]]:
        depth = len(levels[0]) if levels else 0
        if depth == 0:
            return [], []
        per_level = [[parse_segment(folders[i]) for folders in levels] for i in range(depth)]
        names = partition_key_names([[key for key, _ in level] for level in per_level])
        if self.infer_partition_types:
            types = [infer_partition_type(value for _, value in level) for level in per_level]
        else:
            types = ["string"] * depth  # what Glue's crawler records
        for i, name in enumerate(names):
            if name in column_names:
                names[i] = f"partition_{i}"
                plan.notes.append(f"partition key {name} is also a column in the files; named it partition_{i}")
        return names, types
