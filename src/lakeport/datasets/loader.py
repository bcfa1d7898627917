"""Load any dataset into the lake: a folder of files, a zip, or one file, checked before anything is uploaded.

Every file is checked cheaply first (CSV/TSV: UTF-8 and a sound header and rows in the first MiB; JSON: one
document or JSON Lines; Parquet: magic bytes and a readable footer). Only when every file passes does the
batch upload, all or nothing (:func:`lakeport.datasets.staging.upload_batch`). A zip is unpacked member by
member into a temporary folder first (streamed, so memory stays constant), after its member names have been
checked for zip-slip. Hidden files (``.name``), OS junk (``__MACOSX/``, ``Thumbs.db``, ``desktop.ini``) and
marker files such as Spark's ``_SUCCESS`` are skipped and listed in the result's notes; any other file that
is not CSV, TSV, JSON or Parquet is refused, so that nothing is silently left behind.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from lakeport.datasets.staging import FileProgress, LandedFile, resolve_destination, upload_batch
from lakeport.errors import InvalidInput, NotFound
from lakeport.storage.keys import printable, validate_key

if TYPE_CHECKING:
    from lakeport.storage import Storage

SAMPLE_BYTES = 1 << 20
"""How much of each CSV/TSV/JSON file (after decompression) the checks read."""

_CHUNK = 1 << 20
_BOM = codecs.BOM_UTF8
_JUNK_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
_JUNK_DIRS = frozenset({"__MACOSX"})
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_MAX_LISTED = 5

Format = Literal["csv", "tsv", "json", "jsonl", "parquet"]
_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
ACCEPTED = ".csv, .tsv, .json, .jsonl, .ndjson, .parquet (and .csv.gz, .tsv.gz, .json.gz, .jsonl.gz, .ndjson.gz)"


@dataclass(frozen=True)
class LoadResult:
    """What a load landed: the destination URI, each uploaded object, and notes on what was skipped or renamed."""

    to: str
    files: list[LandedFile]
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "source": self.source,
            "files": [f.to_dict() for f in self.files],
            "notes": list(self.notes),
        }


# ---- sources: a folder, a zip, or one file


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: its relative POSIX path, how errors name it, and its (uncompressed) size."""

    name: str
    where: str
    size: int
    path: Path | None = None  # on disk; None for a zip member (see Source.local_paths)
    member: zipfile.ZipInfo | None = None

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def is_skipped(parts: Sequence[str], *, folder: bool = False) -> bool:
    """Hidden files and folders, the junk operating systems leave in folders and zips, and marker files.

    Marker files are file names starting with ``_`` that are not data files, such as Spark's and Hadoop's
    ``_SUCCESS`` or ``_committed_0``; Athena ignores them too. Folders starting with ``_`` are kept.
    """
    name = parts[-1]
    return (
        any(p.startswith(".") or p in _JUNK_DIRS for p in parts)
        or (not folder and name.lower() in _JUNK_NAMES)
        or (not folder and name.startswith("_") and _format_of(name) is None)
    )


def listed(names: Sequence[str], limit: int = _MAX_LISTED) -> str:
    """``a, b, c`` or ``a, b, c and 4 more``: names for a one-line message."""
    shown = ", ".join(printable(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class Source:
    """The files under a folder (recursively), inside a zip, or one file; use as a context manager.

    Zip members are unpacked (streamed) into a temporary folder only when :meth:`local_paths` asks for them;
    the folder goes when the source closes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[SourceFile] = []
        self.skipped: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.kind: Literal["folder", "zip", "file"] = "file"
        if not root.exists():
            raise NotFound(f"{root} does not exist", hint="give the path of a folder, a .zip or a file")
        try:
            if root.is_dir():
                self.kind = "folder"
                self._list_folder()
            elif root.suffix.lower() == ".zip" or (_format_of(root.name) is None and zipfile.is_zipfile(root)):
                self.kind = "zip"
                self._list_zip()
            else:
                self.files.append(SourceFile(root.name, str(root), _size(root), path=root))
        except BaseException:
            self.close()
            raise

    # ---- listing

    def _list_folder(self) -> None:
        def unreadable(exc: OSError) -> None:
            raise InvalidInput(f"cannot read {exc.filename}: {exc.strerror or exc}")

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            here = Path(dirpath)
            rel = here.relative_to(self.root).parts
            for d in list(dirnames):
                if is_skipped((*rel, d), folder=True):
                    self.skipped.append("/".join((*rel, d)) + "/")
                    dirnames.remove(d)
                elif (here / d).is_symlink():
                    self.skipped.append("/".join((*rel, d)) + "/ (a link to a folder)")
            dirnames.sort()
            for name in sorted(filenames):
                parts = (*rel, name)
                if is_skipped(parts):
                    self.skipped.append("/".join(parts))
                    continue
                path = here / name
                self.files.append(SourceFile("/".join(parts), str(path), _size(path), path=path))
        self.files.sort(key=lambda f: f.name)

    def _list_zip(self) -> None:
        where = str(self.root)
        try:
            self._zip = zipfile.ZipFile(self.root)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise InvalidInput(
                f"{where} is not a readable zip file ({exc})",
                hint="download it again: the file is probably incomplete or damaged",
            ) from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {where}: {exc.strerror or exc}") from None
        seen: dict[str, str] = {}
        for info in infos:
            raw = info.filename.replace("\\", "/")
            shown = printable(info.filename)
            if raw.startswith("/") or _DRIVE_RE.match(raw) or ".." in raw.split("/"):
                raise InvalidInput(
                    f"{where}: member {shown!r} would unpack outside its folder (absolute path or '..')",
                    hint="this zip is unsafe to unpack (zip-slip); get the files from a trusted source",
                )
            parts = [p for p in raw.split("/") if p not in ("", ".")]
            if info.is_dir() or not parts:
                continue
            if is_skipped(parts):
                self.skipped.append("/".join(parts))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InvalidInput(
                    f"{where}: member {shown!r} is a symbolic link",
                    hint="zips for lakeport must hold plain files only",
                )
            if info.flag_bits & 0x1:
                raise InvalidInput(
                    f"{where}: member {shown!r} is encrypted",
                    hint="unpack it with its password first, then load the folder",
                )
            name = "/".join(parts)
            if name in seen:
                raise InvalidInput(f"{where}: member {shown!r} appears twice", hint="rebuild the zip")
            seen[name] = name
            self.files.append(SourceFile(name, f"{where}:{name}", info.file_size, member=info))
        self.files.sort(key=lambda f: f.name)

    # ---- files on disk

    def local_paths(self, files: Sequence[SourceFile]) -> list[Path]:
        """A path on disk for each file: itself, or (zip members) a copy streamed into a temporary folder."""
        if self._zip is None:
            return [f.path for f in files if f.path is not None]
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lakeport-load-")
        tmp = Path(self._tmp.name)
        needed = sum(f.size for f in files)
        free = shutil.disk_usage(tmp).free
        if needed > free:
            raise InvalidInput(
                f"{self.root} unpacks to {needed:,} bytes, more than the {free:,} bytes free in {tmp.parent}",
                hint="free some disk space, or set TMPDIR to a folder on a larger disk",
            )
        paths: list[Path] = []
        for f in files:
            assert f.member is not None
            target = tmp.joinpath(*f.name.split("/"))
            if not target.resolve().is_relative_to(tmp.resolve()):  # belt and braces after the listing's check
                raise InvalidInput(f"{f.where} would unpack outside its folder", hint="this zip is unsafe to unpack")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with self._zip.open(f.member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise InvalidInput(
                    f"{f.where} is damaged and cannot be unpacked ({exc})",
                    hint="download the zip again: it is probably incomplete or damaged",
                ) from None
            except OSError as exc:
                raise InvalidInput(f"cannot unpack {f.where}: {exc.strerror or exc}") from None
            paths.append(target)
        return paths

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def skipped_note(self) -> list[str]:
        if not self.skipped:
            return []
        return [f"skipped {len(self.skipped)} hidden, OS or marker file(s): {listed(self.skipped)}"]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


def open_source(source: Path) -> Source:
    """The files of ``source`` (a folder, a zip or one file); close it (or use ``with``) when done."""
    return Source(Path(source).expanduser())


# ---- format checks


def _format_of(name: str) -> tuple[Format, bool] | None:
    """``(format, gzipped)`` from a file name, or None when lakeport does not load that kind of file."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    base = lower[:-3] if gz else lower
    fmt = _FORMATS.get(os.path.splitext(base)[1])
    if fmt is None or (gz and fmt == "parquet"):
        return None
    return fmt, gz


def _read_sample(path: Path, where: str, gz: bool) -> tuple[bytes, bool]:
    """Up to :data:`SAMPLE_BYTES` of the (decompressed) file, cut after its last full line; and whether cut."""
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                data = fh.read(SAMPLE_BYTES + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(SAMPLE_BYTES + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidInput(
            f"{where} is not a valid gzip file ({exc})", hint="compress it again with gzip, or load it uncompressed"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(data) <= SAMPLE_BYTES:
        return data, False
    data = data[:SAMPLE_BYTES]
    cut = data.rfind(b"\n")
    return (data[: cut + 1] if cut >= 0 else data), True


def _decode(data: bytes, where: str, *, final: bool) -> str:
    """UTF-8 text (a leading BOM dropped); an error names the line and column of the first bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput(f"{where} line 1, column 1: the file is UTF-16, not UTF-8", hint="save the file as UTF-8")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise InvalidInput(
            f"{where} line {line}, column {column}: not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="save the file as UTF-8; it is probably Latin-1 or Windows-1252",
        ) from None


def check_header_names(columns: Sequence[str], where: str, line: int) -> None:
    """Column names must be non-empty and unique; Glue and Athena ignore case, so ``Name`` and ``name`` clash."""
    seen: dict[str, int] = {}
    for i, name in enumerate(columns, 1):
        if not name.strip():
            raise InvalidInput(
                f"{where} line {line}, column {i}: the header has an empty column name",
                hint="give every column a name in the first row",
            )
        folded = name.strip().casefold()
        if folded in seen:
            raise InvalidInput(
                f"{where} line {line}, column {i}: column name {printable(name)!r} repeats column {seen[folded]}",
                hint="column names must be unique (Glue and Athena ignore case)",
            )
        seen[folded] = i


def check_delimited(path: Path, where: str, *, delimiter: str = ",", gz: bool = False) -> list[str]:
    """Check a CSV/TSV file's first MiB: UTF-8, a header of unique names, every row as wide as the header.

    Returns the header's column names.
    """
    data, cut = _read_sample(path, where, gz)
    if not data.strip():
        raise InvalidInput(f"{where} is empty: it has no header row", hint="the first row must name the columns")
    if cut and b"\n" not in data:
        raise InvalidInput(
            f"{where} line 1: the header row is longer than {SAMPLE_BYTES:,} bytes",
            hint="is this really a CSV file with one row per line?",
        )
    text = _decode(data, where, final=not cut)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    pending: tuple[int, list[str]] | None = None
    next_line = 1

    def check_row(line: int, row: list[str]) -> None:
        assert header is not None
        if len(row) == len(header):
            return
        if len(row) > len(header):
            column, problem = len(header) + 1, f"{len(row)} fields, but the header has {len(header)} columns"
        else:
            column = len(row) + 1
            problem = f"the row ends after {len(row)} field(s), but the header has {len(header)} columns"
        raise InvalidInput(
            f"{where} line {line}, column {column}: {problem}",
            hint='quote fields that hold the delimiter, a quote or a line break ("like, this")',
        )

    try:
        for row in reader:
            line, next_line = next_line, reader.line_num + 1
            if not row:
                continue  # a blank line
            if header is None:
                header = row
                check_header_names(header, where, line)
                continue
            if pending is not None:
                check_row(*pending)
            pending = (line, row)
    except csv.Error as exc:
        raise InvalidInput(f"{where} line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise InvalidInput(f"{where} is empty: it has no header row", hint="the first row must name the columns")
    if pending is not None and not cut:  # a cut sample's last row may be incomplete
        check_row(*pending)
    return header


def _json_kind(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "number or null")


def _check_json_lines(text: str, where: str, *, cut: bool) -> None:
    lines = text.split("\n")  # not splitlines(): U+2028 and friends are legal inside JSON strings
    if cut and not text.endswith("\n"):
        lines = lines[:-1]  # one long line cut by the sample
    for number, line in enumerate(lines, 1):
        body = line.strip()
        if not body:
            continue
        try:
            value = json.loads(body)
        except json.JSONDecodeError as exc:
            column = exc.colno + (len(line) - len(line.lstrip()))
            raise InvalidInput(
                f"{where} line {number}, column {column}: invalid JSON ({exc.msg})",
                hint="JSON Lines holds one complete JSON object per line",
            ) from None
        if not isinstance(value, dict):
            raise InvalidInput(
                f"{where} line {number}: a JSON {_json_kind(value)}, not an object",
                hint="JSON Lines holds one JSON object (a record) per line",
            )


def check_json(path: Path, where: str, *, lines: bool, gz: bool = False) -> None:
    """Check a JSON file's first MiB: one JSON array/object document, or JSON Lines (one object per line)."""
    data, cut = _read_sample(path, where, gz)
    text = _decode(data, where, final=not cut)
    if not text.strip():
        raise InvalidInput(f"{where} is empty", hint="a JSON file holds an array, an object or one object per line")
    if lines:
        _check_json_lines(text, where, cut=cut)
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        first = next((ln for ln in text.split("\n") if ln.strip()), "")
        if exc.msg == "Extra data" and exc.lineno > 1 and _is_record(first):
            _check_json_lines(text, where, cut=cut)  # JSON Lines in a .json file, as Spark and Glue write it
            return
        if cut and (exc.pos >= len(text) - 64 or exc.msg.startswith("Unterminated string")):
            return  # the document goes on past the sample
        raise InvalidInput(
            f"{where} line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})",
            hint="a JSON file holds one array or object, or one object per line (JSON Lines)",
        ) from None
    if not isinstance(value, dict | list):
        raise InvalidInput(
            f"{where} line 1: the document is a JSON {_json_kind(value)}, not an array or object",
            hint="a JSON file holds one array or object, or one object per line (JSON Lines)",
        )


def _is_record(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def check_parquet(path: Path, where: str) -> None:
    """PAR1 at both ends, a footer that fits in the file, and metadata DuckDB can read."""
    size = _size(path)
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(max(size - 8, 0))
        tail = fh.read(8)
    if size < 12 or head != b"PAR1":
        raise InvalidInput(
            f"{where} is not a Parquet file: it does not start with the magic bytes PAR1",
            hint="check the file, or give it the extension of its real format",
        )
    if tail[4:] == b"PARE":
        raise InvalidInput(f"{where} is an encrypted Parquet file", hint="lakeport loads unencrypted Parquet only")
    (footer,) = struct.unpack("<I", tail[:4])
    if tail[4:] != b"PAR1" or footer > size - 12:
        raise InvalidInput(
            f"{where} is a truncated Parquet file: its footer is missing or damaged",
            hint="copy or download the file again",
        )
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SELECT num_rows FROM parquet_file_metadata(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())[:200]
        raise InvalidInput(
            f"{where} is a damaged Parquet file: its metadata cannot be read ({first})",
            hint="copy or download the file again",
        ) from None
    finally:
        con.close()


def check_file(path: Path, where: str, name: str) -> None:
    """Check one file by the format its name says (see :data:`ACCEPTED`)."""
    found = _format_of(name)
    if found is None:
        raise InvalidInput(f"{where}: lakeport does not load this kind of file", hint=f"accepted: {ACCEPTED}")
    fmt, gz = found
    if fmt == "parquet":
        check_parquet(path, where)
    elif fmt in ("csv", "tsv"):
        check_delimited(path, where, delimiter="\t" if fmt == "tsv" else ",", gz=gz)
    else:
        check_json(path, where, lines=fmt == "jsonl", gz=gz)


# ---- loading


def _strip_common_folder(names: list[str]) -> tuple[list[str], str | None]:
    """A zip of a folder holds ``folder/...``: drop that one top folder, as if the folder itself were loaded."""
    firsts = {n.split("/", 1)[0] for n in names}
    if len(firsts) == 1 and all("/" in n for n in names):
        top = firsts.pop()
        return [n.split("/", 1)[1] for n in names], top
    return names, None


def load_folder(storage: Storage, source: Path, to: str, *, progress: FileProgress | None = None) -> LoadResult:
    """Check every file of a folder (recursively), a zip or one file, then upload them all (or none) under ``to``.

    Relative sub-paths are kept under the destination prefix. Nothing is uploaded unless every file passes.
    """
    dest = resolve_destination(to, storage.default_bucket)
    notes: list[str] = []
    with open_source(source) as src:
        if not src.files:
            what = "has only hidden, OS or marker files" if src.skipped else "is empty"
            raise InvalidInput(f"{src.root} {what}: there is nothing to load", hint=f"accepted files: {ACCEPTED}")
        unknown = [f.where for f in src.files if _format_of(f.name) is None]
        if unknown:
            raise InvalidInput(
                f"lakeport does not load {listed(unknown)}: not CSV, TSV, JSON or Parquet",
                hint=f"accepted: {ACCEPTED}; remove the other files or load a folder without them",
            )
        names = [f.name for f in src.files]
        if src.kind == "zip":
            names, top = _strip_common_folder(names)
            if top:
                notes.append(f"the zip holds one folder, {top}/: its contents land directly under {dest.uri}")
        for name in names:
            validate_key(dest.key(name), dest.bucket)
        paths = src.local_paths(src.files)
        for f, path in zip(src.files, paths, strict=True):
            check_file(path, f.where, f.name)
        landed = upload_batch(storage, list(zip(names, paths, strict=True)), dest, progress=progress)
        notes.extend(src.skipped_note())
    return LoadResult(dest.uri, landed, notes, source=str(source))


__all__ = [
    "ACCEPTED",
    "SAMPLE_BYTES",
    "LoadResult",
    "Source",
    "SourceFile",
    "check_delimited",
    "check_file",
    "check_header_names",
    "check_json",
    "check_parquet",
    "is_skipped",
    "listed",
    "load_folder",
    "open_source",
]
