"""``lakeport init``: create a lake."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout
from lakeport.lake import AREAS, Lake
from lakeport.settings import parse_overrides

app = typer.Typer()


@app.command("init")
def init(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="folder for the new lake (created if missing)")] = ".",
    storage_url: Annotated[str | None, typer.Option(help="where objects live: a folder, file:///path or s3://")] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="S3-compatible endpoint URL")] = None,
    bucket: Annotated[str | None, typer.Option(help="name of the default bucket")] = None,
    metadata_url: Annotated[
        str | None, typer.Option(help="metadata database URL (sqlite:/// or postgresql://)")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Create a lake: lakeport.toml, the metadata database, the default bucket with staging/, warehouse/, results/,
    and an access key for the administrator in .lakeport/credentials (mode 0600)."""
    values: dict[str, str] = parse_overrides(state(ctx).overrides)
    for name, value in (
        ("storage.url", storage_url),
        ("storage.endpoint_url", endpoint_url),
        ("storage.default_bucket", bucket),
        ("metadata.url", metadata_url),
    ):
        if value is not None:
            values[name] = value
    lake = Lake.init(path, values=values)
    from lakeport.iam.credentials import credentials_path, ensure_admin_credentials

    written = ensure_admin_credentials(lake.iam, lake.root)
    bucket_name = lake.settings.storage.default_bucket
    areas = [f"s3://{bucket_name}/{a}" for a in AREAS]
    data: dict[str, object] = {
        "lake": str(lake.root),
        "storage": lake.backend.location,
        "bucket": bucket_name,
        "areas": areas,
        "metadata": lake.db.engine.url.render_as_string(hide_password=True),
        "credentials": str(credentials_path(lake.root)),
        "credentials_created": written is not None,
    }

    def text() -> None:
        stdout.print(f"lake ready at {data['lake']}")
        stdout.print(f"  objects:  {data['storage']}")
        stdout.print(f"  metadata: {data['metadata']}")
        if written is not None:
            stdout.print(f"  credentials of {lake.iam.admin.name}: {data['credentials']} (mode 0600)")
        for area in areas:
            stdout.print(f"  {area}")

    emit(output_of(ctx, output), data, text)
    lake.close()
