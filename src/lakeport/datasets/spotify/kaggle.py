"""Load the real Kaggle "Spotify Dataset 2023" files into staging, checked against their known headers first.

``source`` is the zip Kaggle serves, or the folder it unpacks to; the files may sit in a subfolder. Files are
recognised by their exact names: the five Kaggle CSVs (albums is ``spotify-albums_data_2023.csv``, with a
hyphen; the variant ``spotify_albums_data_2023.csv`` some copies carry is accepted and lands under the
hyphen name) and the tutorials' "preprocessed" trio (``albums.csv``, ``artists.csv``, ``track.csv``).

Hidden files, OS junk (``.DS_Store``, ``__MACOSX/``, ``Thumbs.db``) and marker files (``_SUCCESS``) are
ignored; any other file is refused,
naming the files expected, so that a wrong download is never half-loaded. Each file's header must match
:mod:`lakeport.datasets.spotify.schema` exactly, column for column (a UTF-8 BOM and CRLF line endings are
fine); the rows in each file's first MiB must be UTF-8 and as wide as the header. The merged reporting file's
column order has not been verified against the real download, so it may come in any order as long as it has
exactly the expected columns. Everything is checked before anything is uploaded, and the upload is all or
nothing.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from lakeport.datasets.loader import LoadResult, SourceFile, check_delimited, listed, open_source
from lakeport.datasets.spotify import schema
from lakeport.datasets.spotify.schema import SpotifyFile
from lakeport.datasets.staging import FileProgress, resolve_destination, upload_batch
from lakeport.errors import InvalidInput
from lakeport.storage.keys import printable

if TYPE_CHECKING:
    from lakeport.storage import Storage

KNOWN: dict[str, SpotifyFile] = {f.name: f for f in (*schema.KAGGLE_FILES, *schema.PREPROCESSED_FILES)}
ALIASES: dict[str, SpotifyFile] = {"spotify_albums_data_2023.csv": schema.ALBUMS}
ANY_ORDER: frozenset[str] = frozenset({schema.MERGED.name})
"""Files whose column order is not verified against the real download: the same columns in any order pass."""
VERIFIED_ONLY: dict[str, tuple[str, ...]] = {schema.PRE_TRACKS.name: ("track_id", "track_popularity")}
"""Files of which only some columns are verified (the tutorials' track.csv): those must be there, others may."""

_MAX_HEADER = 64 * 1024
_ORDER = {f.name: i for i, f in enumerate(KNOWN.values())}


def expected_names() -> str:
    return ", ".join(KNOWN)


def _read_columns(path: Path, where: str) -> tuple[bytes, list[str]]:
    """The header line (BOM and line ending dropped) and its parsed column names."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(_MAX_HEADER)
    except OSError as exc:
        raise InvalidInput(f"cannot read {where}: {exc.strerror or exc}") from None
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    line = first.rstrip(b"\r\n")
    if not line.strip():
        raise InvalidInput(f"{where} line 1: no header row", hint="the file is empty or starts with a blank line")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where} line 1, column {exc.start + 1}: the header is not valid UTF-8",
            hint="use the files exactly as Kaggle serves them",
        ) from None
    return line, next(csv.reader([text]), [])


def check_header(path: Path, where: str, spec: SpotifyFile) -> str | None:
    """Raise unless the header is ``spec``'s, column for column; return a note when it passes with a caveat."""
    line, got = _read_columns(path, where)
    expected = list(spec.columns)
    if line == spec.header.encode() or got == expected:
        return None
    verified = VERIFIED_ONLY.get(spec.name)
    if verified and all(c in got for c in verified) and len(set(got)) == len(got):
        return f"{spec.name}: columns {', '.join(got)} differ from lakeport's reference beyond {', '.join(verified)}; landed as is"
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    repeated = [c for c, n in Counter(got).items() if n > 1]
    problems: list[str] = []
    if missing:
        problems.append(f"missing column(s) {listed(missing, 8)}")
    if extra:
        problems.append(f"unexpected column(s) {listed(extra, 8)}")
    if repeated and not problems:
        problems.append(f"repeated column(s) {listed(repeated, 8)}")
    if not problems:
        if spec.name in ANY_ORDER:
            return f"{spec.name}: columns are in a different order from lakeport's reference; landed as is"
        i = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        problems.append(
            f"columns out of order: column {i + 1} is {printable(got[i])!r} where {spec.name} has {expected[i]!r}"
        )
    hint = f"{spec.name} has {len(expected)} columns: {spec.header}"
    other = next((f.name for f in KNOWN.values() if list(f.columns) == got), None)
    if other:
        hint = f"this is the header of {other}: was the file renamed? " + hint
    raise InvalidInput(f"{where} line 1: header does not match {spec.name}: {'; '.join(problems)}", hint=hint)


def load_kaggle(storage: Storage, source: Path, to: str, *, progress: FileProgress | None = None) -> LoadResult:
    """Check the Kaggle files (names, headers, a sample of rows), then upload them all (or none) under ``to``."""
    dest = resolve_destination(to, storage.default_bucket)
    notes: list[str] = []
    with open_source(source) as src:
        unknown = [f.where for f in src.files if f.basename not in KNOWN and f.basename not in ALIASES]
        if unknown:
            raise InvalidInput(
                f"{listed(unknown)}: not a file of the Spotify Dataset 2023",
                hint=(
                    f"expected any of: {expected_names()} (hidden, OS and marker files are ignored); "
                    "load other files with `lakeport datasets load PATH --to staging/NAME/`"
                ),
            )
        chosen: dict[str, tuple[SpotifyFile, SourceFile]] = {}
        for f in src.files:
            spec = KNOWN.get(f.basename) or ALIASES[f.basename]
            if spec.name in chosen:
                raise InvalidInput(
                    f"{f.where} and {chosen[spec.name][1].where} are both {spec.name}",
                    hint="keep one of them",
                )
            chosen[spec.name] = (spec, f)
            if f.basename != spec.name:
                notes.append(f"{f.basename} landed as {spec.name}, the name Kaggle uses")
        if not chosen:
            what = "has only hidden, OS or marker files" if src.skipped else "is empty"
            raise InvalidInput(
                f"{src.root} {what}: no files of the Spotify Dataset 2023",
                hint=f"expected any of: {expected_names()}",
            )
        picked = sorted(chosen.values(), key=lambda pair: _ORDER[pair[0].name])
        paths = src.local_paths([f for _, f in picked])
        for (spec, f), path in zip(picked, paths, strict=True):
            note = check_header(path, f.where, spec)
            if note:
                notes.append(note)
            check_delimited(path, f.where)
        for profile, files in schema.PROFILES.items():
            present = [f.name for f in files if f.name in chosen]
            absent = [f.name for f in files if f.name not in chosen]
            if present and absent:
                notes.append(f"{profile} files not in the source: {', '.join(absent)}")
        landed = upload_batch(
            storage, [(spec.name, path) for (spec, _), path in zip(picked, paths, strict=True)], dest, progress=progress
        )
        notes.extend(src.skipped_note())
    return LoadResult(dest.uri, landed, notes, source=str(source))
