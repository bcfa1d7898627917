"""docs/cli.md is generated from the command tree and must be current."""

from __future__ import annotations

from lakeport.cli.reference import render
from tests.conftest import REPO


def test_cli_reference_is_current() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run `make docs`"


def test_every_command_offers_json_output() -> None:
    text = render()
    sections = [s for s in text.split("\n## ")[1:] if s.startswith("`lakeport ")]
    assert len(sections) > 10
    for section in sections:
        title = section.split("`")[1]
        is_group = any(other.split("`")[1].startswith(title + " ") for other in sections)
        if not is_group:
            assert "`--output`, `-o`" in section, f"{title} lacks --output"
