"""``lakeport serve``: the HTTP API (and, later, the web console) with the lake's background work beside it."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout

app = typer.Typer()


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="the address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="the port to listen on")] = 8080,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="serve only: run no triggers, resumes or alarm evaluations")
    ] = False,
    output: OutputOption = None,
) -> None:
    """Serve the lake over HTTP: the API under /api/v1 (OpenAPI at /api/v1/openapi.json), Prometheus metrics at
    /metrics; and run the triggers' scheduler beside it (rules, schedules, resuming interrupted executions).
    Ctrl-C stops both."""
    from lakeport.server import Server

    lake = state(ctx).open_lake()
    server = Server(lake, host=host, port=port, scheduler=not no_scheduler)
    emit(
        output_of(ctx, output),
        {"url": server.url, "api": f"{server.url}/api/v1", "lake": str(lake.root), "scheduler": not no_scheduler},
        lambda: stdout.print(
            f"lakeport serving {lake.root} at {server.url} (API: {server.url}/api/v1, Ctrl-C stops)", markup=False
        ),
    )
    server.run()
