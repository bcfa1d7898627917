"""``lakeport ingest``: pull data from external APIs into staging (the Spotify Web API, like the dataset author)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.cli.progress import stage_bar

app = typer.Typer(help="Ingest from external APIs into staging.", no_args_is_help=True)


@app.command("spotify")
def spotify(
    ctx: typer.Context,
    artists: Annotated[
        str | None,
        typer.Option("--artists", help='artist names, comma-separated ("Drake,Adele"): their albums by album search'),
    ] = None,
    playlist: Annotated[
        str | None,
        typer.Option("--playlist", help="a playlist id, spotify:playlist:ID or open.spotify.com link: its tracks"),
    ] = None,
    to: Annotated[
        str, typer.Option("--to", help="s3://bucket/prefix/, or a prefix in the default bucket")
    ] = "staging/spotify/",
    raw: Annotated[bool, typer.Option("--raw", help="also land the raw JSON responses under raw/")] = False,
    output: OutputOption = None,
) -> None:
    """Fetch from the Spotify Web API and land the four Kaggle-shaped CSVs in staging (all or nothing)."""
    from lakeport.datasets.spotify.ingest import ingest_spotify, split_artists

    if (artists is None) == (playlist is None):
        raise typer.BadParameter("give exactly one of --artists or --playlist", param_hint="'--artists' / '--playlist'")
    names = split_artists(artists) if artists is not None else None
    if names is not None and not names:
        raise typer.BadParameter("no artist names given", param_hint="'--artists'")
    fmt = output_of(ctx, output)
    lake = state(ctx).open_lake()
    with stage_bar("spotify", enabled=fmt is OutputFormat.text) as progress:
        result = ingest_spotify(
            lake.storage, lake.settings.spotify, artists=names, playlist=playlist, to=to, raw=raw, progress=progress
        )
    data = result.to_dict()

    def text() -> None:
        files: list[dict[str, Any]] = data["files"]
        table(
            ["file", "rows", "bytes"],
            [(f["file"], f.get("rows", ""), f["bytes"]) for f in files],
            title=f"Spotify Web API → {data['to']}",
        )
        api = data["api"]
        stdout.print(
            f"{data['counts']['album_rows']:,} tracks on {data['counts']['albums']:,} albums, "
            f"{data['counts']['artists']:,} artists; {api['requests']:,} API requests, {api['retries']} retries, "
            f"in {data['seconds']:.1f} s"
        )
        for note in data["notes"]:
            stdout.print(f"note: {note}", markup=False)

    emit(fmt, data, text)
