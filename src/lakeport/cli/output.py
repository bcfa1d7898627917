"""One renderer, two formats: rich text for people, ``--output json`` for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from lakeport.cli.context import OutputFormat


def _console(*, to_stderr: bool = False) -> Console:
    """A console that is as wide as the terminal, or 160 columns when output goes to a file or pipe."""
    probe = Console(stderr=to_stderr)
    return Console(stderr=to_stderr, highlight=False, soft_wrap=True, width=None if probe.is_terminal else 160)


stdout = _console()
stderr = _console(to_stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def emit(fmt: OutputFormat, data: Any, text: Callable[[], None] | None = None) -> None:
    """Print ``data`` as JSON, or call ``text`` to print it for people (plain ``str(data)`` without one)."""
    if fmt is OutputFormat.json:
        sys.stdout.write(to_json(data) + "\n")
        sys.stdout.flush()
        return
    if text is not None:
        text()
    elif data is not None:
        stdout.print(data, markup=False)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    out = Table(*columns, title=title, show_edge=False, header_style="bold")
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    stdout.print(out)


def human_size(size: float) -> str:
    for unit in ("Bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}" if unit != "Bytes" else f"{int(size)} Bytes"
        size /= 1024
    return f"{size:.1f} TiB"
