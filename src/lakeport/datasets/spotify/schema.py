"""The files and exact column orders of the Kaggle "Spotify Dataset 2023" and of the tutorials' trimmed variant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpotifyFile:
    name: str
    role: str
    columns: tuple[str, ...]

    @property
    def header(self) -> str:
        return ",".join(self.columns)


ARTIST_COLUMNS = 12
ALBUM_ARTIST_SLOTS = 12
GENRE_SLOTS = 7

ALBUMS = SpotifyFile(
    "spotify-albums_data_2023.csv",  # the one file named with a hyphen
    "albums",
    (
        "track_name",
        "track_id",
        "track_number",
        "duration_ms",
        "album_type",
        "artists",
        "total_tracks",
        "album_name",
        "release_date",
        "label",
        "album_popularity",
        "album_id",
        "artist_id",
        *(f"artist_{i}" for i in range(ALBUM_ARTIST_SLOTS)),
        "duration_sec",
    ),
)

ARTISTS = SpotifyFile(
    "spotify_artist_data_2023.csv",
    "artists",
    (
        "id",
        "name",
        "artist_popularity",
        "artist_genres",
        "followers",
        *(f"genre_{i}" for i in range(GENRE_SLOTS)),
    ),
)

TRACKS = SpotifyFile("spotify_tracks_data_2023.csv", "tracks", ("id", "track_popularity", "explicit"))

FEATURES = SpotifyFile(
    "spotify_features_data_2023.csv",
    "features",
    (
        "danceability",
        "energy",
        "key",
        "loudness",
        "mode",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
        "tempo",
        "type",
        "id",
        "uri",
        "track_href",
        "analysis_url",
        "duration_ms",
        "time_signature",
    ),
)

MERGED = SpotifyFile(
    "spotify_data_12_20_2023.csv",
    "merged",
    (
        "album_id",
        "album_name",
        "album_popularity",
        "album_type",
        "artists",
        *(f"artist_{i}" for i in range(5)),
        "artist_id",
        "duration_sec",
        "label",
        "release_date",
        "total_tracks",
        "track_id",
        "track_name",
        "track_number",
        "artist_genres",
        "artist_popularity",
        "followers",
        "name",
        *(f"genre_{i}" for i in range(5)),
        "acousticness",
        "analysis_url",
        "danceability",
        "duration_ms",
        "energy",
        "instrumentalness",
        "key",
        "liveness",
        "loudness",
        "mode",
        "speechiness",
        "tempo",
        "time_signature",
        "track_href",
        "type",
        "uri",
        "valence",
        "explicit",
        "track_popularity",
        "release_year",
        "release_month",
    ),
)

KAGGLE_FILES: tuple[SpotifyFile, ...] = (ALBUMS, ARTISTS, TRACKS, FEATURES, MERGED)

# The trimmed files many Glue Studio walkthroughs use instead of the raw ones.
PRE_ALBUMS = SpotifyFile(
    "albums.csv",
    "albums",
    (
        "track_name",
        "track_id",
        "duration_ms",
        "album_name",
        "release_date",
        "label",
        "album_popularity",
        "album_id",
        "artist_id",
        "duration_sec",
    ),
)
PRE_ARTISTS = SpotifyFile("artists.csv", "artists", ("id", "name", "artist_popularity", "followers", "genre"))
PRE_TRACKS = SpotifyFile("track.csv", "tracks", ("track_id", "track_popularity", "explicit"))
PREPROCESSED_FILES: tuple[SpotifyFile, ...] = (PRE_ALBUMS, PRE_ARTISTS, PRE_TRACKS)

PROFILES: dict[str, tuple[SpotifyFile, ...]] = {"kaggle": KAGGLE_FILES, "preprocessed": PREPROCESSED_FILES}

# Row counts of the real files at scale 1 (reference: 438,938 tracks, 78,172 albums, 37,012 artists).
SCALE1_TRACKS = 438_938
SCALE1_ALBUMS = 78_172
SCALE1_ARTISTS = 37_012
