"""Several processes sharing one metadata database at the same time, as CLI calls, the server and workers do.

Acceptance: two processes each making 500 metadata writes concurrently leave all 1,000 rows, with no
"database is locked" error, on SQLite and on PostgreSQL.

The workers are real OS processes (``python -c`` importing :func:`worker` from this module). They meet at a
file barrier before the part under test, so both really start it at the same moment. Each installs spies that
print every database error to stderr, even those a retry would hide, so "no error" means none happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lakeport import Lake
from lakeport.errors import ServiceUnavailable
from lakeport.metadata import HEAD_REVISION, MetadataDB
from lakeport.metadata.schema import lake_info
from lakeport.settings import SETTINGS_FILE, write_settings_file
from lakeport.storage.events import CREATED_PUT, object_events, object_state
from tests.support.postgres import fresh_database

REPO = Path(__file__).resolve().parents[2]
WRITES_PER_PROCESS = 500
BUCKET = "race"
BARRIER_TIMEOUT_S = 60.0
PROCESS_TIMEOUT_S = 120.0
DB_ERROR = "METADATA-DB-ERROR"
"""What the workers' spies print, on stderr, for every database error they see."""
NO_ERROR = re.compile(r"(?!)")
EXPECTED_ERRORS = {
    "open": re.compile(
        # current_revision() on a database with no schema yet (answered with None, then migrated)
        r'no such table: alembic_version|relation "alembic_version" does not exist'
        # PostgreSQL: both inserted lake_id at once; the loser's set_info_default returns the winner's value
        r'|duplicate key value violates unique constraint "lake_info_pkey"'
    ),
}
"""Per role, the errors a worker may see because they are how lakeport handles the race under test."""
PROBE = "PROBING-THE-WRITE-LOCK"
"""What a reader prints before the write it expects to fail."""


# ---- the worker processes


def _barrier(folder: Path, name: str, me: str, parties: int) -> None:
    """Wait until ``parties`` workers reached barrier ``name``, then return at (nearly) the same moment in all."""
    (folder / f"{name}.{me}").touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while len(list(folder.glob(f"{name}.*"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"barrier {name}: {me} waited {BARRIER_TIMEOUT_S} s for the other workers")
        time.sleep(0.0005)


def _install_error_spies(expected: re.Pattern[str]) -> None:
    """Print every database error to stderr, including the ones MetadataDB retries and so would hide.

    Errors matching ``expected`` are part of the protocol under test and handled by lakeport: not printed.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, ExceptionContext

    def on_error(context: ExceptionContext) -> None:
        if expected.search(str(context.original_exception)):
            return
        where = "".join(traceback.format_stack(limit=25)[:-1])
        print(f"{DB_ERROR}: {context.original_exception!r}\n{where}", file=sys.stderr, flush=True)

    event.listen(Engine, "handle_error", on_error)

    translate = MetadataDB._translate

    def spy(self: MetadataDB, exc: Any) -> Any:
        if not expected.search(str(exc)):
            print(f"{DB_ERROR}: {exc}", file=sys.stderr, flush=True)
        return translate(self, exc)

    setattr(MetadataDB, "_translate", spy)  # noqa: B010 - assigning a method directly upsets mypy


def _write_worker(lake_path: str, sync: Path, me: str, count: int) -> dict[str, Any]:
    with Lake.open(lake_path) as lake:
        events = lake.events
        events.known_buckets()  # connect now, so the barrier starts the writes themselves
        _barrier(sync, "start", me, parties=2)
        started = time.time()
        ids = []
        for i in range(count):  # one transaction per write: that is the point
            event = events.record_created(BUCKET, f"{me}/object-{i:04d}", etag=f"{me}-{i}", size=i)
            assert event is not None
            ids.append(event.id)
        return {"ids": ids, "started": started, "finished": time.time()}


def _open_worker(lake_paths: Sequence[str], sync: Path, me: str) -> dict[str, Any]:
    """Race the other worker to open (create and migrate) each brand-new lake, then to claim its lake_id."""
    rounds = []
    for n, lake_path in enumerate(lake_paths):
        _barrier(sync, f"round{n}", me, parties=2)
        with Lake.open(lake_path) as lake:
            revision = lake.db.current_revision()
            _barrier(sync, f"claim{n}", me, parties=2)
            rounds.append({"lake_id": lake.db.set_info_default("lake_id", me), "revision": revision})
    return {"rounds": rounds}


def _read_worker(lake_path: str, sync: Path, me: str, reads: int) -> dict[str, Any]:
    """Read while another process holds a write transaction throughout.

    The busy timeout is short (200 ms), so a read that had to wait for the writer would fail, not just be slow.
    """
    with Lake.open(lake_path, overrides={"metadata.busy_timeout_ms": "200"}) as lake:
        _barrier(sync, "start", me, parties=2)
        counts = [len(lake.events.read(bucket=BUCKET)) for _ in range(reads)]
        print(PROBE, file=sys.stderr, flush=True)  # errors after this line are expected
        try:  # the writer really holds the write lock (else this test would prove nothing)
            with lake.db.write() as conn:
                conn.execute(lake_info.insert().values(name=f"reader-{me}", value="1"))
            write_blocked = False
        except ServiceUnavailable:
            write_blocked = True
        return {"counts": counts, "write_blocked": write_blocked}


def worker() -> None:
    """Entry point of a worker process: ``python -c '…worker()' ROLE SYNC_DIR ME ARGS…``; prints JSON."""
    role, sync, me, *args = sys.argv[1:]
    _install_error_spies(EXPECTED_ERRORS.get(role, NO_ERROR))
    if role == "write":
        result = _write_worker(args[0], Path(sync), me, int(args[1]))
    elif role == "open":
        result = _open_worker(args, Path(sync), me)
    elif role == "read":
        result = _read_worker(args[0], Path(sync), me, int(args[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")
    print(json.dumps(result), flush=True)


# ---- running them


@dataclass
class Finished:
    me: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        lines = self.stdout.strip().splitlines()
        assert lines, f"worker {self.me} printed nothing; stderr:\n{self.stderr}"
        value: dict[str, Any] = json.loads(lines[-1])
        return value


def run_workers(role: str, sync: Path, args_by_worker: dict[str, list[str]]) -> list[Finished]:
    """Start one worker process per entry at once, wait for all, return what each printed.

    If one worker fails, the others are stopped at once (they would wait for it at a barrier otherwise).
    """
    output = sync / "output"
    output.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    code = "from tests.metadata.test_concurrency import worker; worker()"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with contextlib.ExitStack() as files:
        for me, args in args_by_worker.items():
            out = files.enter_context((output / f"{me}.out").open("wb"))
            err = files.enter_context((output / f"{me}.err").open("wb"))
            cmd = [sys.executable, "-c", code, role, str(sync), me, *args]
            procs[me] = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    try:
        while any(p.poll() is None for p in procs.values()):
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs.values()):
                break
            time.sleep(0.01)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return [
        Finished(
            me,
            proc.returncode,
            (output / f"{me}.out").read_text(errors="replace"),
            (output / f"{me}.err").read_text(errors="replace"),
        )
        for me, proc in procs.items()
    ]


def assert_clean(finished: Sequence[Finished]) -> None:
    for worker_run in finished:
        assert worker_run.returncode == 0, f"worker {worker_run.me} failed:\n{worker_run.stderr}"
        assert "database is locked" not in worker_run.stderr, worker_run.stderr
        assert DB_ERROR not in worker_run.stderr, worker_run.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_values(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for a lake whose metadata is in SQLite (the default: a file in the lake) or in PostgreSQL."""
    if request.param == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_db_url")
    return {"metadata.url": url}


@pytest.fixture
def shared_lake(tmp_path: Path, metadata_values: dict[str, str]) -> Path:
    root = tmp_path / "lake"
    Lake.init(root, values=metadata_values).close()
    return root


def open_db(root: Path) -> MetadataDB:
    with Lake.open(root) as lake:
        url = lake.db.url
    return MetadataDB(url)


# ---- the tests


@pytest.mark.slow
def test_two_processes_making_500_writes_each_lose_nothing_and_never_see_a_lock(
    shared_lake: Path, tmp_path: Path
) -> None:
    finished = run_workers(
        "write",
        tmp_path / "sync",
        {me: [str(shared_lake), str(WRITES_PER_PROCESS)] for me in ("a", "b")},
    )
    assert_clean(finished)
    ids_by_worker = {w.me: list(w.result["ids"]) for w in finished}

    db = open_db(shared_lake)
    try:
        with db.read() as conn:
            events = conn.execute(select(object_events).order_by(object_events.c.id)).all()
            state_rows = conn.execute(select(func.count()).select_from(object_state)).scalar_one()
    finally:
        db.dispose()

    assert len(events) == 2 * WRITES_PER_PROCESS
    assert state_rows == 2 * WRITES_PER_PROCESS
    assert len({e.id for e in events}) == 2 * WRITES_PER_PROCESS  # event ids unique
    assert {(e.bucket, e.event_name) for e in events} == {(BUCKET, CREATED_PUT)}
    for me, ids in ids_by_worker.items():
        mine = [e for e in events if e.key.startswith(f"{me}/")]
        assert [e.key for e in mine] == [f"{me}/object-{i:04d}" for i in range(WRITES_PER_PROCESS)]  # in order
        assert [e.etag for e in mine] == [f"{me}-{i}" for i in range(WRITES_PER_PROCESS)]
        assert [e.id for e in mine] == ids  # what each process was told is what was stored
    # the harness really ran them together: each process was writing (or waiting to) while the other one was.
    # (Whether the database interleaves them is its own business: SQLite's busy handler polls, so one writer
    # may well get all its 500 transactions in before the other one's first.)
    runs = {w.me: w.result for w in finished}
    assert runs["a"]["started"] < runs["b"]["finished"]
    assert runs["b"]["started"] < runs["a"]["finished"]


@pytest.mark.slow
def test_two_processes_racing_to_open_a_brand_new_lake_both_succeed(
    tmp_path: Path, metadata_values: dict[str, str]
) -> None:
    """Both create and migrate the same new database at once (ensure_schema), then both claim its lake_id."""
    with contextlib.ExitStack() as databases:
        roots = []
        for n in range(4):
            values = dict(metadata_values)
            if "metadata.url" in values and n:  # PostgreSQL: a new empty database per round
                values["metadata.url"] = databases.enter_context(fresh_database(metadata_values["metadata.url"]))
            root = tmp_path / f"lake{n}"
            root.mkdir()
            write_settings_file(root / SETTINGS_FILE, values)  # settings only: no database yet
            roots.append(root)

        finished = run_workers("open", tmp_path / "sync", {me: [str(r) for r in roots] for me in ("a", "b")})
        assert_clean(finished)
        results = {w.me: w.result["rounds"] for w in finished}
        for n, root in enumerate(roots):
            a, b = results["a"][n], results["b"][n]
            assert a["revision"] == b["revision"] == HEAD_REVISION
            assert a["lake_id"] == b["lake_id"] in {"a", "b"}  # first writer wins; the other one gets its value
            db = open_db(root)
            try:
                assert db.current_revision() == HEAD_REVISION
                with db.read() as conn:
                    assert conn.execute(select(lake_info.c.name, lake_info.c.value)).all() == [
                        ("lake_id", a["lake_id"])
                    ]
            finally:
                db.dispose()


def test_sqlite_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with Lake.init(root) as lake:
        for i in range(10):
            lake.events.record_created(BUCKET, f"committed/{i}", etag="e", size=1)
        assert lake.db.dialect == "sqlite"

        with lake.db.write() as conn:  # BEGIN IMMEDIATE: holds SQLite's write lock until the block ends
            conn.execute(
                object_events.insert().values(
                    event_name=CREATED_PUT,
                    bucket=BUCKET,
                    key="uncommitted",
                    size=1,
                    etag="e",
                    event_time=datetime.now(UTC),
                    source="test",
                )
            )
            finished = run_workers("read", tmp_path / "sync", {me: [str(root), "50"] for me in ("r1", "r2")})

        for reader in finished:  # the write is committed only now, after both readers finished
            assert reader.returncode == 0, reader.stderr
            before_probe, probe, _ = reader.stderr.partition(PROBE)
            assert probe, reader.stderr
            assert DB_ERROR not in before_probe, before_probe  # no read waited for the lock, or failed
            assert reader.result["counts"] == [10] * 50  # every read answered, from the last committed state
            assert reader.result["write_blocked"] is True  # …while the writer really held the write lock
        assert len(lake.events.read(bucket=BUCKET)) == 11
