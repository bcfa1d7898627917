"""Files copied into the lake by other programs become object events, once each."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

from lakeport import Lake
from lakeport.storage import ObjectEvent
from lakeport.storage.local import LocalBackend


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_thousand_files_copied_by_an_outside_program(local_lake: Lake, tmp_path: Path) -> None:
    """Acceptance: 1,000 files copied into staging by `cp` give exactly 1,000 created events."""
    backend = local_lake.backend
    assert isinstance(backend, LocalBackend)
    bucket = local_lake.settings.storage.default_bucket
    source = tmp_path / "incoming"
    source.mkdir()
    for i in range(1000):
        (source / f"part-{i:04d}.csv").write_text(f"id,value\n{i},{i * i}\n")

    stop, ready = threading.Event(), threading.Event()
    seen: list[ObjectEvent] = []
    watcher = local_lake.watcher()
    thread = threading.Thread(target=watcher.run, args=(stop,), kwargs={"on_events": seen.extend, "ready": ready})
    thread.start()
    try:
        assert ready.wait(30)
        dest = backend.root / bucket / "staging" / "drop"
        subprocess.run(["cp", "-r", str(source), str(dest)], check=True)
        _wait_for(lambda: len(local_lake.events.read(limit=5000)) >= 1000)
        time.sleep(1.0)  # let any late notifications arrive: they must be deduplicated
        # A full rescan must not add anything either.
        assert watcher.scan(bucket).events == []
    finally:
        stop.set()
        thread.join(30)
    events = local_lake.events.read(limit=5000)
    assert len(events) == 1000
    assert all(e.event_name == "ObjectCreated:Put" for e in events)
    keys = {e.key for e in events}
    assert keys == {f"staging/drop/part-{i:04d}.csv" for i in range(1000)}
    assert len(seen) == 1000


def test_watcher_records_removals_and_changes(local_lake: Lake) -> None:
    backend = local_lake.backend
    assert isinstance(backend, LocalBackend)
    bucket = local_lake.settings.storage.default_bucket
    folder = backend.root / bucket / "staging"
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=local_lake.watcher().run, args=(stop,), kwargs={"ready": ready})
    thread.start()
    try:
        assert ready.wait(30)
        (folder / "a.csv").write_text("v1\n")
        _wait_for(lambda: len(local_lake.events.read()) == 1)
        (folder / "a.csv").write_text("version two\n")
        _wait_for(lambda: len(local_lake.events.read()) == 2)
        (folder / "a.csv").unlink()
        _wait_for(lambda: len(local_lake.events.read()) == 3)
        moved = folder.parent / "moved-in"
        moved.mkdir()
        (moved / "x.json").write_text("{}")
        shutil.move(str(moved), str(folder / "batch"))
        _wait_for(lambda: len(local_lake.events.read()) == 4)
    finally:
        stop.set()
        thread.join(30)
    events = local_lake.events.read()
    assert [(e.event_name, e.key) for e in events] == [
        ("ObjectCreated:Put", "staging/a.csv"),
        ("ObjectCreated:Put", "staging/a.csv"),
        ("ObjectRemoved:Delete", "staging/a.csv"),
        ("ObjectCreated:Put", "staging/batch/x.json"),
    ]
    assert events[1].size == len("version two\n")


def test_lakeport_writes_are_not_announced_twice_by_the_watcher(local_lake: Lake) -> None:
    bucket = local_lake.settings.storage.default_bucket
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=local_lake.watcher().run, args=(stop,), kwargs={"ready": ready})
    thread.start()
    try:
        assert ready.wait(30)
        for i in range(20):
            local_lake.storage.put_object(bucket, f"staging/own-{i}.txt", b"%d" % i)
        time.sleep(2.0)  # past the settle time: the watcher has seen every file
    finally:
        stop.set()
        thread.join(30)
    events = local_lake.events.read()
    assert len(events) == 20
    assert {e.source for e in events} == {"lakeport"}
