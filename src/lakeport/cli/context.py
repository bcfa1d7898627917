"""What every command shares: the global options and the way to open the lake they point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import typer

from lakeport.lake import Lake
from lakeport.settings import parse_overrides


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class CLIState:
    lake_path: str | None = None
    output: OutputFormat = OutputFormat.text
    debug: bool = False
    overrides: list[str] = field(default_factory=list)

    def open_lake(self) -> Lake:
        """The lake, acting as its administrator; or, with ``iam.require_credentials``, as the user whose access
        key is in the environment or the lake's credentials file."""
        lake = Lake.open(self.lake_path, overrides=parse_overrides(self.overrides))
        if not lake.settings.iam.require_credentials:
            return lake
        from lakeport.errors import AccessDenied
        from lakeport.iam.credentials import find_credentials

        try:
            found = find_credentials(lake.root)
            principal = lake.iam.authenticate(found.access_key_id, found.secret_access_key)
        except AccessDenied as exc:
            lake.close()
            if exc.code != "InvalidClientTokenId":
                raise
            raise AccessDenied(
                f"access key {found.access_key_id} (from {found.source}) was not accepted",
                hint="check the key id and secret, and that the key is Active (lakeport iam list-access-keys)",
                code=exc.code,
            ) from None
        return lake.as_principal(principal)


def state(ctx: typer.Context) -> CLIState:
    root = ctx.find_root()
    if not isinstance(root.obj, CLIState):
        root.obj = CLIState()
    return root.obj


OutputOption = Annotated[
    OutputFormat | None,
    typer.Option("--output", "-o", help="text (default) or json", case_sensitive=False, show_default=False),
]


def output_of(ctx: typer.Context, override: OutputFormat | None) -> OutputFormat:
    """A command's own ``--output`` wins over the global one."""
    return override or state(ctx).output
