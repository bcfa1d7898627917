"""The Spotify Web API connector against a real local HTTP server that implements the endpoints' contract."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.datasets.spotify.ingest import (
    duration_sec,
    ingest_spotify,
    parse_playlist_id,
    release_timestamp,
    split_artists,
)
from lakeport.datasets.spotify.schema import ALBUMS, ARTISTS, FEATURES, TRACKS
from lakeport.datasets.spotify.webapi import SpotifyClient
from lakeport.errors import AccessDenied, ConfigError, InvalidInput, NotFound, ServiceUnavailable
from lakeport.settings import SpotifySettings
from tests.conftest import run_cli
from tests.support.spotify_api import (
    BATCH_LIMITS,
    CLIENT_ID,
    CLIENT_SECRET,
    Catalog,
    FakeSpotify,
    Fault,
    spotify_api,
    spotify_id,
)

PREFIX = "staging/spotify/"
ID = re.compile(r"^[0-9A-Za-z]{22}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")
DURATION_SEC = re.compile(r"^\d+(\.\d*[1-9])?$")  # no trailing .0
BOOLEAN = re.compile(r"^(true|false)$")
PY_LIST = re.compile(r"^\[.*\]$")
FILES = {ALBUMS.name, ARTISTS.name, TRACKS.name, FEATURES.name}


class Sleeps(list[float]):
    """An injected ``sleep`` that records the delays asked for and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with spotify_api() as server:
        yield server


def settings_for(
    fake: FakeSpotify, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET
) -> SpotifySettings:
    return SpotifySettings(
        client_id=client_id, client_secret=client_secret, api_url=fake.api_url, token_url=fake.token_url
    )


def staged(lake: Lake, prefix: str = PREFIX) -> dict[str, str]:
    """Every object under ``prefix``: relative name → text."""
    bucket = lake.storage.default_bucket
    return {
        o.key[len(prefix) :]: lake.storage.read_bytes(bucket, o.key).decode("utf-8")
        for o in lake.storage.iter_objects(bucket, prefix=prefix)
    }


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def assert_nothing_landed(lake: Lake) -> None:
    assert staged(lake) == {}
    assert lake.events.read() == []


def ingest(lake: Lake, fake: FakeSpotify, sleeps: Sleeps | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("artists", ["Drake", "Adele"])
    result = ingest_spotify(
        lake.storage, settings_for(fake), environ={}, sleep=Sleeps() if sleeps is None else sleeps, **kwargs
    )
    return result.to_dict()


# ---- the happy path


def test_lands_the_four_files_with_exact_headers_and_value_formats(local_lake: Lake, fake: FakeSpotify) -> None:
    data = ingest(local_lake, fake)
    files = staged(local_lake)
    assert set(files) == FILES
    for spec in (ALBUMS, ARTISTS, TRACKS, FEATURES):
        text = files[spec.name]
        assert text.split("\n", 1)[0] == spec.header
        assert "\r" not in text
        assert text.endswith("\n")

    albums = rows(files[ALBUMS.name])
    # 3 + 1 + 2 + 55 (a second page of album tracks) + 1; the shared album is found by both searches, once
    assert len(albums) == 62
    assert len({r["track_id"] for r in albums}) == 62
    for r in albums:
        for column in ("track_id", "album_id", "artist_id"):
            assert ID.match(r[column]), (column, r[column])
        assert TIMESTAMP.match(r["release_date"])
        assert DURATION_SEC.match(r["duration_sec"])
        assert int(r["duration_sec"].split(".")[0]) == int(r["duration_ms"]) // 1000
        assert r["album_type"] in {"album", "single", "compilation"}
        names = ast.literal_eval(r["artists"])
        assert isinstance(names, list)
        assert [r[f"artist_{i}"] for i in range(12)] == [*names[:12], *[""] * (12 - min(12, len(names)))]

    drake, future, adele = (spotify_id(f"artist:{n}") for n in ("Drake", "Future", "Adele"))
    by_name = {r["track_name"]: r for r in albums}
    king = by_name["King'S Calling"]  # str.title(), with the dataset's apostrophe artefact
    assert [king[c] for c in ALBUMS.columns] == [
        "King'S Calling",
        king["track_id"],
        "1",
        "555521",
        "album",
        "['Drake', 'Future']",
        "3",
        "What A Time To Be Alive",
        "2015-09-20 00:00:00 UTC",
        "Cash Money Records/Young Money Ent./Universal Rec.",
        "70",
        spotify_id("album:what a time to be alive:Drake"),
        drake,
        "Drake",
        "Future",
        *[""] * 10,
        "555.521",
    ]
    assert by_name["Jumpman"]["duration_sec"] == "216"
    assert by_name["Plastic Bag"]["duration_sec"] == "0.001"
    assert by_name["Over My Dead Body"]["release_date"] == "2011-11-01 00:00:00 UTC"  # month precision
    assert by_name["Hello"]["release_date"] == "2015-01-01 00:00:00 UTC"  # year precision
    assert by_name["Hello"]["label"] == "Los Años Luz Discos"
    assert by_name["Hello"]["artists"] == "['Adele']"
    crowded = by_name["Everyone On It"]
    assert len(ast.literal_eval(crowded["artists"])) == 14
    assert crowded["artist_11"] == "Feature 10"  # 12 slots, the rest only in `artists`
    collab = [r for r in albums if r["album_name"] == "Adele, Drake & Tiësto: The Collab"]
    assert len(collab) == 55
    assert {r["artist_id"] for r in collab} == {adele}  # the album's first artist, not the track's
    assert {r["total_tracks"] for r in collab} == {"55"}
    assert '"Adele, Drake & Tiësto: The Collab"' in files[ALBUMS.name]  # QUOTE_MINIMAL
    assert '"Send My Love (To Your New Lover) ""Live"""' in files[ALBUMS.name]

    artists = rows(files[ARTISTS.name])
    assert {r["name"] for r in artists} == {"Drake", "Adele"}  # album artists only (not Future, not Tiësto)
    assert future not in {r["id"] for r in artists}
    a = {r["name"]: r for r in artists}["Drake"]
    assert [a[c] for c in ARTISTS.columns] == [
        drake,
        "Drake",
        "95",
        "['canadian hip hop', 'hip hop', 'rap']",
        "85000000",
        "canadian hip hop",
        "hip hop",
        "rap",
        "",
        "",
        "",
        "",
    ]

    tracks = rows(files[TRACKS.name])
    assert [t["id"] for t in tracks] == [r["track_id"] for r in albums]
    for t in tracks:
        assert ID.match(t["id"])
        assert BOOLEAN.match(t["explicit"])
        assert 0 <= int(t["track_popularity"]) <= 100
    assert {t["id"]: t["explicit"] for t in tracks}[king["track_id"]] == "true"

    features = rows(files[FEATURES.name])
    assert [f["id"] for f in features] == [r["track_id"] for r in albums]
    for f in features:
        assert f["type"] == "audio_features"
        assert f["uri"] == f"spotify:track:{f['id']}"
        assert f["track_href"] == f"https://api.spotify.com/v1/tracks/{f['id']}"
        assert 0 <= float(f["danceability"]) <= 1
        assert -1 <= int(f["key"]) <= 11
        assert f["mode"] in {"0", "1"}
        assert int(f["duration_ms"]) > 0

    assert data["to"] == f"s3://{local_lake.storage.default_bucket}/{PREFIX}"
    assert data["source"] == {"artists": ["Drake", "Adele"]}
    assert {f["file"]: f["rows"] for f in data["files"]} == {
        ALBUMS.name: 62,
        ARTISTS.name: 2,
        TRACKS.name: 62,
        FEATURES.name: 62,
    }
    assert all(f["bytes"] > 0 and f["etag"] for f in data["files"])
    assert data["counts"] == {"albums": 5, "album_rows": 62, "tracks": 62, "artists": 2, "features": 62}
    assert data["notes"] == []
    assert data["api"]["tokens"] == 1
    assert fake.oversize == 0
    assert sorted(e.key for e in local_lake.events.read()) == sorted(PREFIX + name for name in FILES)
    assert [c.query["market"] for c in fake.calls("/v1/search")] == [["US"], ["US"]]


def test_raw_responses_land_next_to_the_csvs(local_lake: Lake, fake: FakeSpotify) -> None:
    data = ingest(local_lake, fake, raw=True, to="s3://lakeport/staging/spotify-api/")
    files = staged(local_lake, "staging/spotify-api/")
    raw = {name for name in files if name.startswith("raw/")}
    assert raw == {
        "raw/search.json",
        "raw/albums.json",
        "raw/album-tracks.json",
        "raw/tracks.json",
        "raw/audio-features.json",
        "raw/artists.json",
    }
    albums = json.loads(files["raw/albums.json"])
    assert isinstance(albums, list)
    assert {a["id"] for body in albums for a in body["albums"]} == {r["album_id"] for r in rows(files[ALBUMS.name])}
    assert "rows" not in next(f for f in data["files"] if f["file"] == "raw/search.json")


# ---- paging and batching


def test_paging_and_batches_stay_within_the_documented_limits(local_lake: Lake) -> None:
    catalog = Catalog()
    catalog.bulk("Bulky", albums=130, tracks_per_album=2)
    with spotify_api(catalog) as fake:
        data = ingest(local_lake, fake, artists=["Bulky"])
        searches = fake.calls("/v1/search")
        assert len(searches) == 3  # 131 results (one null) in pages of 50
        assert fake.oversize == 0
        for resource, limit in BATCH_LIMITS.items():
            assert fake.batches[resource], resource
            assert max(fake.batches[resource]) <= limit, resource
        assert fake.batches["albums"] == [20] * 6 + [10]
        assert fake.batches["tracks"] == [50] * 5 + [10]
        assert fake.batches["audio-features"] == [100, 100, 60]
        assert fake.batches["artists"] == [1]
    assert data["counts"]["album_rows"] == 260
    years = {r["release_date"] for r in rows(staged(local_lake)[ALBUMS.name])}
    assert "2000-01-01 00:00:00 UTC" in years


def test_album_search_stops_at_the_apis_offset_cap(fake: FakeSpotify) -> None:
    fake.catalog.bulk("Prolific", albums=1100, tracks_per_album=0)
    with SpotifyClient(CLIENT_ID, CLIENT_SECRET, api_url=fake.api_url, token_url=fake.token_url) as client:
        pages = list(client.search_albums("Prolific"))
        notes = client.notes
    assert len(pages) == 20
    assert sum(len(p) for p in pages) == 999  # 1,000 results, the first one null
    assert all(c.status == 200 for c in fake.calls("/v1/search"))
    assert notes == ["album search for 'Prolific' matched 1,101 albums; the API returns the first 1,000 only"]


def test_playlist_tracks_are_paged_and_their_albums_fetched(local_lake: Lake) -> None:
    catalog = Catalog()
    catalog.bulk("Mixer", albums=75, tracks_per_album=2)
    wanted = [t for album in list(catalog.albums.values()) for t in album.tracks]
    catalog.playlists["37i9dQZF1DXcBWIGoYBM5M"] = [*(t.id for t in wanted), None, wanted[0].id]
    with spotify_api(catalog) as fake:
        data = ingest(
            local_lake, fake, artists=None, playlist="https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=x"
        )
        assert len(fake.calls("/v1/playlists/37i9dQZF1DXcBWIGoYBM5M/tracks")) == 2  # 153 items, 100 a page
        assert fake.calls("/v1/tracks") == []  # the playlist already holds popularity and explicit
        assert max(fake.batches["albums"]) <= 20
    assert data["source"] == {"playlist": "37i9dQZF1DXcBWIGoYBM5M"}
    albums = rows(staged(local_lake)[ALBUMS.name])
    assert [r["track_id"] for r in albums] == [t.id for t in wanted]  # playlist order, the repeat once
    assert albums[0]["album_name"] == "Mixer Volume 0"
    assert albums[0]["label"] == "Test Records"
    assert data["counts"] == {"albums": 75, "album_rows": 150, "tracks": 150, "artists": 1, "features": 150}
    assert data["notes"] == ["2 playlist items skipped (local files, podcast episodes or removed tracks)"]


# ---- rate limits, server errors, transport errors


def test_429_waits_for_retry_after_then_succeeds(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/albums", Fault(429, headers={"Retry-After": "2"}))
    sleeps = Sleeps()
    data = ingest(local_lake, fake, sleeps)
    assert sleeps == [2.0]
    assert data["api"]["rate_limit_waited_seconds"] == 2.0
    assert set(staged(local_lake)) == FILES


def test_429_beyond_the_wait_budget_fails_at_once(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/tracks", Fault(429, headers={"Retry-After": "86400"}))
    sleeps = Sleeps()
    with pytest.raises(
        ServiceUnavailable, match=r"^Spotify API GET /v1/tracks is rate limited \(HTTP 429, Retry-After 86400 s\)"
    ):
        ingest(local_lake, fake, sleeps)
    assert sleeps == []
    assert_nothing_landed(local_lake)


@pytest.mark.parametrize("fault", [Fault(503), Fault(drop=True)], ids=["http-503", "dropped-connection"])
def test_server_and_transport_errors_are_retried_with_backoff(
    local_lake: Lake, fake: FakeSpotify, fault: Fault
) -> None:
    fake.fail("/v1/tracks", fault, times=2)
    sleeps = Sleeps()
    data = ingest(local_lake, fake, sleeps)
    assert sleeps == [1.0, 2.0]
    assert data["api"]["retries"] == 2
    assert data["counts"]["tracks"] == 62


def test_persistent_5xx_is_a_clear_error_and_nothing_lands(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/artists", Fault(502), times=100)
    sleeps = Sleeps()
    with pytest.raises(ServiceUnavailable) as caught:
        ingest(local_lake, fake, sleeps)
    assert caught.value.one_line().startswith(
        "Spotify API GET /v1/artists answered HTTP 502 5 times in a row: injected fault"
    )
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert_nothing_landed(local_lake)


def test_failure_after_earlier_endpoints_succeeded_leaves_no_staging_files(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/artists", Fault(404))
    with pytest.raises(NotFound, match=r"^Spotify API GET /v1/artists answered HTTP 404"):
        ingest(local_lake, fake)
    for earlier in ("/v1/albums", "/v1/tracks", "/v1/audio-features"):
        assert fake.calls(earlier), earlier
    assert_nothing_landed(local_lake)


def test_a_failed_upload_removes_what_the_batch_wrote(
    local_lake: Lake, fake: FakeSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = local_lake.storage.upload_file
    done: list[str] = []

    def flaky(path: Path, bucket: str, key: str, **kwargs: Any) -> Any:
        if len(done) == 2:
            raise ServiceUnavailable("the disk went away")
        done.append(key)
        return real(path, bucket, key, **kwargs)

    monkeypatch.setattr(local_lake.storage, "upload_file", flaky)
    with pytest.raises(ServiceUnavailable, match="the disk went away"):
        ingest(local_lake, fake)
    assert len(done) == 2
    assert staged(local_lake) == {}


# ---- degraded and malformed answers


def test_audio_features_403_is_skipped_with_a_note(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.features_status = 403
    data = ingest(local_lake, fake)
    files = staged(local_lake)
    assert set(files) == FILES
    assert files[FEATURES.name] == FEATURES.header + "\n"
    assert len(rows(files[ALBUMS.name])) == 62
    assert len(fake.calls("/v1/audio-features")) == 1  # no more batches after the first 403
    assert data["counts"]["features"] == 0
    assert data["notes"] == [
        "audio-features answered HTTP 403 (Spotify closed it to new apps on 2024-11-27): no features",
        f"{FEATURES.name} written with its header only",
    ]


def test_malformed_json_names_the_endpoint(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/albums", Fault(200, body=b'{"albums": [{"id": '))
    with pytest.raises(InvalidInput, match=r"^Spotify API GET /v1/albums answered HTTP 200 with malformed JSON"):
        ingest(local_lake, fake)
    assert_nothing_landed(local_lake)


def test_a_missing_field_names_the_endpoint_and_the_field(local_lake: Lake, fake: FakeSpotify) -> None:
    body = json.dumps({"artists": [{"id": spotify_id("artist:Drake"), "name": "Drake", "genres": []}]}).encode()
    fake.fail("/v1/artists", Fault(200, body=body))
    with pytest.raises(InvalidInput) as caught:
        ingest(local_lake, fake)
    assert caught.value.message == (
        "Spotify API GET /v1/artists: the response is missing the field 'artists[0].popularity'"
    )
    assert_nothing_landed(local_lake)


# ---- credentials and tokens


@pytest.mark.parametrize("status", [400, 401])
def test_bad_credentials_are_a_clear_error_without_the_secret(
    local_lake: Lake, fake: FakeSpotify, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake.token_status = status
    wrong = "wrong-secret-do-not-print-9f8e7d"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AccessDenied) as caught:
        ingest_spotify(local_lake.storage, settings_for(fake, client_secret=wrong), artists=["Drake"], environ={})
    text = caught.value.one_line() + json.dumps(caught.value.to_dict())
    assert f"rejected the client credentials (HTTP {status}: invalid_client: Invalid client secret)" in text
    assert "spotify.client_secret" in text
    for secret in (wrong, CLIENT_SECRET):
        assert secret not in text
        assert secret not in caplog.text
    assert fake.calls("/v1/") == []
    assert_nothing_landed(local_lake)


def test_api_errors_never_show_the_token(local_lake: Lake, fake: FakeSpotify, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotFound) as caught:
        ingest(local_lake, fake, artists=None, playlist="spotify:playlist:0000000000000000000000")
    text = caught.value.one_line()
    assert text.startswith("Spotify API GET /v1/playlists/0000000000000000000000/tracks answered HTTP 404")
    assert fake.tokens
    for token in fake.tokens:
        assert token not in text
        assert token not in caplog.text
    assert CLIENT_SECRET not in caplog.text


def test_a_401_gets_a_new_token_once(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/tracks", Fault(401))
    data = ingest(local_lake, fake)
    assert data["api"]["tokens"] == 2
    assert len(fake.calls("/api/token")) == 2


def test_a_second_401_in_a_row_is_an_error(local_lake: Lake, fake: FakeSpotify) -> None:
    fake.fail("/v1/tracks", Fault(401), times=2)
    with pytest.raises(AccessDenied, match=r"^Spotify API GET /v1/tracks answered HTTP 401"):
        ingest(local_lake, fake)
    assert_nothing_landed(local_lake)


def test_an_expired_token_is_renewed_before_the_call(fake: FakeSpotify) -> None:
    now = [1000.0]
    with SpotifyClient(
        CLIENT_ID, CLIENT_SECRET, api_url=fake.api_url, token_url=fake.token_url, clock=lambda: now[0]
    ) as client:
        assert len(list(client.artists([spotify_id("artist:Drake")]))) == 1
        now[0] += 3000  # still valid
        assert len(list(client.artists([spotify_id("artist:Adele")]))) == 1
        now[0] += 600  # past expires_in (3600 s)
        assert len(list(client.artists([spotify_id("artist:Adele")]))) == 1
    assert client.tokens == 2
    assert [c.status for c in fake.seen].count(401) == 0


def test_credentials_fall_back_to_spotify_environment_variables(local_lake: Lake, fake: FakeSpotify) -> None:
    settings = SpotifySettings(api_url=fake.api_url, token_url=fake.token_url)
    env = {"SPOTIFY_CLIENT_ID": CLIENT_ID, "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET}
    result = ingest_spotify(local_lake.storage, settings, artists=["Adele"], environ=env)
    assert result.counts["album_rows"] == 57
    with pytest.raises(ConfigError, match="no Spotify client credentials"):
        ingest_spotify(local_lake.storage, settings, artists=["Adele"], environ={})


def test_exactly_one_source_is_required(local_lake: Lake, fake: FakeSpotify) -> None:
    with pytest.raises(InvalidInput, match="not both"):
        ingest(local_lake, fake, playlist="abc")
    with pytest.raises(InvalidInput, match="not both"):
        ingest(local_lake, fake, artists=None)
    with pytest.raises(InvalidInput, match="no artist names"):
        ingest(local_lake, fake, artists=[" "])
    with pytest.raises(NotFound, match="no tracks for artists Nobody"):
        ingest(local_lake, fake, artists=["Nobody"])
    assert_nothing_landed(local_lake)


# ---- value formats


def test_value_helpers() -> None:
    assert release_timestamp("2015-06-09") == "2015-06-09 00:00:00 UTC"
    assert release_timestamp("1981-12") == "1981-12-01 00:00:00 UTC"
    assert release_timestamp("1967") == "1967-01-01 00:00:00 UTC"
    assert release_timestamp("0000") == ""
    assert release_timestamp("2015-02-30") == ""
    assert duration_sec(555_521) == "555.521"
    assert duration_sec(216_000) == "216"
    assert duration_sec(1_234_567) == "1234.567"
    assert duration_sec(100_010) == "100.01"
    assert split_artists(" Drake, Adele,,Drake ,") == ["Drake", "Adele"]
    for given in (
        "37i9dQZF1DXcBWIGoYBM5M",
        "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M",
        "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=abc",
        "https://open.spotify.com/intl-de/playlist/37i9dQZF1DXcBWIGoYBM5M",
    ):
        assert parse_playlist_id(given) == "37i9dQZF1DXcBWIGoYBM5M"
    with pytest.raises(InvalidInput):
        parse_playlist_id("../../etc/passwd")


# ---- the command


def test_cli_ingests_with_credentials_from_the_environment(local_lake: Lake, fake: FakeSpotify) -> None:
    overrides = ["-c", f"spotify.api_url={fake.api_url}", "-c", f"spotify.token_url={fake.token_url}"]
    env = {"SPOTIFY_CLIENT_ID": CLIENT_ID, "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET}
    proc = run_cli(
        *overrides, "ingest", "spotify", "--artists", "Drake,Adele", "-o", "json", lake=local_lake.root, env=env
    )
    data = json.loads(proc.stdout)
    assert {f["file"] for f in data["files"]} == FILES
    assert data["counts"]["album_rows"] == 62
    assert CLIENT_SECRET.encode() not in proc.stdout + proc.stderr
    assert set(staged(local_lake)) == FILES

    both = run_cli(
        *overrides,
        "ingest",
        "spotify",
        "--artists",
        "Drake",
        "--playlist",
        "x",
        lake=local_lake.root,
        env=env,
        check=False,
    )
    assert both.returncode == 2
    assert b"exactly one of --artists or --playlist" in both.stderr


def test_cli_error_is_one_line_without_the_secret(local_lake: Lake, fake: FakeSpotify) -> None:
    env = {"LAKEPORT_SPOTIFY__CLIENT_ID": CLIENT_ID, "LAKEPORT_SPOTIFY__CLIENT_SECRET": "not-the-secret-xyz"}
    proc = run_cli(
        "-c",
        f"spotify.api_url={fake.api_url}",
        "-c",
        f"spotify.token_url={fake.token_url}",
        "ingest",
        "spotify",
        "--playlist",
        "37i9dQZF1DXcBWIGoYBM5M",
        "-o",
        "json",
        lake=local_lake.root,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    error = json.loads(proc.stderr)["error"]
    assert error["type"] == "AccessDenied"
    assert "rejected the client credentials" in error["message"]
    assert b"not-the-secret-xyz" not in proc.stdout + proc.stderr
