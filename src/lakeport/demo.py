"""``make demo``: the reference pipeline, as far as lakeport has grown.

Today: create a lake, land a small Spotify-shaped sample in ``staging/`` (the files and headers of the Kaggle
dataset, a handful of made-up rows), list it, and show the object events those files produced. Later issues
add the ETL job, the crawler, queries, the state machine and the dashboard to this same script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.table import Table

from lakeport import Lake
from lakeport.cli.output import stdout as console
from lakeport.errors import LakeportError

# File names and column orders of the Kaggle "Spotify Dataset 2023"; the rows are invented for the demo.
SAMPLE: dict[str, str] = {
    "spotify_artist_data_2023.csv": (
        "id,name,artist_popularity,artist_genres,followers,genre_0,genre_1,genre_2,genre_3,genre_4,genre_5,genre_6\n"
        "3TVXtAsR1Inumwj472S9r4,Demo Artist One,88,\"['canadian hip hop', 'rap']\",81520471,"
        "canadian hip hop,rap,,,,,\n"
        "4dpARuHxo51G3z768sgnrY,Démo Artïst Two,79,['pop'],30000000,pop,,,,,,\n"
    ),
    "spotify-albums_data_2023.csv": (
        "track_name,track_id,track_number,duration_ms,album_type,artists,total_tracks,album_name,release_date,"
        "label,album_popularity,album_id,artist_id,artist_0,artist_1,artist_2,artist_3,artist_4,artist_5,"
        "artist_6,artist_7,artist_8,artist_9,artist_10,artist_11,duration_sec\n"
        "First Light,1aaaaaaaaaaaaaaaaaaaaa,1,215000,album,['Demo Artist One'],2,Night Drive,"
        "2023-06-09 00:00:00 UTC,Demo Records,61,7aaaaaaaaaaaaaaaaaaaaa,3TVXtAsR1Inumwj472S9r4,"
        "Demo Artist One,,,,,,,,,,,,215\n"
        "King'S Calling,1bbbbbbbbbbbbbbbbbbbbb,2,187654,album,\"['Demo Artist One', 'Démo Artïst Two']\",2,"
        "Night Drive,2023-06-09 00:00:00 UTC,Demo Records,61,7aaaaaaaaaaaaaaaaaaaaa,3TVXtAsR1Inumwj472S9r4,"
        "Demo Artist One,Démo Artïst Two,,,,,,,,,,,187.654\n"
        '"Rain, Again",1ccccccccccccccccccccc,1,201000,single,[\'Démo Artïst Two\'],1,"Rain, Again",'
        "2021-01-01 00:00:00 UTC,Los Años Luz Discos,40,7bbbbbbbbbbbbbbbbbbbbb,4dpARuHxo51G3z768sgnrY,"
        "Démo Artïst Two,,,,,,,,,,,,201\n"
    ),
    "spotify_tracks_data_2023.csv": (
        "id,track_popularity,explicit\n"
        "1aaaaaaaaaaaaaaaaaaaaa,71,false\n"
        "1bbbbbbbbbbbbbbbbbbbbb,64,true\n"
        "1ccccccccccccccccccccc,12,false\n"
    ),
}


def run(lake_path: Path) -> None:
    started = time.perf_counter()
    lake = Lake.init(lake_path)
    bucket = lake.settings.storage.default_bucket
    console.print(f"[bold]lake[/] {lake.root}  (objects: {lake.backend.location})")

    for name, text in SAMPLE.items():
        lake.storage.put_object(bucket, f"staging/spotify/{name}", text.encode("utf-8"))

    listing = Table("key", "size", "ETag", "content type", title=f"s3://{bucket}/staging/", show_edge=False)
    for info in lake.storage.iter_objects(bucket, prefix="staging/"):
        listing.add_row(info.key, str(info.size), info.etag, info.content_type)
    console.print(listing)

    events = Table("id", "event", "object", "source", title="object events", show_edge=False)
    for event in lake.events.read(bucket=bucket, prefix="staging/"):
        events.add_row(str(event.id), event.event_name, f"s3://{event.bucket}/{event.key}", event.source)
    console.print(events)
    console.print(f"demo finished in {time.perf_counter() - started:.2f} s")
    lake.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakeport.demo", description=__doc__)
    parser.add_argument("lake", nargs="?", default="demo-lake", help="folder for the demo lake")
    args = parser.parse_args(argv)
    try:
        run(Path(args.lake))
    except LakeportError as exc:
        console.print(f"[bold red]error:[/] {exc.one_line()}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
