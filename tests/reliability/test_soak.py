"""A soak: an ETL job re-running (overwrite, then appends), a crawler re-crawling a staging prefix that keeps
getting new files, and eight query clients reading both tables — all at once for a bounded time.

Acceptance: no operation fails, and every answer is one a committed state had. The job's table is built so a
reader that saw a mix of two snapshots (or part of one) is caught:

* every run writes one batch: ``rows`` rows with the columns ``batch`` (the run's number), ``mode`` (how the
  run wrote it) and ``batch_rows`` (the batch's size), so within a snapshot each batch has exactly
  ``batch_rows`` rows;
* every third run overwrites, the others append: a snapshot holds one overwrite batch followed by the append
  batches after it — consecutive numbers, exactly one ``overwrite`` and it is the first;
* ``count(*)`` only takes values a committed snapshot had (known from the runs once the soak is over).

The crawled table (external, read file by file) must count a whole number of uploaded files: a prefix sum of
their sizes, since files are uploaded in order and each put is atomic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.etl import JobDefinition

SOAK_SECONDS = 20.0
CLIENTS = 8
CRAWL_PAUSE = 0.5  # seconds between crawls
STAGING = "staging/soak/"
TABLE = "soak.events"
CRAWLED = "raw.soak"

BATCHES = f"""
SELECT batch, mode, count(*) AS n, min(batch_rows) AS lo, max(batch_rows) AS hi
FROM {TABLE} GROUP BY batch, mode ORDER BY batch
"""
COUNT = f"SELECT count(*) AS n FROM {TABLE}"
CRAWLED_COUNT = f"SELECT count(*) AS n, count(DISTINCT batch) AS files FROM {CRAWLED}"


def batch_rows(batch: int) -> int:
    return 20 + (batch * 37) % 50


def batch_mode(batch: int) -> str:
    return "overwrite" if batch % 3 == 0 else "append"


def batch_csv(batch: int) -> bytes:
    rows = [f"{batch},{batch_mode(batch)},{batch_rows(batch)},{k}" for k in range(batch_rows(batch))]
    return ("batch,mode,batch_rows,k\n" + "\n".join(rows) + "\n").encode()


def soak_job() -> JobDefinition:
    return JobDefinition.from_dict(
        {
            "name": "soak",
            "parameters": {"batch": "0", "mode": "overwrite"},
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": f"s3://lakeport/{STAGING}batch-${{batch}}.csv",
                    "format": "csv",
                    "options": {"header": True, "delimiter": ","},
                    "columns": {"batch": "bigint", "batch_rows": "bigint", "k": "bigint"},
                },
                {"id": "out", "type": "sink", "input": "src", "table": TABLE, "mode": "${mode}"},
            ],
        }
    )


@dataclass
class Soak:
    """What every thread saw and did; ``errors`` must stay empty."""

    lake: Lake
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)
    committed_counts: list[int] = field(default_factory=list)  # the job table's count after each run
    uploaded_counts: list[int] = field(default_factory=list)  # the staging rows after each upload
    seen_counts: list[int] = field(default_factory=list)
    seen_crawled: list[tuple[int, int]] = field(default_factory=list)
    queries: int = 0
    runs: int = 0
    crawls: int = 0

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)
        self.stop.set()

    def guarded(self, name: str, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                while not self.stop.is_set():
                    body()
            except Exception as exc:  # anything at all is a failure of the soak
                self.fail(f"{name}: {type(exc).__name__}: {exc}")

        return run


def upload_batch(soak: Soak, batch: int) -> None:
    soak.lake.storage.put_object("lakeport", f"{STAGING}batch-{batch:05d}.csv", batch_csv(batch))
    with soak.lock:
        before = soak.uploaded_counts[-1] if soak.uploaded_counts else 0
        soak.uploaded_counts.append(before + batch_rows(batch))


def run_batch(soak: Soak, batch: int) -> None:
    upload_batch(soak, batch)
    started = soak.lake.jobs.start_job_run("soak", arguments={"batch": f"{batch:05d}", "mode": batch_mode(batch)})
    run = soak.lake.jobs.wait("soak", started.id, timeout=60)
    if run.state != "SUCCEEDED":
        raise AssertionError(f"job run {run.id} (batch {batch}) {run.state}: {run.error}")
    with soak.lock:
        before = soak.committed_counts[-1] if soak.committed_counts else 0
        soak.committed_counts.append(batch_rows(batch) + (0 if batch_mode(batch) == "overwrite" else before))
        soak.runs += 1


def crawl_once(soak: Soak) -> None:
    run = soak.lake.crawlers.start_crawler("staging")
    if run.status != "SUCCEEDED" or run.warnings:
        raise AssertionError(f"crawl {run.id} {run.status}: {run.error} {run.warnings}")
    with soak.lock:
        soak.crawls += 1
    soak.stop.wait(CRAWL_PAUSE)  # a crawler re-crawls now and then, not in a tight loop


def query(lake: Lake, sql: str) -> list[list[str | None]]:
    """Run ``sql`` as ``lakeport query`` does (start, wait, read the first page); the rows without the header."""
    execution = lake.queries.start_query_execution(sql, wait=True)
    if execution.state != "SUCCEEDED":
        raise AssertionError(f"query {execution.id} {execution.state}: {execution.state_change_reason}\n{sql}")
    page: dict[str, Any] = lake.queries.get_query_results(execution.id)
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"][1:]]


def check_batches(rows: list[list[str | None]]) -> int:
    """The invariant of one snapshot of the job's table (see the module's docstring); its row count."""
    assert rows, "the job's table is never empty"
    batches = [(int(str(b)), str(m), int(str(n)), int(str(lo)), int(str(hi))) for b, m, n, lo, hi in rows]
    for batch, mode, n, lo, hi in batches:
        assert n == lo == hi == batch_rows(batch), f"batch {batch} is not whole: {batches}"
        assert mode == batch_mode(batch), f"batch {batch} has mode {mode}: {batches}"
    numbers = [b[0] for b in batches]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), f"batches are not consecutive: {numbers}"
    assert [b[1] for b in batches].count("overwrite") == 1, f"a mix of snapshots: {batches}"
    assert batches[0][1] == "overwrite", f"a mix of snapshots: {batches}"
    return sum(b[2] for b in batches)


def client(soak: Soak, number: int) -> Callable[[], None]:
    turn = iter(range(10**9))

    def one() -> None:
        step = (next(turn) + number) % 3
        if step == 0:
            total = check_batches(query(soak.lake, BATCHES))
            with soak.lock:
                soak.seen_counts.append(total)
        elif step == 1:
            ((n,),) = query(soak.lake, COUNT)
            with soak.lock:
                soak.seen_counts.append(int(str(n)))
        else:
            ((n, files),) = query(soak.lake, CRAWLED_COUNT)
            with soak.lock:
                soak.seen_crawled.append((int(str(n)), int(str(files))))
        with soak.lock:
            soak.queries += 1

    return one


def test_a_job_a_crawler_and_eight_query_clients_run_together_without_an_error(tmp_path: Path) -> None:
    lake = Lake.init(tmp_path / "lake", values={"query.max_concurrent": str(CLIENTS)})
    try:
        soak = Soak(lake)
        lake.jobs.create_job(soak_job())
        lake.crawlers.create_crawler(
            CrawlerDefinition(name="staging", targets=(f"s3://lakeport/{STAGING}",), database="raw")
        )
        run_batch(soak, 0)  # both tables exist before anyone reads
        crawl_once(soak)
        # the clients connect first: a query on each of the pool's threads, before the clock starts
        with ThreadPoolExecutor(CLIENTS) as pool:
            assert list(pool.map(lambda _: query(lake, COUNT), range(CLIENTS))) == [[["20"]]] * CLIENTS
        batch = iter(range(1, 10**6))

        threads = [
            threading.Thread(target=soak.guarded("job", lambda: run_batch(soak, next(batch))), name="job"),
            threading.Thread(target=soak.guarded("crawler", lambda: crawl_once(soak)), name="crawler"),
            *(
                threading.Thread(target=soak.guarded(f"client {n}", client(soak, n)), name=f"client-{n}")
                for n in range(CLIENTS)
            ),
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        soak.stop.wait(SOAK_SECONDS)
        soak.stop.set()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), f"{thread.name} did not stop"
        elapsed = time.monotonic() - started

        assert soak.errors == [], "\n".join(soak.errors)
        print(f"soak: {soak.runs} runs, {soak.crawls} crawls, {soak.queries} queries in {elapsed:.1f} s")
        assert soak.runs >= 3, f"only {soak.runs} job runs in {elapsed:.0f} s"
        assert soak.crawls >= 5, f"only {soak.crawls} crawls in {elapsed:.0f} s"
        assert soak.queries >= 4 * CLIENTS, f"only {soak.queries} queries in {elapsed:.0f} s"
        # every count a reader saw is a committed snapshot's; readers saw several of them
        assert set(soak.seen_counts) <= set(soak.committed_counts), (soak.seen_counts, soak.committed_counts)
        assert len(set(soak.seen_counts)) > 1
        # the crawled table: whole files only, in upload order
        for n, files in soak.seen_crawled:
            assert files >= 1, (n, files)
            assert soak.uploaded_counts[files - 1] == n, (n, files, soak.uploaded_counts)

        # afterwards: one crawled table holding every upload, the job's table at its last commit
        assert [t.name for t in lake.catalog.list_tables("raw")] == ["soak"]
        assert query(lake, CRAWLED_COUNT) == [[str(soak.uploaded_counts[-1]), str(len(soak.uploaded_counts))]]
        assert query(lake, COUNT) == [[str(soak.committed_counts[-1])]]
        failed = [r for r in lake.jobs.list_job_runs("soak", limit=1000) if r.state != "SUCCEEDED"]
        assert failed == []
    finally:
        lake.close()
