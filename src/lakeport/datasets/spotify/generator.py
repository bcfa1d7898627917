"""Generate the Spotify 2023 files at any scale, deterministically, in constant memory.

Albums are produced in chunks (a temporary DuckDB table per chunk); each chunk is written as CSV parts
that are appended to the output files, so memory does not grow with the scale. Every value is derived
from a hash of the seed and the row number (see :mod:`.sql`), so a seed always gives the same bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakeport.datasets.spotify import schema, sql
from lakeport.errors import InvalidInput, missing_dependency

ALBUMS_PER_CHUNK = 40_000
KEY_ALBUMS_PER_CHUNK = 200_000
Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``."""


@dataclass(frozen=True)
class GeneratedFile:
    name: str
    path: Path
    rows: int
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.name, "rows": self.rows, "bytes": self.size}


@dataclass(frozen=True)
class GenerationResult:
    scale: float
    seed: int
    profile: str
    files: list[GeneratedFile]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "profile": self.profile,
            "seconds": round(self.seconds, 3),
            "files": [f.to_dict() for f in self.files],
        }


def _connect(tmp: Path) -> Any:
    try:
        import duckdb
    except ModuleNotFoundError:
        raise missing_dependency("duckdb", "duckdb", "Generating the Spotify sample") from None
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET memory_limit = '1GB'")
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"SET temp_directory = '{tmp / 'spill'}'")
    return con


class SpotifyGenerator:
    def __init__(self, *, scale: float = 1.0, seed: int = 0, profile: str = "kaggle") -> None:
        if not 0.001 <= scale <= 100:
            raise InvalidInput(f"scale {scale} is outside 0.001..100", hint="scale 1 is the size of the real dataset")
        if profile not in schema.PROFILES:
            raise InvalidInput(f"unknown profile {profile!r}", hint=f"choose one of {', '.join(schema.PROFILES)}")
        if seed < 0:
            raise InvalidInput(f"seed {seed} is negative")
        self.scale = scale
        self.seed = seed
        self.profile = profile
        self.plan = sql.make_plan(scale, seed, schema.SCALE1_ARTISTS, schema.SCALE1_ALBUMS)

    def generate(self, out_dir: Path, *, progress: Progress | None = None) -> GenerationResult:
        """Write the profile's files into ``out_dir`` (each appears whole, by rename, when complete)."""
        started = time.perf_counter()
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".lakeport-gen-", dir=out_dir) as tmp_name:
            tmp = Path(tmp_name)
            con = _connect(tmp)
            try:
                for statement in sql.macros(self.plan):
                    con.execute(statement)
                files = self._write_all(con, tmp, progress)
            finally:
                con.close()
            final = []
            for f in files:
                target = out_dir / f.name
                os.replace(f.path, target)
                final.append(GeneratedFile(f.name, target, f.rows, f.size))
        return GenerationResult(self.scale, self.seed, self.profile, final, time.perf_counter() - started)

    # ---- writing

    def _write_all(self, con: Any, tmp: Path, progress: Progress | None) -> list[GeneratedFile]:
        """Compute chunk k+1 while a second cursor writes chunk k: CSV writing is mostly serial, so the two
        overlap on a 2-core machine. Each file still receives its chunks strictly in order."""
        kaggle = self.profile == "kaggle"
        outputs = self._outputs(kaggle)
        writers = {name: _Appender(tmp / name, header) for name, (header, _) in outputs.items()}
        con.execute(f"CREATE TABLE artists AS {sql.artists_query(self.plan)}")
        artist_file = schema.ARTISTS if kaggle else schema.PRE_ARTISTS
        writers[artist_file.name].append_query(con, self._artist_select(kaggle), tmp)
        total = self.plan.n_albums
        if kaggle:
            self._find_merged_losers(con, progress)
        writer_con = con.cursor()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakeport-gen-writer") as pool:
            pending: Future[None] | None = None
            for index, first in enumerate(range(0, total, ALBUMS_PER_CHUNK)):
                last = min(total, first + ALBUMS_PER_CHUNK)
                table = f"chunk_{index}"
                con.execute(f"CREATE TABLE {table} AS {sql.chunk_query(self.plan, first, last)}")
                if pending is not None:
                    pending.result()  # at most two chunks alive; a writer error surfaces here
                pending = pool.submit(self._write_chunk, writer_con, table, index == 0, outputs, writers, tmp)
                if progress:
                    progress("albums", last, total)
            if pending is not None:
                pending.result()
        writer_con.close()
        return [w.close() for w in writers.values()]

    def _write_chunk(
        self,
        con: Any,
        table: str,
        first: bool,
        outputs: dict[str, tuple[str, str | None]],
        writers: dict[str, _Appender],
        tmp: Path,
    ) -> None:
        for name, (_, select) in outputs.items():
            if select:
                writers[name].append_query(con, select.format(chunk=table), tmp)
        con.execute(f"DROP TABLE {table}")

    def _outputs(self, kaggle: bool) -> dict[str, tuple[str, str | None]]:
        """File name → (header, per-chunk SELECT or None when written otherwise)."""
        if kaggle:
            albums_cols = ", ".join(schema.ALBUMS.columns)
            feature_cols = ", ".join(
                f"num({c}) AS {c}" if c not in ("key", "mode", "time_signature", "duration_ms") else c
                for c in schema.FEATURES.columns[: schema.FEATURES.columns.index("type")]
            )
            return {
                schema.ALBUMS.name: (
                    schema.ALBUMS.header,
                    f"SELECT {albums_cols} FROM (SELECT *, unnest(CASE WHEN duplicated THEN [0, 1] ELSE [0] END) AS copy "
                    "FROM {chunk})",  # unnest keeps the chunk's order (a join would not)
                ),
                schema.ARTISTS.name: (schema.ARTISTS.header, None),
                schema.TRACKS.name: (
                    schema.TRACKS.header,
                    "SELECT track_id AS id, track_popularity, explicit FROM {chunk}",
                ),
                schema.FEATURES.name: (
                    schema.FEATURES.header,
                    f"SELECT {feature_cols}, 'audio_features' AS type, track_id AS id, "
                    "'spotify:track:' || track_id AS uri, 'https://api.spotify.com/v1/tracks/' || track_id AS track_href, "
                    "'https://api.spotify.com/v1/audio-analysis/' || track_id AS analysis_url, duration_ms, "
                    "time_signature FROM {chunk} WHERE NOT no_features",
                ),
                schema.MERGED.name: (schema.MERGED.header, self._merged_rows()),
            }
        pre_cols = ", ".join(schema.PRE_ALBUMS.columns)
        not_empty = " AND ".join(f"coalesce({c}::VARCHAR, '') <> ''" for c in schema.PRE_ALBUMS.columns)
        return {
            schema.PRE_ALBUMS.name: (
                schema.PRE_ALBUMS.header,
                f"SELECT {pre_cols} FROM {{chunk}} WHERE {not_empty}",
            ),
            schema.PRE_ARTISTS.name: (schema.PRE_ARTISTS.header, None),
            schema.PRE_TRACKS.name: (
                schema.PRE_TRACKS.header,
                "SELECT track_id, track_popularity, explicit FROM {chunk}",
            ),
        }

    @staticmethod
    def _artist_select(kaggle: bool) -> str:
        if kaggle:
            return f"SELECT {', '.join(schema.ARTISTS.columns)} FROM artists"
        return "SELECT id, name, artist_popularity, followers, genre_0 AS genre FROM artists"

    @staticmethod
    def _merged_rows() -> str:
        """Candidate rows of the author's reporting table for the current chunk: albums ⟕ features ⟕ tracks ⟕
        artists, albums and singles only (features are NULL where the features file has no row)."""
        fe = (
            "acousticness",
            "danceability",
            "energy",
            "instrumentalness",
            "liveness",
            "loudness",
            "speechiness",
            "tempo",
            "valence",
        )
        cols = []
        for c in schema.MERGED.columns:
            if c == "release_year":
                cols.append("substr(c.release_date, 1, 4) AS release_year")
            elif c == "release_month":
                cols.append("strftime(strptime(c.release_date, '%Y-%m-%d %H:%M:%S UTC'), '%B') AS release_month")
            elif c in fe:
                cols.append(f"CASE WHEN c.no_features THEN NULL ELSE num(c.{c}) END AS {c}")
            elif c in ("key", "mode", "time_signature"):
                cols.append(f"CASE WHEN c.no_features THEN NULL ELSE c.{c} END AS {c}")
            elif c in ("analysis_url", "track_href", "uri", "type"):
                value = {
                    "analysis_url": "'https://api.spotify.com/v1/audio-analysis/' || c.track_id",
                    "track_href": "'https://api.spotify.com/v1/tracks/' || c.track_id",
                    "uri": "'spotify:track:' || c.track_id",
                    "type": "'audio_features'",
                }[c]
                cols.append(f"CASE WHEN c.no_features THEN NULL ELSE {value} END AS {c}")
            elif c in ("artist_genres", "artist_popularity", "followers", "name") or c.startswith("genre_"):
                cols.append(f"ar.{c} AS {c}")
            else:
                cols.append(f"c.{c} AS {c}")
        return (
            f"SELECT {', '.join(cols)} FROM {{chunk}} c LEFT JOIN artists ar ON c.artist_id = ar.id "
            "WHERE c.album_type IN ('album', 'single') AND c.tid NOT IN (SELECT tid FROM merged_losers) ORDER BY c.tid"
        )

    def _find_merged_losers(self, con: Any, progress: Progress | None) -> None:
        """The merged table keeps one row per (album_name, track_name, explicit), the lowest track number.

        A first pass computes only those key columns for every track (DuckDB prunes the rest of the chunk
        query), so the rows to drop are known before the wide rows are written chunk by chunk."""
        total = self.plan.n_albums
        for first in range(0, total, KEY_ALBUMS_PER_CHUNK):
            last = min(total, first + KEY_ALBUMS_PER_CHUNK)
            verb = "CREATE TEMP TABLE merged_keys AS" if first == 0 else "INSERT INTO merged_keys"
            con.execute(
                f"{verb} SELECT tid, album_name, track_name, explicit, track_number "
                f"FROM ({sql.chunk_query(self.plan, first, last)}) WHERE album_type IN ('album', 'single')"
            )
            if progress:
                progress("dedupe keys", last, total)
        con.execute(
            """CREATE TABLE merged_losers AS
               SELECT tid FROM (
                   SELECT tid, row_number() OVER (PARTITION BY album_name, track_name, explicit
                                                  ORDER BY track_number, tid) AS keep_rank
                   FROM merged_keys)
               WHERE keep_rank > 1"""
        )
        con.execute("DROP TABLE merged_keys")


def _copy_to_part(con: Any, select: str, part: Path) -> int:
    """Write ``select``'s rows as headerless CSV to ``part``; return the row count."""
    target = str(part).replace("'", "''")
    count = con.execute(
        f"COPY ({select}) TO '{target}' (FORMAT csv, HEADER false, QUOTE '\"', ESCAPE '\"', NULL '')"
    ).fetchone()
    return int(count[0]) if count else 0


class _Appender:
    """One output CSV: a header, then the CSV parts DuckDB writes for each chunk, appended in order."""

    def __init__(self, path: Path, header: str) -> None:
        self.path = path
        self.rows = 0
        self._out = path.open("wb")
        self._out.write(header.encode() + b"\n")

    def append_query(self, con: Any, select: str, tmp: Path) -> None:
        part = tmp / f"{self.path.name}.part"
        self.append_part(part, _copy_to_part(con, select, part))

    def append_part(self, part: Path, rows: int) -> None:
        """Append a headerless CSV part holding ``rows`` rows, then delete it."""
        self.rows += rows
        with part.open("rb") as handle:
            shutil.copyfileobj(handle, self._out, 1024 * 1024)
        part.unlink()

    def close(self) -> GeneratedFile:
        self._out.close()
        return GeneratedFile(self.path.name, self.path, self.rows, self.path.stat().st_size)
