"""``lakeport config``: show the resolved settings and where each value came from."""

from __future__ import annotations

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, table
from lakeport.settings import SECRET_KEYS, env_name

app = typer.Typer(help="Show the lake's settings.", no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context, output: OutputOption = None) -> None:
    """Print every setting: its value, its source (flag, env, lakeport.toml, default) and its env variable."""
    lake = state(ctx).open_lake()
    rows = []
    for item in lake.settings.resolved():
        dotted = f"{item.section}.{item.key}"
        value = "****" if dotted in SECRET_KEYS and item.value else item.value
        rows.append(
            {
                "name": dotted,
                "value": value,
                "source": item.source,
                "env": env_name(item.section, item.key),
                "description": item.doc,
            }
        )
    lake.close()
    emit(
        output_of(ctx, output),
        {"lake": str(lake.root), "settings": rows},
        lambda: table(
            ["setting", "value", "source", "environment variable"],
            [(r["name"], r["value"], r["source"], r["env"]) for r in rows],
            title=f"settings of {lake.root}",
        ),
    )
