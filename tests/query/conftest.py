"""Fixtures of the query sandbox suites (tests/query/test_sandbox_*.py): a world of sentinel files and
sandboxed connections into it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakeport.query.engine import connect
from tests.query.sandbox_kit import (
    Sandbox,
    World,
    build_world,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("sandbox"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(built.cwd)  # relative paths (and DuckDB's default temp directory) resolve inside the world
        patch.setenv("HOME", str(built.home))  # ``~`` expands into the world
        yield built


@pytest.fixture(scope="module")
def sandbox(world: World) -> Iterator[Sandbox]:
    """One connection shared by the attempts of this module, as a long-lived service connection would be."""
    con = connect([world.allowed])
    yield Sandbox(con, world)
    con.close()


@pytest.fixture
def fresh(world: World) -> Iterator[Sandbox]:
    """A connection of its own, for engine-level statements whose effects (or errors) depend on history."""
    con = connect([world.allowed])
    yield Sandbox(con, world)
    con.close()
