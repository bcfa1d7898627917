"""A small typed client for the parts of the Spotify Web API the dataset author used.

Client-credentials tokens (refreshed when they expire, and once on a 401), offset/``next`` paging, the
documented batch limits, ``Retry-After`` on 429 (within a total wait budget), bounded exponential backoff on
5xx and transport errors, and a graceful ``None`` when ``/audio-features`` answers 403 (Spotify closed it to
new apps on 2024-11-27). Responses are checked as they are parsed: malformed JSON or a missing field is an
:class:`~lakeport.errors.InvalidInput` naming the endpoint and the field.

Neither the client secret nor an access token ever appears in a message, a note or a log record.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from lakeport.datasets.spotify.schema import FEATURES
from lakeport.errors import AccessDenied, ConfigError, InvalidInput, LakeportError, NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.spotify.com/v1"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"

# Documented per-call limits.
SEARCH_PAGE = 50  # /search: limit 0..50
SEARCH_CAP = 1000  # /search: offset + limit may not pass 1,000
ALBUMS_PER_CALL = 20
TRACKS_PER_CALL = 50
ARTISTS_PER_CALL = 50
FEATURES_PER_CALL = 100
ALBUM_TRACKS_PAGE = 50
PLAYLIST_PAGE = 100

FEATURE_FIELDS = FEATURES.columns  # the audio-features object, in the features file's column order

CREDENTIALS_HINT = (
    "check spotify.client_id and spotify.client_secret (LAKEPORT_SPOTIFY__CLIENT_ID / "
    "LAKEPORT_SPOTIFY__CLIENT_SECRET, or SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET)"
)

T = TypeVar("T")


# ---- the objects we read


@dataclass(frozen=True)
class ArtistRef:
    id: str | None
    name: str


@dataclass(frozen=True)
class TrackRef:
    """A (simplified) track: what an album's ``tracks.items[]`` holds."""

    id: str
    name: str
    track_number: int
    duration_ms: int
    artists: tuple[str, ...]  # names, main artist first


@dataclass(frozen=True)
class Album:
    id: str
    name: str
    album_type: str
    total_tracks: int
    release_date: str
    release_date_precision: str
    label: str
    popularity: int
    artists: tuple[ArtistRef, ...]
    tracks: tuple[TrackRef, ...]


@dataclass(frozen=True)
class TrackInfo:
    """What ``/tracks`` adds to a simplified track."""

    id: str
    popularity: int
    explicit: bool


@dataclass(frozen=True)
class Artist:
    id: str
    name: str
    popularity: int
    genres: tuple[str, ...]
    followers: int | None


@dataclass(frozen=True)
class AudioFeatures:
    id: str
    values: dict[str, Any]  # FEATURE_FIELDS → the API's value (None when absent)


@dataclass(frozen=True)
class PlaylistTrack:
    track: TrackRef
    info: TrackInfo
    album_id: str


@dataclass(frozen=True)
class PlaylistTracks:
    tracks: list[PlaylistTrack]
    skipped: int  # local files, podcast episodes, removed tracks


# ---- checked access to JSON


class _Obj:
    """A JSON object read on behalf of ``endpoint``: every missing or mistyped field is an InvalidInput."""

    def __init__(self, endpoint: str, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise _shape(endpoint, where, "an object", value)
        self.endpoint = endpoint
        self.data: dict[str, Any] = value
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise InvalidInput(
                f"Spotify API {self.endpoint}: the response is missing the field '{self._path(key)}'",
                hint="the API changed or the response was cut short; run with --raw to keep the responses",
            )
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise _shape(self.endpoint, self._path(key), "a string", value)
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise _shape(self.endpoint, self._path(key), "a string", value)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _shape(self.endpoint, self._path(key), "a whole number", value)
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise _shape(self.endpoint, self._path(key), "true or false", value)
        return value

    def child(self, key: str) -> _Obj:
        return _Obj(self.endpoint, self._get(key), self._path(key))

    def array(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise _shape(self.endpoint, self._path(key), "a list", value)
        return value

    def children(self, key: str, *, nullable: bool = False) -> Iterator[_Obj | None]:
        """The objects of the list ``key`` (``None`` for null entries when ``nullable``)."""
        for i, item in enumerate(self.array(key)):
            if item is None and nullable:
                yield None
            else:
                yield _Obj(self.endpoint, item, f"{self._path(key)}[{i}]")


def _shape(endpoint: str, where: str, expected: str, value: Any) -> InvalidInput:
    return InvalidInput(
        f"Spotify API {endpoint}: the field '{where or '(top level)'}' should be {expected}, "
        f"got {type(value).__name__}",
        hint="the API changed or the response was cut short; run with --raw to keep the responses",
    )


def _artist_ref(o: _Obj) -> ArtistRef:
    return ArtistRef(o.opt_text("id"), o.text("name"))


def _names(o: _Obj) -> tuple[str, ...]:
    return tuple(_artist_ref(a).name for a in o.children("artists") if a is not None)


def _track_ref(o: _Obj) -> TrackRef:
    return TrackRef(o.text("id"), o.text("name"), o.integer("track_number"), o.integer("duration_ms"), _names(o))


def _track_info(o: _Obj) -> TrackInfo:
    return TrackInfo(o.text("id"), o.integer("popularity"), o.flag("explicit"))


def _album(o: _Obj, tracks: Sequence[TrackRef]) -> Album:
    date = o.text("release_date")
    precision = o.opt_text("release_date_precision") or {4: "year", 7: "month"}.get(len(date), "day")
    return Album(
        id=o.text("id"),
        name=o.text("name"),
        album_type=o.text("album_type").lower(),
        total_tracks=o.integer("total_tracks"),
        release_date=date,
        release_date_precision=precision,
        label=o.opt_text("label") or "",
        popularity=o.integer("popularity"),
        artists=tuple(_artist_ref(a) for a in o.children("artists") if a is not None),
        tracks=tuple(tracks),
    )


def _artist(o: _Obj) -> Artist:
    genres = o.array("genres")
    if not all(isinstance(g, str) for g in genres):
        raise _shape(o.endpoint, o._path("genres"), "a list of strings", genres)
    followers = o.data.get("followers")
    total = None if followers is None else _Obj(o.endpoint, followers, o._path("followers")).data.get("total")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool)):
        raise _shape(o.endpoint, o._path("followers.total"), "a whole number", total)
    return Artist(o.text("id"), o.text("name"), o.integer("popularity"), tuple(genres), total)


def _features(o: _Obj) -> AudioFeatures:
    return AudioFeatures(o.text("id"), {name: o.data.get(name) for name in FEATURE_FIELDS})


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# ---- the client


class SpotifyClient:
    """One Spotify Web API session (client-credentials flow). Use as a context manager, or call close()."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        api_url: str = DEFAULT_API_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        market: str | None = "US",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 16.0,
        max_rate_limit_wait: float = 120.0,
        max_rate_limited: int = 20,
        timeout: float = 30.0,
        keep_raw: bool = False,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigError(
                "no Spotify client credentials: spotify.client_id and spotify.client_secret are empty",
                hint="create an app at https://developer.spotify.com/dashboard, then set LAKEPORT_SPOTIFY__CLIENT_ID "
                "and LAKEPORT_SPOTIFY__CLIENT_SECRET (or SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET)",
            )
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self.market = market or None
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_rate_limit_wait = max_rate_limit_wait
        self.max_rate_limited = max_rate_limited
        self.keep_raw = keep_raw
        self._secret = client_secret
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._token: str | None = None
        self._token_expires = 0.0
        self._http = httpx.Client(timeout=timeout, headers={"Accept": "application/json"})
        # what happened, for the caller's report
        self.requests = 0
        self.retries = 0
        self.tokens = 0
        self.rate_limit_waited = 0.0
        self.notes: list[str] = []
        self.raw: dict[str, list[Any]] = {}
        self.features_unavailable = False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- catalogue calls

    def search_albums(self, query: str, *, max_results: int = SEARCH_CAP) -> Iterator[list[str]]:
        """Album ids matching ``query`` (``/search?type=album``), one list per page, up to the API's offset cap."""
        limit = min(SEARCH_PAGE, max_results)
        params = self._params(q=query, type="album", limit=limit, offset=0)
        seen = 0
        total: Any = None
        for page in self._pages("search", "/search", params, key="albums", cap=max_results):
            seen += len(page.array("items"))
            total = page.data.get("total")
            yield [o.text("id") for o in page.children("items", nullable=True) if o is not None]
        if isinstance(total, int) and total > max_results and seen < total:
            self.notes.append(
                f"album search for {query!r} matched {total:,} albums; the API returns the first {max_results:,} only"
            )

    def albums(self, ids: Sequence[str], *, all_tracks: bool = True) -> Iterator[Album | None]:
        """Full albums, ``ALBUMS_PER_CALL`` ids per call, in the order asked (``None`` for unknown ids).

        With ``all_tracks`` an album with more tracks than its first page fetches the rest from ``tracks.next``.
        """
        for chunk in batched(ids, ALBUMS_PER_CALL):
            endpoint, body = self._get_json("albums", "/albums", self._params(ids=",".join(chunk)))
            top = _Obj(endpoint, body, "")
            for o in top.children("albums", nullable=True):
                if o is None:
                    yield None
                    continue
                page = o.child("tracks")
                tracks = [_track_ref(t) for t in page.children("items", nullable=True) if t is not None]
                nxt = page.opt_text("next")
                if all_tracks and nxt:
                    album_id = o.text("id")
                    params = self._params(limit=ALBUM_TRACKS_PAGE, offset=len(page.array("items")))
                    for more in self._pages(
                        "album-tracks", f"/albums/{album_id}/tracks", params, key=None, first_url=nxt
                    ):
                        tracks.extend(_track_ref(t) for t in more.children("items", nullable=True) if t is not None)
                yield _album(o, tracks)

    def tracks(self, ids: Sequence[str]) -> Iterator[TrackInfo | None]:
        for chunk in batched(ids, TRACKS_PER_CALL):
            endpoint, body = self._get_json("tracks", "/tracks", self._params(ids=",".join(chunk)))
            for o in _Obj(endpoint, body, "").children("tracks", nullable=True):
                yield None if o is None else _track_info(o)

    def artists(self, ids: Sequence[str]) -> Iterator[Artist | None]:
        for chunk in batched(ids, ARTISTS_PER_CALL):
            endpoint, body = self._get_json("artists", "/artists", {"ids": ",".join(chunk)})
            for o in _Obj(endpoint, body, "").children("artists", nullable=True):
                yield None if o is None else _artist(o)

    def audio_features(self, ids: Sequence[str]) -> list[AudioFeatures | None] | None:
        """Audio features in the order asked, or ``None`` when the endpoint answers 403 (closed to new apps)."""
        out: list[AudioFeatures | None] = []
        for chunk in batched(ids, FEATURES_PER_CALL):
            got = self._get("audio-features", "/audio-features", {"ids": ",".join(chunk)}, tolerate=403)
            if got is None:
                self.features_unavailable = True
                note = "audio-features answered HTTP 403 (Spotify closed it to new apps on 2024-11-27): no features"
                log.info(note)
                self.notes.append(note)
                return None
            endpoint, body = got
            out.extend(
                None if o is None else _features(o)
                for o in _Obj(endpoint, body, "").children("audio_features", nullable=True)
            )
        return out

    def playlist_tracks(self, playlist_id: str) -> PlaylistTracks:
        """Every track of a playlist (``/playlists/{id}/tracks``), skipping local files, episodes and gaps."""
        found: list[PlaylistTrack] = []
        skipped = 0
        params = self._params(limit=PLAYLIST_PAGE, offset=0)
        for page in self._pages("playlist-tracks", f"/playlists/{playlist_id}/tracks", params, key=None):
            for item in page.children("items", nullable=True):
                raw = None if item is None else item.data.get("track")
                if item is None or raw is None:
                    skipped += 1
                    continue
                track = item.child("track")
                if track.data.get("type", "track") != "track" or track.data.get("is_local") or not track.data.get("id"):
                    skipped += 1
                    continue
                found.append(PlaylistTrack(_track_ref(track), _track_info(track), track.child("album").text("id")))
        return PlaylistTracks(found, skipped)

    # ---- paging

    def _pages(
        self,
        resource: str,
        path: str,
        params: dict[str, Any],
        *,
        key: str | None,
        cap: int | None = None,
        first_url: str | None = None,
    ) -> Iterator[_Obj]:
        """Follow a paging object: its ``next`` link when it points at the API, else offset + limit.

        ``first_url`` starts from a ``next`` link already in hand; ``cap`` stops before offset + limit passes it.
        """
        limit = int(params["limit"])
        offset = int(params.get("offset", 0))
        url: str | None = first_url if first_url and self._is_api_url(first_url) else None
        query: dict[str, Any] | None = None if url else params
        while True:
            endpoint, body = self._get_json(resource, url or path, query)
            top = _Obj(endpoint, body, "")
            page = top.child(key) if key else top
            items = page.array("items")
            yield page
            nxt = page.opt_text("next")
            offset += len(items)
            if not nxt or not items or (cap is not None and offset + limit > cap):
                return
            if self._is_api_url(nxt):
                url, query = nxt, None
            else:  # never send the token anywhere else: page on by offset instead
                url, query = None, {**params, "offset": offset}

    def _is_api_url(self, url: str) -> bool:
        return url.startswith(self.api_url + "/")

    def _params(self, **params: Any) -> dict[str, Any]:
        if self.market:
            params["market"] = self.market
        return params

    # ---- HTTP

    def _get_json(self, resource: str, path_or_url: str, params: dict[str, Any] | None) -> tuple[str, Any]:
        """GET a path of the API (or an absolute API URL): ``(endpoint label, JSON object)``."""
        got = self._get(resource, path_or_url, params)
        assert got is not None
        return got

    def _get(
        self, resource: str, path_or_url: str, params: dict[str, Any] | None, *, tolerate: int | None = None
    ) -> tuple[str, Any] | None:
        """Like :meth:`_get_json`, but an answer with status ``tolerate`` returns ``None`` instead of raising."""
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.api_url + path_or_url
        endpoint = f"GET {httpx.URL(url).path}"
        response = self._send("GET", url, endpoint, params=params, api=True)
        if tolerate is not None and response.status_code == tolerate:
            return None
        if response.status_code >= 400:
            raise self._api_error(response, endpoint)
        body = self._json(response, endpoint)
        if not isinstance(body, dict):
            raise _shape(endpoint, "", "an object", body)
        if self.keep_raw:
            self.raw.setdefault(resource, []).append(body)
        return endpoint, body

    def _json(self, response: httpx.Response, endpoint: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            where = (
                f" ({exc.msg} at line {exc.lineno} column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            )
            raise InvalidInput(
                f"Spotify API {endpoint} answered HTTP {response.status_code} with malformed JSON{where}",
                hint="the response was cut short or is not from the Spotify Web API; check spotify.api_url",
            ) from None

    def _access_token(self) -> str:
        if self._token is None or self.clock() >= self._token_expires:
            self._fetch_token()
        assert self._token is not None
        return self._token

    def _fetch_token(self) -> None:
        endpoint = f"POST {self.token_url}"
        response = self._send("POST", self.token_url, endpoint, form={"grant_type": "client_credentials"}, api=False)
        if response.status_code in (400, 401, 403):
            raise AccessDenied(
                f"Spotify token endpoint {self.token_url} rejected the client credentials "
                f"(HTTP {response.status_code}{self._detail(response)})",
                hint=CREDENTIALS_HINT,
            )
        if response.status_code >= 400:
            raise LakeportError(
                f"Spotify token endpoint {self.token_url} answered HTTP {response.status_code}{self._detail(response)}",
                hint="check spotify.token_url",
            )
        body = _Obj(endpoint, self._json(response, endpoint), "")
        token = body.text("access_token")
        expires_in = body.integer("expires_in") if "expires_in" in body.data else 3600
        self._token = token
        # refresh a little early so a token never expires between the check and the call
        self._token_expires = self.clock() + max(0.0, expires_in - min(60.0, expires_in / 10))
        self.tokens += 1
        log.debug("got a Spotify access token valid for %s s", expires_in)

    def _send(
        self,
        method: str,
        url: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        api: bool,
    ) -> httpx.Response:
        """One request, with retries: 429 after Retry-After, 5xx and transport errors with backoff, 401 once."""
        who = f"Spotify API {endpoint}" if api else f"Spotify token endpoint {endpoint}"
        attempt = 0
        rate_limited = 0
        refreshed = False
        while True:
            attempt += 1
            auth = f"Bearer {self._access_token()}" if api else f"Basic {self._basic}"
            try:
                response = self._http.request(method, url, params=params, data=form, headers={"Authorization": auth})
            except httpx.TransportError as exc:
                log.debug("%s: %s (attempt %d)", endpoint, type(exc).__name__, attempt)
                if attempt >= self.max_attempts:
                    raise ServiceUnavailable(
                        f"{who} failed after {attempt} attempts: {type(exc).__name__}: "
                        f"{self._redact(str(exc)) or 'no detail'}",
                        hint="check the network connection, spotify.api_url and spotify.token_url",
                    ) from None
                self._backoff(attempt)
                continue
            self.requests += 1
            status = response.status_code
            log.debug("%s -> HTTP %d", endpoint, status)
            if status == 429:
                rate_limited += 1
                wait = self._retry_after(response, rate_limited)
                if rate_limited > self.max_rate_limited or self.rate_limit_waited + wait > self.max_rate_limit_wait:
                    raise ServiceUnavailable(
                        f"{who} is rate limited (HTTP 429, Retry-After {wait:g} s); "
                        f"already waited {self.rate_limit_waited:g} s of the {self.max_rate_limit_wait:g} s allowed",
                        hint="try again later, or ask for fewer artists at a time",
                    )
                self.rate_limit_waited += wait
                self.retries += 1
                attempt -= 1  # waiting as told is not a failed attempt
                self.sleep(wait)
                continue
            if status >= 500:
                if attempt >= self.max_attempts:
                    raise ServiceUnavailable(
                        f"{who} answered HTTP {status} {attempt} times in a row{self._detail(response)}",
                        hint="Spotify may be having trouble; try again later",
                    )
                self._backoff(attempt)
                continue
            if status == 401 and api and not refreshed:
                refreshed = True  # the token expired or was revoked: get a new one, once
                self._token = None
                attempt -= 1
                continue
            return response

    def _backoff(self, attempt: int) -> None:
        self.retries += 1
        self.sleep(min(self.backoff_seconds * 2.0 ** (attempt - 1), self.max_backoff_seconds))

    def _retry_after(self, response: httpx.Response, rate_limited: int) -> float:
        header = response.headers.get("Retry-After", "").strip()
        try:
            seconds = float(header)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return seconds
        return min(self.backoff_seconds * 2.0 ** (rate_limited - 1), self.max_backoff_seconds)

    def _api_error(self, response: httpx.Response, endpoint: str) -> LakeportError:
        status = response.status_code
        message = f"Spotify API {endpoint} answered HTTP {status}{self._detail(response)}"
        if status == 401:
            return AccessDenied(message, hint="the access token was refused even after a refresh; " + CREDENTIALS_HINT)
        if status == 403:
            return AccessDenied(message, hint="this app is not allowed to use that endpoint")
        if status == 404:
            return NotFound(
                message,
                hint="check the id; a playlist must be public, and Spotify's own editorial playlists are "
                "not available to new apps",
            )
        return InvalidInput(message)

    def _detail(self, response: httpx.Response) -> str:
        """``": <Spotify's error message>"`` from an error body, redacted and cut short ("" if none)."""
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return ""
        text = ""
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                text = str(error.get("message") or "")
            elif isinstance(error, str):
                description = body.get("error_description")
                text = f"{error}: {description}" if description else error
        text = " ".join(self._redact(text).split())[:200]
        return f": {text}" if text else ""

    def _redact(self, text: str) -> str:
        for secret in (self._secret, self._basic, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text
