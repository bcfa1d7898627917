"""How the benchmarks print their tables: rich in a terminal, or GitHub Markdown for docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table


class Report:
    """Tables printed with rich, or as GitHub Markdown (``--markdown``)."""

    def __init__(self, markdown: bool, *, width: int = 140) -> None:
        self.console = Console(width=width)
        self.markdown = markdown

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.markdown:
            lines = [f"{title}:", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            print("\n".join(lines) + "\n")
            return
        table = Table(*header, title=title)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)
