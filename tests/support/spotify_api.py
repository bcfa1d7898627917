"""A real HTTP server on 127.0.0.1 that speaks the documented contract of the Spotify Web API endpoints we use.

``POST /api/token`` (client credentials, HTTP Basic), ``GET /v1/search?type=album`` (paged, offset + limit capped
at 1,000), ``/v1/albums`` (≤ 20 ids), ``/v1/albums/{id}/tracks`` (paged), ``/v1/tracks`` (≤ 50), ``/v1/artists``
(≤ 50), ``/v1/audio-features`` (≤ 100, or 403 like for new apps), ``/v1/playlists/{id}/tracks`` (paged, ≤ 100).
Objects follow the Web API reference. Oversize batches are answered 400 and counted; faults (any status, a
Retry-After, a malformed body, a dropped connection) can be queued per path prefix.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

CLIENT_ID = "lakeport-test-client"
CLIENT_SECRET = "s3cr3t-Client-Secret-0123456789"

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BATCH_LIMITS = {"albums": 20, "tracks": 50, "artists": 50, "audio-features": 100}
SEARCH_CAP = 1000


def spotify_id(seed: str) -> str:
    """A deterministic 22-character base62 id."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(22):
        n, r = divmod(n, 62)
        out.append(BASE62[r])
    return "".join(out)


# ---- the catalogue


@dataclass
class FakeArtist:
    id: str
    name: str
    popularity: int = 50
    genres: list[str] = field(default_factory=list)
    followers: int = 1000


@dataclass
class FakeTrack:
    id: str
    name: str
    track_number: int
    duration_ms: int
    explicit: bool
    popularity: int
    artist_ids: list[str]
    album_id: str = ""


@dataclass
class FakeAlbum:
    id: str
    name: str
    album_type: str
    release_date: str
    release_date_precision: str
    label: str
    popularity: int
    artist_ids: list[str]
    tracks: list[FakeTrack] = field(default_factory=list)


@dataclass
class Catalog:
    artists: dict[str, FakeArtist] = field(default_factory=dict)
    albums: dict[str, FakeAlbum] = field(default_factory=dict)
    tracks: dict[str, FakeTrack] = field(default_factory=dict)
    playlists: dict[str, list[str | None]] = field(default_factory=dict)  # None: a local file

    def artist(self, name: str, **kwargs: Any) -> FakeArtist:
        artist = FakeArtist(spotify_id(f"artist:{name}"), name, **kwargs)
        self.artists[artist.id] = artist
        return artist

    def album(
        self,
        name: str,
        artists: list[FakeArtist],
        tracks: list[tuple[str, int, bool, list[FakeArtist]]],
        *,
        album_type: str = "album",
        release_date: str = "2015-06-09",
        precision: str = "day",
        label: str = "Test Records",
        popularity: int = 40,
    ) -> FakeAlbum:
        """``tracks``: (name, duration_ms, explicit, featured artists) in track order."""
        album = FakeAlbum(
            spotify_id(f"album:{name}:{artists[0].name}"),
            name,
            album_type,
            release_date,
            precision,
            label,
            popularity,
            [a.id for a in artists],
        )
        for number, (title, ms, explicit, featured) in enumerate(tracks, 1):
            track = FakeTrack(
                spotify_id(f"track:{album.id}:{number}"),
                title,
                number,
                ms,
                explicit,
                (popularity + number * 7) % 101,
                [artists[0].id, *(a.id for a in featured)],
                album.id,
            )
            album.tracks.append(track)
            self.tracks[track.id] = track
        self.albums[album.id] = album
        return album

    def bulk(self, artist_name: str, albums: int, tracks_per_album: int) -> FakeArtist:
        """An artist with many small albums (for paging and batching)."""
        artist = self.artist(artist_name, popularity=60, genres=["bulk pop"], followers=12345)
        for i in range(albums):
            self.album(
                f"{artist_name} volume {i}",
                [artist],
                [(f"song {i}-{j}", 180_000 + 1_001 * j, j % 2 == 0, []) for j in range(tracks_per_album)],
                release_date=f"{2000 + i % 24}",
                precision="year",
            )
        return artist


def sample_catalog() -> Catalog:
    """Two artists with the awkward cases of the real data: apostrophes, commas, quotes, non-ASCII, featured
    artists, year/month/day dates, an album of more than 50 tracks, genre-less artists."""
    c = Catalog()
    drake = c.artist("Drake", popularity=95, genres=["canadian hip hop", "hip hop", "rap"], followers=85_000_000)
    future = c.artist("Future", popularity=88, genres=["atl hip hop", "rap", "southern hip hop", "trap"])
    adele = c.artist("Adele", popularity=90, genres=["british soul", "pop", "uk pop"], followers=55_000_000)
    tiesto = c.artist("Tiësto", popularity=70, genres=[], followers=300)
    c.album(
        "what a time to be alive",
        [drake, future],
        [
            ("king's calling", 555_521, True, [future]),
            ("jumpman", 216_000, True, [future]),
            ("plastic bag", 1, False, []),
        ],
        release_date="2015-09-20",
        label="Cash Money Records/Young Money Ent./Universal Rec.",
        popularity=70,
    )
    c.album("take care", [drake], [("over my dead body", 272_000, True, [])], release_date="2011-11", precision="month")
    c.album(
        "25",
        [adele],
        [("hello", 295_502, False, []), ('send my love (to your new lover) "live"', 223_080, False, [])],
        release_date="2015",
        precision="year",
        label="Los Años Luz Discos",
        popularity=85,
    )
    c.album(
        "adele, drake & tiësto: the collab",
        [adele, drake, tiesto],
        [(f"part {n}", 100_000 + n, n % 3 == 0, [drake, tiesto]) for n in range(1, 56)],
        album_type="compilation",
        release_date="2023-01-01",
    )
    many = [c.artist(f"Feature {i}") for i in range(13)]
    c.album("crowded", [drake], [("everyone on it", 200_000, False, many)], album_type="single")
    return c


# ---- faults and the request log


@dataclass
class Fault:
    status: int = 500
    body: bytes | None = None  # None: a Spotify-style error object for the status
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without an answer (a transport error)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int


class FakeSpotify:
    """The server's state: catalogue, credentials, tokens, faults and what it saw."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.token_status = 400  # what bad credentials get (Spotify: 400 invalid_client)
        self.token_expires_in = 3600
        self.features_status = 200
        self.base = ""
        self.tokens: set[str] = set()
        self.seen: list[Seen] = []
        self.batches: dict[str, list[int]] = {name: [] for name in BATCH_LIMITS}
        self.oversize = 0
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return f"{self.base}/v1"

    @property
    def token_url(self) -> str:
        return f"{self.base}/api/token"

    def fail(self, path_prefix: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` requests under ``path_prefix`` with ``fault`` (before the normal answer)."""
        with self._lock:
            self._faults.extend((path_prefix, fault) for _ in range(times))

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, (prefix, fault) in enumerate(self._faults):
                if path.startswith(prefix):
                    del self._faults[i]
                    return fault
        return None

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def calls(self, path_prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(path_prefix)]

    def revoke_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    # ---- objects as the Web API reference shapes them

    def artist_simple(self, artist_id: str) -> dict[str, Any]:
        a = self.catalog.artists[artist_id]
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{a.id}"},
            "href": f"{self.api_url}/artists/{a.id}",
            "id": a.id,
            "name": a.name,
            "type": "artist",
            "uri": f"spotify:artist:{a.id}",
        }

    def artist_full(self, artist_id: str) -> dict[str, Any]:
        a = self.catalog.artists[artist_id]
        return self.artist_simple(artist_id) | {
            "followers": {"href": None, "total": a.followers},
            "genres": list(a.genres),
            "images": [{"url": f"https://i.scdn.co/image/{a.id}", "height": 640, "width": 640}],
            "popularity": a.popularity,
        }

    def track_simple(self, track: FakeTrack) -> dict[str, Any]:
        return {
            "artists": [self.artist_simple(i) for i in track.artist_ids],
            "available_markets": ["US", "GB"],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "href": f"{self.api_url}/tracks/{track.id}",
            "id": track.id,
            "is_local": False,
            "name": track.name,
            "preview_url": None,
            "track_number": track.track_number,
            "type": "track",
            "uri": f"spotify:track:{track.id}",
        }

    def track_full(self, track: FakeTrack) -> dict[str, Any]:
        return self.track_simple(track) | {
            "album": self.album_simple(self.catalog.albums[track.album_id]),
            "external_ids": {"isrc": f"USTEST{track.id[:7].upper()}"},
            "popularity": track.popularity,
        }

    def album_simple(self, album: FakeAlbum) -> dict[str, Any]:
        return {
            "album_type": album.album_type,
            "total_tracks": len(album.tracks),
            "available_markets": ["US", "GB"],
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
            "href": f"{self.api_url}/albums/{album.id}",
            "id": album.id,
            "images": [],
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.release_date_precision,
            "type": "album",
            "uri": f"spotify:album:{album.id}",
            "artists": [self.artist_simple(i) for i in album.artist_ids],
        }

    def album_tracks_page(self, album: FakeAlbum, offset: int, limit: int) -> dict[str, Any]:
        href = f"{self.api_url}/albums/{album.id}/tracks"
        return self.page(href, [self.track_simple(t) for t in album.tracks], offset, limit)

    def album_full(self, album: FakeAlbum) -> dict[str, Any]:
        return self.album_simple(album) | {
            "tracks": self.album_tracks_page(album, 0, 50),
            "copyrights": [{"text": f"(C) {album.label}", "type": "C"}],
            "external_ids": {"upc": "00602547000000"},
            "genres": [],
            "label": album.label,
            "popularity": album.popularity,
        }

    def features(self, track: FakeTrack) -> dict[str, Any]:
        h = hashlib.sha256(track.id.encode()).digest()
        return {
            "acousticness": round(h[0] / 255, 4),
            "analysis_url": f"https://api.spotify.com/v1/audio-analysis/{track.id}",
            "danceability": round(h[1] / 255, 3),
            "duration_ms": track.duration_ms,
            "energy": round(h[2] / 255, 3),
            "id": track.id,
            "instrumentalness": 0 if h[3] % 2 else round(h[3] / 2550, 6),
            "key": h[4] % 12 - (1 if h[4] == 0 else 0),
            "liveness": round(h[5] / 255, 4),
            "loudness": -round(h[6] / 10, 3),
            "mode": h[7] % 2,
            "speechiness": round(h[8] / 2550, 4),
            "tempo": round(60 + h[9] * 0.7, 3),
            "time_signature": 4,
            "track_href": f"https://api.spotify.com/v1/tracks/{track.id}",
            "type": "audio_features",
            "uri": f"spotify:track:{track.id}",
            "valence": round(h[10] / 255, 3),
        }

    def page(
        self, href: str, items: list[Any], offset: int, limit: int, extra: str = "", total: int | None = None
    ) -> dict[str, Any]:
        total = len(items) if total is None else total
        chunk = items[offset : offset + limit]

        def link(at: int) -> str:
            return f"{href}?offset={at}&limit={limit}{extra}"

        return {
            "href": link(offset),
            "items": chunk,
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": {"status": status, "message": message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSpotify


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    @property
    def fake(self) -> FakeSpotify:
        return cast(_Server, self.server).fake

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.fake.take_fault(parts.path)
        if fault is not None:
            self.fake.record(Seen(method, parts.path, query, fault.status))
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            payload = fault.body
            if payload is None:
                payload = json.dumps({"error": {"status": fault.status, "message": "injected fault"}}).encode()
            self._send(fault.status, payload, fault.headers)
            return
        if method == "POST" and parts.path == "/api/token":
            status, data = self._token(body)
        elif method == "GET" and parts.path.startswith("/v1/"):
            status, data = self._api(parts.path, query)
        else:
            status, data = _error(404, "Service not found")
        self.fake.record(Seen(method, parts.path, query, status))
        self._send(status, json.dumps(data).encode())

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _token(self, body: bytes) -> tuple[int, Any]:
        fake = self.fake
        expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return fake.token_status, {"error": "invalid_client", "error_description": "Invalid client secret"}
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type parameter is missing"}
        token = secrets.token_urlsafe(24)
        with fake._lock:
            fake.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": fake.token_expires_in}

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        fake = self.fake
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return _error(401, "No token provided")
        if auth[len("Bearer ") :] not in fake.tokens:
            return _error(401, "The access token expired")

        def one(name: str, default: str = "") -> str:
            return query.get(name, [default])[0]

        try:
            offset = int(one("offset", "0"))
            limit = int(one("limit", "20"))
        except ValueError:
            return _error(400, "Invalid limit/offset")
        segments = path.split("/")[2:]  # after /v1/
        if segments == ["search"]:
            return self._search(one("q") or one("query"), one("type"), offset, limit, one("market"))
        if len(segments) == 1 and segments[0] in BATCH_LIMITS:
            return self._batch(segments[0], one("ids"))
        if len(segments) == 3 and segments[0] == "albums" and segments[2] == "tracks":
            album = fake.catalog.albums.get(segments[1])
            if album is None:
                return _error(404, "Non existing id")
            if not 1 <= limit <= 50:
                return _error(400, "Invalid limit")
            return 200, fake.album_tracks_page(album, offset, limit)
        if len(segments) == 3 and segments[0] == "playlists" and segments[2] == "tracks":
            return self._playlist(segments[1], offset, limit)
        return _error(404, "Service not found")

    def _search(self, q: str, kind: str, offset: int, limit: int, market: str) -> tuple[int, Any]:
        fake = self.fake
        if not q:
            return _error(400, "No search query")
        if "album" not in kind.split(","):
            return _error(400, "Bad search type field")
        if not 1 <= limit <= 50 or offset < 0 or offset + limit > SEARCH_CAP:
            return _error(400, "Invalid limit/offset")
        needle = q.lower()
        matches: list[dict[str, Any] | None] = [
            fake.album_simple(a)
            for a in fake.catalog.albums.values()
            if any(needle in fake.catalog.artists[i].name.lower() for i in a.artist_ids) or needle in a.name.lower()
        ]
        matches.insert(0, None)  # the API does return null items now and then
        extra = f"&query={quote(q)}&type=album" + (f"&market={market}" if market else "")
        return 200, {"albums": fake.page(f"{fake.api_url}/search", matches, offset, limit, extra)}

    def _batch(self, resource: str, ids_text: str) -> tuple[int, Any]:
        fake = self.fake
        ids = [i for i in ids_text.split(",") if i]
        if not ids:
            return _error(400, "invalid id")
        with fake._lock:
            fake.batches[resource].append(len(ids))
            if len(ids) > BATCH_LIMITS[resource]:
                fake.oversize += 1
                return _error(400, "Too many ids requested")
        if resource == "audio-features" and fake.features_status != 200:
            return fake.features_status, {"error": {"status": fake.features_status}}
        cat = fake.catalog
        out: list[Any]
        if resource == "albums":
            out = [fake.album_full(cat.albums[i]) if i in cat.albums else None for i in ids]
        elif resource == "tracks":
            out = [fake.track_full(cat.tracks[i]) if i in cat.tracks else None for i in ids]
        elif resource == "artists":
            out = [fake.artist_full(i) if i in cat.artists else None for i in ids]
        else:
            out = [fake.features(cat.tracks[i]) if i in cat.tracks else None for i in ids]
        return 200, {resource.replace("-", "_"): out}

    def _playlist(self, playlist_id: str, offset: int, limit: int) -> tuple[int, Any]:
        fake = self.fake
        if playlist_id not in fake.catalog.playlists:
            return _error(404, "Resource not found")
        if not 1 <= limit <= 100:
            return _error(400, "Invalid limit")
        items: list[Any] = []
        for track_id in fake.catalog.playlists[playlist_id]:
            track: dict[str, Any]
            if track_id is None:  # a local file: no id, no album id
                track = {"id": None, "name": "my demo.mp3", "is_local": True, "type": "track", "artists": []}
            else:
                track = fake.track_full(fake.catalog.tracks[track_id])
            items.append({"added_at": "2023-12-20T10:00:00Z", "is_local": track_id is None, "track": track})
        items.append({"added_at": "2023-12-20T10:00:00Z", "is_local": False, "track": None})  # removed
        href = f"{fake.api_url}/playlists/{playlist_id}/tracks"
        return 200, fake.page(href, items, offset, limit)


@contextmanager
def spotify_api(catalog: Catalog | None = None) -> Iterator[FakeSpotify]:
    """Serve a fake Spotify Web API on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeSpotify(catalog or sample_catalog())
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-spotify", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
