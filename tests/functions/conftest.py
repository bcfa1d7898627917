"""A lake with a module of handlers in its ``functions/`` folder (a fresh module name per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake

HANDLERS = """
import time


class CustomError(Exception):
    pass


def greet(event, context):
    return {
        "hello": event.get("who"),
        "function": context.function_name,
        "arn": context.invoked_function_arn,
        "request": context.aws_request_id,
        "left_ms": context.get_remaining_time_in_millis(),
    }


def boom(event, context):
    raise CustomError("no luck for " + str(event.get("who")))


def slow(event, context):
    time.sleep(event.get("seconds", 5))
    return "late"


def not_json(event, context):
    return {1, 2}


def echo(event, context):
    return event
"""


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


@pytest.fixture
def module(lake: Lake) -> str:
    """The name of a handler module written into the lake's functions/ folder."""
    name = f"handlers_{uuid.uuid4().hex[:8]}"
    folder = lake.root / "functions"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(HANDLERS, encoding="utf-8")
    return name
