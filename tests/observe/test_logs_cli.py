"""``lakeport logs`` as a user runs it: groups, streams, tail with --since/--filter/--output json, retention, and
``tail --follow`` in a real process that prints an event written after it started."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.cli.logs_cmd import parse_since
from lakeport.errors import InvalidInput
from lakeport.metadata.times import now, utc
from lakeport.observe.log_shapes import to_ms
from tests.conftest import run_cli

GROUP = "/lakeport/jobs/nightly"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake_root = tmp_path_factory.mktemp("logs-cli") / "lake"
    with Lake.init(lake_root, environ={}) as lake:
        two_hours_ago = to_ms(now() - timedelta(hours=2))
        lake.logs.put_log_events(GROUP, "jr_old", [{"timestamp": two_hours_ago, "message": "old run started"}])
        lake.logs.put(GROUP, "jr_new", "run started")
        lake.logs.put(GROUP, "jr_new", "run FAILED: ERROR no rows", level="ERROR")
        lake.logs.put("/lakeport/states/pipeline", "ex-1", "execution started")
    return lake_root


def test_parse_since() -> None:
    reference = now()
    assert parse_since("10m", reference=reference) == reference - timedelta(minutes=10)
    assert parse_since("2d", reference=reference) == reference - timedelta(days=2)
    assert parse_since("2026-01-31T08:00:00Z") == utc(parse_since("2026-01-31T08:00:00+00:00"))
    with pytest.raises(InvalidInput, match="--since"):
        parse_since("yesterday")


def test_groups_streams_and_retention(root: Path) -> None:
    groups = json.loads(run_cli("logs", "groups", "--prefix", "/lakeport/jobs/", "-o", "json", lake=root).stdout)
    assert [g["logGroupName"] for g in groups["logGroups"]] == [GROUP]
    streams = run_cli(
        "logs", "streams", GROUP, "--order-by", "LastEventTime", "--descending", lake=root
    ).stdout.decode()
    assert streams.index("jr_new") < streams.index("jr_old")
    bad = run_cli("logs", "put-retention", GROUP, "2", lake=root, check=False)
    assert bad.returncode != 0
    assert b"1, 3, 5, 7, 14" in bad.stderr
    run_cli("logs", "put-retention", GROUP, "14", lake=root)
    run_cli("logs", "delete-group", "/lakeport/states/pipeline", lake=root)
    text = run_cli("logs", "groups", lake=root).stdout.decode()
    assert "14 days" in text
    assert "/lakeport/states/pipeline" not in text


def test_tail_since_filter_and_json(root: Path) -> None:
    recent = run_cli("logs", "tail", GROUP, lake=root).stdout.decode().splitlines()  # --since 10m by default
    assert len(recent) == 2
    assert recent[0].endswith("jr_new INFO  run started")
    assert "jr_new ERROR run FAILED" in recent[1]
    everything = run_cli("logs", "tail", GROUP, "--since", "3h", "-o", "json", lake=root).stdout
    events = json.loads(everything)["events"]
    assert next(e["message"] for e in events) == "old run started"
    assert set(events[0]) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    errors = run_cli("logs", "tail", GROUP, "--since", "3h", "--filter", '{ $.level = "ERROR" }', lake=root)
    assert errors.stdout.decode().count("\n") == 1
    started = run_cli("logs", "tail", GROUP, "--since", "3h", "--filter", '"run started" -old', lake=root)
    assert started.stdout.decode().count("\n") == 1


def test_tail_follow_prints_new_events_until_stopped(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lakeport.cli.main",
            "--lake",
            str(root),
            "logs",
            "tail",
            GROUP,
            "--follow",
            "--filter",
            "?started ?arrived",
            "--interval",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert "run started" in _read_line(proc)  # what was there
        with Lake.open(root) as lake:
            lake.logs.put(GROUP, "jr_live", "not printed: filtered out")
            lake.logs.put(GROUP, "jr_live", "a new event arrived", level="WARN")
        line = _read_line(proc)
        assert "jr_live" in line
        assert "WARN  a new event arrived" in line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _read_line(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            return proc.stdout.readline().decode()
        if proc.poll() is not None:
            raise AssertionError(f"tail --follow exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    raise AssertionError("tail --follow printed nothing in time")
