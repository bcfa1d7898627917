"""Ingest from the Spotify Web API into staging, in the exact shape of the Kaggle "Spotify Dataset 2023" files.

This follows the dataset author's extractor: album search by artist name (or a playlist's tracks) → ``/albums``
(20 ids a call) → ``/tracks`` (50) → ``/audio-features`` (100) → ``/artists`` (50), then the same post-processing:
``str.title()`` on track and album names, ``YYYY-MM-DD HH:MM:SS UTC`` release dates, ``artist_0..11`` and
``genre_0..6`` split out, Python-list strings for ``artists`` and ``artist_genres``, lower-case booleans and
``duration_sec`` without a trailing ``.0``.

Everything is fetched first and written to a temporary folder; only then does the batch land, all or nothing,
with :func:`~lakeport.datasets.staging.upload_batch`. A failure anywhere leaves staging as it was.

When ``/audio-features`` answers 403 (closed to new apps since 2024-11-27) the features file is still written,
with its header only, so that the four files are always there and joins on it keep working; a note says so.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.datasets.spotify.schema import (
    ALBUM_ARTIST_SLOTS,
    ALBUMS,
    ARTISTS,
    FEATURES,
    GENRE_SLOTS,
    TRACKS,
    SpotifyFile,
)
from lakeport.datasets.spotify.webapi import (
    FEATURE_FIELDS,
    Album,
    Artist,
    AudioFeatures,
    SpotifyClient,
    TrackInfo,
    TrackRef,
)
from lakeport.datasets.staging import LandedFile, resolve_destination, upload_batch
from lakeport.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from lakeport.settings import SpotifySettings
    from lakeport.storage import Storage

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``: stages search/playlist, albums, tracks, audio-features, artists, upload."""

_PLAYLIST_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


@dataclass(frozen=True)
class IngestResult:
    to: str
    source: dict[str, Any]
    files: list[LandedFile]
    rows: dict[str, int]  # CSV file name → data rows
    counts: dict[str, int]
    api: dict[str, Any]
    notes: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "source": self.source,
            "files": [f.to_dict() | ({"rows": self.rows[f.name]} if f.name in self.rows else {}) for f in self.files],
            "counts": self.counts,
            "api": self.api,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


# ---- inputs


def split_artists(text: str) -> list[str]:
    """``"Drake, Adele,,drake"`` → ``["Drake", "Adele", "drake"]``: trimmed, empty and exact repeats dropped."""
    return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def parse_playlist_id(text: str) -> str:
    """A playlist id from an id, a ``spotify:playlist:ID`` URI or an ``open.spotify.com/playlist/ID`` link."""
    value = text.strip()
    if value.startswith("spotify:"):
        value = value.rsplit(":", 1)[-1]
    elif "/playlist/" in value:
        value = value.split("/playlist/", 1)[1].split("?", 1)[0].split("/", 1)[0]
    if not _PLAYLIST_ID.match(value):
        raise InvalidInput(
            f"{text!r} is not a Spotify playlist id",
            hint="give the id (e.g. 37i9dQZF1DXcBWIGoYBM5M), spotify:playlist:ID or an open.spotify.com/playlist link",
        )
    return value


def resolve_credentials(settings: SpotifySettings, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The client id and secret: the settings, else SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET."""
    env = os.environ if environ is None else environ
    return (
        settings.client_id or env.get("SPOTIFY_CLIENT_ID", ""),
        settings.client_secret or env.get("SPOTIFY_CLIENT_SECRET", ""),
    )


# ---- value formats of the Kaggle files


def release_timestamp(value: str) -> str:
    """``2015-06-09`` / ``2015-06`` / ``2015`` → ``2015-06-09 00:00:00 UTC`` (first of the month / Jan 1); "" if invalid."""
    text = value.strip()
    for fmt, length in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        if len(text) == length:
            try:
                return datetime.strptime(text, fmt).strftime("%Y-%m-%d 00:00:00 UTC")
            except ValueError:
                return ""
    return ""


def duration_sec(duration_ms: int) -> str:
    """``555521`` → ``555.521``, ``216000`` → ``216``."""
    seconds, rest = divmod(duration_ms, 1000)
    return str(seconds) if rest == 0 else repr(duration_ms / 1000)


def boolean(value: bool) -> str:
    return "true" if value else "false"


def cell(value: Any) -> str:
    """A JSON scalar as the Kaggle files print it: "" for null, true/false, numbers as Python prints them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return boolean(value)
    return str(value)


def _slots(values: Sequence[str], n: int) -> list[str]:
    return [*values[:n], *([""] * (n - min(len(values), n)))]


def album_row(album: Album, track: TrackRef) -> list[str]:
    names = list(track.artists)
    row = [
        track.name.title(),
        track.id,
        str(track.track_number),
        str(track.duration_ms),
        album.album_type,
        repr(names),
        str(album.total_tracks),
        album.name.title(),
        release_timestamp(album.release_date),
        album.label,
        str(album.popularity),
        album.id,
        (album.artists[0].id or "") if album.artists else "",
        *_slots(names, ALBUM_ARTIST_SLOTS),
        duration_sec(track.duration_ms),
    ]
    assert len(row) == len(ALBUMS.columns)
    return row


def artist_row(artist: Artist) -> list[str]:
    genres = list(artist.genres)
    return [
        artist.id,
        artist.name,
        str(artist.popularity),
        repr(genres),
        cell(artist.followers),
        *_slots(genres, GENRE_SLOTS),
    ]


def track_row(info: TrackInfo) -> list[str]:
    return [info.id, str(info.popularity), boolean(info.explicit)]


def features_row(features: AudioFeatures) -> list[str]:
    return [cell(features.values.get(name)) for name in FEATURE_FIELDS]


# ---- the ingest


@dataclass
class _Fetched:
    rows: list[tuple[Album, TrackRef]]
    infos: dict[str, TrackInfo]
    notes: list[str]


def ingest_spotify(
    storage: Storage,
    settings: SpotifySettings,
    *,
    artists: list[str] | None = None,
    playlist: str | None = None,
    to: str = "staging/spotify/",
    raw: bool = False,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> IngestResult:
    """Fetch from the Spotify Web API, build the four Kaggle CSVs (plus raw JSON with ``raw``), land them under ``to``."""
    started = time.perf_counter()
    if (artists is None) == (playlist is None):
        raise InvalidInput("give either artist names or a playlist id, not both and not neither")
    names = [n.strip() for n in artists or [] if n.strip()]
    if artists is not None and not names:
        raise InvalidInput("no artist names given", hint='give names separated by commas: --artists "Drake,Adele"')
    playlist_id = parse_playlist_id(playlist) if playlist is not None else None
    dest = resolve_destination(to, storage.default_bucket)
    client_id, client_secret = resolve_credentials(settings, environ)
    report: Progress = progress or (lambda _stage, _done, _total: None)

    with SpotifyClient(
        client_id,
        client_secret,
        api_url=settings.api_url,
        token_url=settings.token_url,
        market=settings.market,
        sleep=sleep,
        keep_raw=raw,
    ) as client:
        if playlist_id is not None:
            fetched = _from_playlist(client, playlist_id, report)
            source: dict[str, Any] = {"playlist": playlist_id}
        else:
            fetched = _from_artists(client, names, report)
            source = {"artists": names}
        rows = fetched.rows
        if not rows:
            what = f"playlist {playlist_id}" if playlist_id else f"artists {', '.join(names)}"
            raise NotFound(f"the Spotify Web API returned no tracks for {what}", hint="nothing was written")
        track_ids = [track.id for _, track in rows]
        features = _fetch_features(client, track_ids, report)
        artist_ids = list(dict.fromkeys(a.artists[0].id for a, _ in rows if a.artists and a.artists[0].id))
        found_artists = _collect("artists", client.artists(artist_ids), len(artist_ids), report)
        notes = fetched.notes
        if len(found_artists) < len(artist_ids):
            notes.append(f"{len(artist_ids) - len(found_artists)} artist ids returned null from /artists")
        if features is None:
            notes.append(f"{FEATURES.name} written with its header only")
        elif len(features) < len(track_ids):
            notes.append(f"{len(track_ids) - len(features)} tracks have no audio features (null) and no features row")
        notes = client.notes + notes
        api = {
            "requests": client.requests,
            "retries": client.retries,
            "tokens": client.tokens,
            "rate_limit_waited_seconds": client.rate_limit_waited,
        }
        raw_bodies = dict(client.raw)

    tables: list[tuple[SpotifyFile, list[list[str]]]] = [
        (ALBUMS, [album_row(album, track) for album, track in rows]),
        (ARTISTS, [artist_row(a) for a in found_artists]),
        (TRACKS, [track_row(fetched.infos[t]) for t in track_ids if t in fetched.infos]),
        (FEATURES, [features_row(f) for f in features or []]),
    ]
    counts = {
        "albums": len({album.id for album, _ in rows}),
        "album_rows": len(rows),
        "tracks": len(tables[2][1]),
        "artists": len(found_artists),
        "features": len(tables[3][1]),
    }
    with tempfile.TemporaryDirectory(prefix="lakeport-spotify-api-") as tmp:
        folder = Path(tmp)
        files: list[tuple[str, Path]] = []
        for spec, data in tables:
            path = folder / spec.name
            _write_csv(path, spec.columns, data)
            files.append((spec.name, path))
        if raw:
            (folder / "raw").mkdir()
            for resource, bodies in raw_bodies.items():
                path = folder / "raw" / f"{resource}.json"
                path.write_text(json.dumps(bodies, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                files.append((f"raw/{resource}.json", path))
        total = sum(path.stat().st_size for _, path in files)
        sent = 0

        def uploaded(_name: str, n: int) -> None:
            nonlocal sent
            sent += n
            report("upload", sent, total)

        landed = upload_batch(storage, files, dest, progress=uploaded)
    return IngestResult(
        to=dest.uri,
        source=source,
        files=landed,
        rows={spec.name: len(data) for spec, data in tables},
        counts=counts,
        api=api,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _collect(stage: str, items: Iterable[Any], total: int, report: Progress) -> list[Any]:
    """The non-null items, reporting progress per item."""
    out = []
    for done, item in enumerate(items, 1):
        report(stage, done, total)
        if item is not None:
            out.append(item)
    return out


def _from_artists(client: SpotifyClient, names: list[str], report: Progress) -> _Fetched:
    album_ids: dict[str, None] = {}
    for i, name in enumerate(names, 1):
        for ids in client.search_albums(name):
            album_ids.update(dict.fromkeys(ids))
        report("search", i, len(names))
    albums: list[Album] = _collect("albums", client.albums(list(album_ids)), len(album_ids), report)
    notes: list[str] = []
    if len(albums) < len(album_ids):
        notes.append(f"{len(album_ids) - len(albums)} album ids returned null from /albums")
    rows: list[tuple[Album, TrackRef]] = []
    seen: set[str] = set()
    for album in albums:  # one row per track; a track on two albums keeps its first (the author's drop_duplicates)
        for track in album.tracks:
            if track.id not in seen:
                seen.add(track.id)
                rows.append((album, track))
    track_ids = [track.id for _, track in rows]
    infos: list[TrackInfo] = _collect("tracks", client.tracks(track_ids), len(track_ids), report)
    if len(infos) < len(track_ids):
        notes.append(f"{len(track_ids) - len(infos)} track ids returned null from /tracks and have no tracks row")
    return _Fetched(rows, {i.id: i for i in infos}, notes)


def _from_playlist(client: SpotifyClient, playlist_id: str, report: Progress) -> _Fetched:
    """The playlist's own tracks (one albums row each), with their albums' attributes from ``/albums``."""
    report("playlist", 0, 1)
    found = client.playlist_tracks(playlist_id)
    report("playlist", 1, 1)
    notes: list[str] = []
    if found.skipped:
        notes.append(f"{found.skipped} playlist items skipped (local files, podcast episodes or removed tracks)")
    album_ids = list(dict.fromkeys(item.album_id for item in found.tracks))
    albums = {
        a.id: a
        for a in _collect("albums", client.albums(album_ids, all_tracks=False), len(album_ids), report)
        if isinstance(a, Album)
    }
    rows: list[tuple[Album, TrackRef]] = []
    infos: dict[str, TrackInfo] = {}
    missing = 0
    for item in found.tracks:
        album = albums.get(item.album_id)
        if album is None:
            missing += 1
        elif item.track.id not in infos:
            rows.append((album, item.track))
            infos[item.track.id] = item.info
    if missing:
        notes.append(f"{missing} playlist tracks skipped: their album returned null from /albums")
    return _Fetched(rows, infos, notes)


def _fetch_features(client: SpotifyClient, track_ids: list[str], report: Progress) -> list[AudioFeatures] | None:
    report("audio-features", 0, len(track_ids))
    got = client.audio_features(track_ids)
    report("audio-features", len(track_ids), len(track_ids))
    return None if got is None else [f for f in got if f is not None]
