"""``lakeport datasets``: generate the Spotify sample, load the real Kaggle files, or load any folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.cli.progress import stage_bar

app = typer.Typer(
    help="Datasets: the Spotify 2023 sample, the Kaggle files, or any folder of files.", no_args_is_help=True
)
spotify_app = typer.Typer(
    help="The Spotify Dataset 2023 (Kaggle): generate it, or load the real files.", no_args_is_help=True
)
app.add_typer(spotify_app, name="spotify")

To = Annotated[
    str | None,
    typer.Option("--to", help="s3://bucket/prefix/, or a prefix in the default bucket (default: staging/spotify/)"),
]


@spotify_app.command("generate")
def generate(
    ctx: typer.Context,
    scale: Annotated[float, typer.Option(help="1 ≈ the real dataset (438k tracks); 0.001 to 100")] = 0.1,
    seed: Annotated[int, typer.Option(help="the same seed always gives the same files")] = 0,
    profile: Annotated[str, typer.Option(help="kaggle (the five raw files) or preprocessed (the trimmed three)")] = (
        "kaggle"
    ),
    to: To = None,
    out: Annotated[Path | None, typer.Option("--out", help="write to this local folder instead of the lake")] = None,
    output: OutputOption = None,
) -> None:
    """Generate the dataset's files, indistinguishable in format from the real ones, into staging or a folder."""
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake

    fmt = output_of(ctx, output)
    generator = SpotifyGenerator(scale=scale, seed=seed, profile=profile)
    with stage_bar("generating", enabled=fmt is OutputFormat.text) as progress:
        if out is not None:
            result = generator.generate(out, progress=progress)
            data = result.to_dict() | {"to": str(out)}
        else:
            lake = state(ctx).open_lake()
            data = generate_into_lake(lake.storage, generator, to or "staging/spotify/", progress=progress).to_dict()

    def text() -> None:
        table(
            ["file", "rows", "bytes"],
            [(f["file"], f["rows"], f["bytes"]) for f in data["files"]],
            title=f"Spotify 2023 sample, scale {scale}, seed {seed} → {data['to']}",
        )
        stdout.print(f"generated in {data['seconds']:.1f} s")

    emit(fmt, data, text)


@spotify_app.command("load")
def load_spotify(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the downloaded Kaggle zip, or the folder it unpacks to")],
    to: To = None,
    output: OutputOption = None,
) -> None:
    """Check the real Kaggle files (names and headers) and upload them to staging."""
    from lakeport.datasets.spotify.kaggle import load_kaggle

    lake = state(ctx).open_lake()
    result = load_kaggle(lake.storage, path, to or "staging/spotify/")
    _show_load(ctx, output, result.to_dict())


@app.command("load")
def load_any(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="a folder (or zip) of CSV, JSON or Parquet files, or one file")],
    to: Annotated[str, typer.Option("--to", help="s3://bucket/prefix/ or a prefix such as staging/NAME/")],
    output: OutputOption = None,
) -> None:
    """Check and upload any dataset (CSV, JSON, Parquet) to the lake."""
    from lakeport.datasets.loader import load_folder

    lake = state(ctx).open_lake()
    result = load_folder(lake.storage, path, to)
    _show_load(ctx, output, result.to_dict())


def _show_load(ctx: typer.Context, output: OutputFormat | None, data: dict[str, object]) -> None:
    files = data.get("files", [])
    notes = data.get("notes", [])
    assert isinstance(files, list)
    assert isinstance(notes, list)

    def text() -> None:
        table(["file", "uri", "bytes"], [(f["file"], f["uri"], f["bytes"]) for f in files], title="loaded")
        for note in notes:
            stdout.print(f"note: {note}", markup=False)

    emit(output_of(ctx, output), data, text)
