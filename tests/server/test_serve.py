"""``lakeport serve`` as a real process on a loopback port: the API answers, and the triggers run beside it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lakeport import Lake
from tests.support.serve import serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "lake"
    with Lake.init(root) as lake:
        lake.states.create_state_machine("hello", {"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "End": True}}})
        lake.triggers.put_rule("landing", object_pattern="prefix=landing/", target_machine="hello")
    with serving(root) as (url, _):
        yield root, url


def test_the_api_answers_in_one_error_shape(served: tuple[Path, str]) -> None:
    root, url = served
    health = httpx.get(f"{url}/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["lake"] == str(root)
    assert health["background"]["scheduler"] == "running"
    missing = httpx.get(f"{url}/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NotFound"
    assert httpx.get(f"{url}/api/v1/openapi.json").json()["info"]["title"] == "lakeport"
    assert httpx.get(f"{url}/metrics").status_code == 200


def test_files_dropped_into_the_lake_start_the_rules_target(served: tuple[Path, str]) -> None:
    root, _ = served
    # Written by another program straight into the folder: the server's scheduler scans, sees it, starts the
    # machine (and would resume an execution whose runner died).
    with Lake.open(root) as lake:
        assert lake.objects_root is not None
        landing = lake.objects_root / "lakeport" / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    (landing / "one.csv").write_text("a\n1\n")
    deadline = time.monotonic() + 60
    with Lake.open(root) as lake:
        while not (found := lake.states.list_executions("hello")):
            assert time.monotonic() < deadline, "the server's scheduler never started the rule's target"
            time.sleep(0.2)
        done = lake.states.wait(found[0].arn, timeout=30)
    assert done.status == "SUCCEEDED"
    assert json.loads(done.input)["detail"]["object"]["key"] == "landing/one.csv"
