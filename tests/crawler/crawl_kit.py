"""Helpers for the crawler run, policy and robustness tests: data, snapshots, gates, subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition, CrawlRun, register_classifier
from lakeport.crawler.classifiers import ClassifierOptions, FileShape
from lakeport.crawler.sampling import Sample
from lakeport.crawler.schema import crawler_runs, crawlers
from lakeport.storage.local import LocalBackend

REPO = Path(__file__).resolve().parents[2]
BUCKET = "lakeport"

Snapshot = dict[str, Any]


# ---- data


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def put(lake: Lake, key: str, data: bytes) -> None:
    """Write one object through the storage service (so an object event is recorded)."""
    lake.storage.put_object(lake.storage.default_bucket, key, data)


def put_all(lake: Lake, files: Mapping[str, bytes]) -> None:
    for key, data in files.items():
        put(lake, key, data)


def drop_files(lake: Lake, files: Mapping[str, bytes]) -> None:
    """Many files at once: straight into a local lake's folder (as a person copying files would), else via S3."""
    backend = lake.backend
    if isinstance(backend, LocalBackend):
        for key, data in files.items():
            path = backend.root / lake.storage.default_bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    else:
        put_all(lake, files)


def many_csv_files(prefix: str, count: int, *, partitions: int = 10) -> dict[str, bytes]:
    """``count`` tiny CSV files spread over ``partitions`` Hive partition folders under ``prefix``."""
    return {
        f"{prefix}part={i % partitions}/f{i:05d}.csv": csv_bytes(["id", "name"], [[i, f"n{i}"]]) for i in range(count)
    }


def create(lake: Lake, name: str, *targets: str, database: str = "db", **options: Any) -> CrawlerDefinition:
    definition = CrawlerDefinition(name=name, targets=tuple(targets), database=database, **options)
    lake.crawlers.create_crawler(definition)
    return definition


def uri(key: str, lake: Lake | None = None) -> str:
    """``s3://bucket/key`` in the lake's default bucket (``lakeport`` when no lake is given)."""
    return f"s3://{BUCKET if lake is None else lake.storage.default_bucket}/{key}"


# ---- looking at the catalog and the logs


def snapshot(lake: Lake) -> Snapshot:
    """Every database, table (definition and version) and partition of the catalog, comparable with ``==``."""
    out: Snapshot = {}
    for database in lake.catalog.list_databases():
        for table in lake.catalog.list_tables(database.name):
            partitions = sorted(
                (
                    p.values,
                    p.location,
                    p.file_count,
                    p.size_bytes,
                    p.row_count,
                    json.dumps(dict(p.parameters), sort_keys=True),
                )
                for p in lake.catalog.get_partitions(database.name, table.name)
            )
            out[f"{database.name}.{table.name}"] = {
                "version": table.version,
                "definition": json.dumps(table.definition(), sort_keys=True),
                "partitions": partitions,
            }
        out.setdefault("__databases__", []).append(database.name)
    return out


def messages(lake: Lake, run: CrawlRun, level: str | None = None) -> list[str]:
    return [e.message for e in lake.logs.events(run.log_group, run.log_stream) if level is None or e.level == level]


def crawler_state(lake: Lake, name: str) -> tuple[str, str | None]:
    """``(state, current run id)`` straight from the metadata DB (no recovery of stale runs on the way)."""
    with lake.db.read() as conn:
        row = conn.execute(select(crawlers.c.state, crawlers.c.current_run_id).where(crawlers.c.name == name)).one()
    return str(row.state), row.current_run_id


def run_pid(lake: Lake, run_id: str) -> int:
    with lake.db.read() as conn:
        return int(conn.execute(select(crawler_runs.c.pid).where(crawler_runs.c.id == run_id)).scalar_one())


def wait_for(condition: Callable[[], bool], *, timeout: float = 30.0, every: float = 0.02, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(every)


def wait_until_finished(lake: Lake, run_id: str, *, timeout: float = 60.0) -> CrawlRun:
    wait_for(lambda: lake.crawlers.get_run(run_id).status != "RUNNING", timeout=timeout, what=f"run {run_id}")
    return lake.crawlers.get_run(run_id)


# ---- holding a crawl in the middle


@dataclass
class GateClassifier:
    """A custom classifier that holds the crawl: each file waits until :meth:`release`, then it says "not mine"."""

    name: str
    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    calls: int = 0
    limit_s: float = 30.0

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        self.calls += 1
        self.entered.set()
        self.released.wait(self.limit_s)
        return None

    def release(self) -> None:
        self.released.set()


def gate(name: str) -> GateClassifier:
    classifier = GateClassifier(name)
    register_classifier(classifier)
    return classifier


class Background(threading.Thread):
    """``start_crawler(wait=True)`` in a thread of this process: result or exception kept for the test."""

    def __init__(self, lake: Lake, name: str) -> None:
        super().__init__(daemon=True)
        self.lake = lake
        self.crawler = name
        self.run_result: CrawlRun | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.run_result = self.lake.crawlers.start_crawler(self.crawler)
        except BaseException as exc:
            self.error = exc

    def result(self, timeout: float = 30.0) -> CrawlRun:
        self.join(timeout)
        assert not self.is_alive(), "the crawl did not finish"
        if self.error is not None:
            raise self.error
        assert self.run_result is not None
        return self.run_result


# ---- other processes


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    out["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src"), out.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return out


def cli_popen(root: Path, *args: str) -> subprocess.Popen[bytes]:
    """``lakeport --lake ROOT ARGS…`` in its own process, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-m", "lakeport.cli.main", "--lake", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )


def python_popen(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    )


HOLD_IN_APPLY = """
import sys, time
from pathlib import Path
import lakeport.crawler.crawl as crawl_module
from lakeport import Lake

root, name, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
real_save_index = crawl_module.save_index

def save_index_then_hang(conn, crawler, before, after):
    real_save_index(conn, crawler, before, after)
    marker.write_text("inside the apply transaction")
    time.sleep(120)

crawl_module.save_index = save_index_then_hang
with Lake.open(root) as lake:
    lake.crawlers.start_crawler(name)
"""
"""A crawl that stops inside its one apply transaction, after the catalog changes and the index are written."""


# ---- counting what a crawl touches


@dataclass
class Spy:
    """The keys a crawl opened and how many listing calls it made, recorded on a lake's storage instance."""

    opened: list[str] = field(default_factory=list)
    listings: int = 0

    def reset(self) -> None:
        self.opened.clear()
        self.listings = 0


def spy_on(lake: Lake, monkeypatch: Any) -> Spy:
    """Count ``get_object`` (every byte the crawler reads goes through it) and ``list_objects`` on ``lake.storage``."""
    storage = lake.storage
    spy = Spy()
    real_get = storage.get_object
    real_list = storage.list_objects

    def get_object(bucket: str, key: str, **kwargs: Any) -> Any:
        spy.opened.append(key)
        return real_get(bucket, key, **kwargs)

    def list_objects(bucket: str, **kwargs: Any) -> Any:
        spy.listings += 1
        return real_list(bucket, **kwargs)

    monkeypatch.setattr(storage, "get_object", get_object)
    monkeypatch.setattr(storage, "list_objects", list_objects)
    return spy


MEET_AT_APPLY = """
import json, sys, time
from pathlib import Path
import lakeport.crawler.crawl as crawl_module
from lakeport import Lake
from lakeport.errors import LakeportError

root, name, barrier, parties = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])

def meet():
    (barrier / name).write_text("here")
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < parties and time.monotonic() < deadline:
        time.sleep(0.002)

real_warnings = crawl_module.Crawl._warnings

def meet_then_warnings(index):
    meet()
    return real_warnings(index)

crawl_module.Crawl._warnings = staticmethod(meet_then_warnings)

with Lake.open(root) as lake:
    try:
        run = lake.crawlers.start_crawler(name)
    except LakeportError as exc:
        print(json.dumps({"raised": exc.code, "message": exc.message}))
    else:
        print(json.dumps(run.to_dict()))
"""
"""Crawls that meet just before their apply transactions, which then start at the same moment."""


CLI_WITH_SLOW_CLASSIFIER = """
import sys, time
from pathlib import Path
from lakeport.crawler import register_classifier
from lakeport.cli.main import main

marker = Path(sys.argv[1])

class Slow:
    name = "slow"

    def classify(self, sample, options):
        marker.write_text("reading")
        time.sleep(1.5)
        return None

register_classifier(Slow())
sys.exit(main(sys.argv[2:]))
"""
"""``lakeport ARGS…`` in a process where crawlers naming the ``slow`` classifier take 1.5 s a file."""
