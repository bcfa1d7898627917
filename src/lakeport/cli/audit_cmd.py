"""``lakeport audit``: the audit trail of authorization decisions (CloudTrail's role)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, table
from lakeport.errors import InvalidInput
from lakeport.metadata.times import iso, now, utc

app = typer.Typer()
_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str) -> datetime:
    """``30m``, ``2h``, ``7d`` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    match = _RELATIVE.match(value.strip())
    if match:
        return now() - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        raise InvalidInput(f"--since {value!r} is not a time", hint="use 30m, 2h, 7d or 2026-11-21T10:00:00Z") from None


@app.command("audit")
def audit(
    ctx: typer.Context,
    principal: Annotated[str | None, typer.Option("--principal", help="a principal ARN or name")] = None,
    action: Annotated[str | None, typer.Option("--action", help="an action, e.g. s3:GetObject")] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="Allow, Deny (either kind), ExplicitDeny or ImplicitDeny")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="30m, 2h, 7d, or an ISO 8601 time")] = None,
    limit: Annotated[int, typer.Option("--limit", help="newest events to show")] = 50,
    output: OutputOption = None,
) -> None:
    """Show authorization decisions, newest first: who, what, on which resource, and which statement decided."""
    lake = state(ctx).open_lake()
    events = lake.iam.lookup_events(
        principal=principal, action=action, decision=decision, since=parse_since(since) if since else None, limit=limit
    )
    lake.close()
    emit(
        output_of(ctx, output),
        {"Events": [e.to_dict() for e in events]},
        lambda: table(
            ["time", "principal", "action", "resource", "decision", "statement"],
            [
                (
                    iso(e.time),
                    e.principal,
                    e.action,
                    e.resource,
                    e.decision,
                    f"{e.policy} {e.statement}" if e.policy else "",
                )
                for e in events
            ],
        ),
    )
