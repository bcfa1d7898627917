"""Generate ``docs/cli.md`` from the command tree itself, so the reference cannot drift from ``--help``.

``python -m lakeport.cli.reference > docs/cli.md`` rewrites it; a test fails when it is stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer.main

from lakeport.cli.main import mount

HEADER = """# lakeport CLI reference

Generated from the command tree by `python -m lakeport.cli.reference > docs/cli.md` (a test checks it is
current). Every command also accepts the global options and `--output json`.
"""


def _walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, [*path, name])


def _param_line(param: Any) -> str:
    names = ", ".join(f"`{n}`" for n in (*param.opts, *param.secondary_opts))
    kind = "argument" if param.param_type_name == "argument" else "option"
    text = " ".join((getattr(param, "help", None) or "").split())
    default = param.default
    shown = (
        ""
        if default in (None, False, (), []) or kind == "argument"
        else f" (default: `{getattr(default, 'value', default)}`)"
    )
    required = " (required)" if param.required else ""
    if kind == "argument":
        return f"- `{(param.name or '').upper()}`{required}: {text}"
    return f"- {names}{required}: {text}{shown}"


def render() -> str:
    root = typer.main.get_command(mount())
    parts = [HEADER]
    for path, command in _walk(root, ["lakeport"]):
        title = " ".join(path)
        parts.append(f"\n## `{title}`\n")
        doc = " ".join((command.help or "").split())
        if doc:
            parts.append(f"{doc}\n")
        params = [p for p in command.params if p.name not in ("help",)]
        if params:
            parts.append("")
            parts.extend(_param_line(p) for p in params)
            parts.append("")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(parts))
    return text.rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
