"""A thousand files arriving at once in staging, written concurrently through the storage service.

Acceptance: all 1,000 objects are listed and 1,000 object events recorded; the batched trigger rules start
exactly the targets they ask for (one state machine execution per 100 objects, one job run for the whole
burst — not one per object); a crawl catalogs the prefix as one table (not 1,000) whose row count through a
query is exact; and the job the trigger started reads every row of every file into its warehouse table.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lakeport import Lake
from lakeport.etl import JobDefinition
from lakeport.states.schema import state_executions
from lakeport.triggers import scheduler_for

FILES = 1000
BATCH = 100
PREFIX = "staging/many/"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def rows_of(file: int) -> list[tuple[int, int, int]]:
    """``(file, k, value)`` rows of file ``file``: 1 to 7 of them."""
    return [(file, k, file * 10 + k) for k in range(file % 7 + 1)]


def file_body(file: int) -> bytes:
    return ("file,k,value\n" + "".join(f"{f},{k},{v}\n" for f, k, v in rows_of(file))).encode()


TOTAL_ROWS = sum(len(rows_of(f)) for f in range(FILES))
TOTAL_VALUE = sum(v for f in range(FILES) for _, _, v in rows_of(f))


def load_job() -> JobDefinition:
    return JobDefinition.from_dict(
        {
            "name": "load-many",
            "parameters": {"events": "[]"},  # the batch the trigger delivers (declared, so it is passed)
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": f"s3://lakeport/{PREFIX}",
                    "format": "csv",
                    "options": {"header": True, "delimiter": ","},
                    "columns": {"file": "bigint", "k": "bigint", "value": "bigint"},
                },
                {"id": "out", "type": "sink", "input": "src", "table": "wh.many", "mode": "overwrite"},
            ],
        }
    )


def query_one(lake: Lake, sql: str) -> list[Any]:
    execution = lake.query(sql)
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    _, rows = lake.queries.get_query_rows(execution.id)
    assert len(rows) == 1
    return list(rows[0])


def test_a_thousand_files_at_once_are_listed_triggered_in_batches_crawled_as_one_table_and_loaded(
    tmp_path: Path,
) -> None:
    lake = Lake.init(tmp_path / "lake")
    try:
        bucket = lake.storage.default_bucket
        lake.states.create_state_machine("pass", json.dumps(PASS))
        lake.jobs.create_job(load_job())
        lake.triggers.put_rule(
            "each-hundred", object_pattern=f"prefix={PREFIX},suffix=.csv", target_machine="pass", batch_size=BATCH
        )
        lake.triggers.put_rule(
            "whole-burst",
            object_pattern=f"prefix={PREFIX}",
            target_job="load-many",
            batch_size=FILES,
            batch_window=600,
        )
        first_event = lake.events.latest_id()

        keys = [f"{PREFIX}f{i:04d}.csv" for i in range(FILES)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            infos = list(pool.map(lambda i: lake.storage.put_object(bucket, keys[i], file_body(i)), range(FILES)))
        assert sorted(i.key for i in infos) == keys

        # listed: every object, over pages of 1,000 at most
        listed: list[str] = []
        token: str | None = None
        while True:
            page = lake.storage.list_objects(bucket, prefix=PREFIX, max_keys=300, continuation_token=token)
            listed += [o.key for o in page.objects]
            token = page.next_token
            if not token:
                break
        assert listed == keys

        # recorded: one ObjectCreated:Put event per object
        events = lake.events.read(after=first_event, limit=5000, prefix=PREFIX)
        assert sorted(e.key for e in events) == keys
        assert {e.event_name for e in events} == {"ObjectCreated:Put"}

        # triggered: 10 executions of 100 events each, one job run for the 1,000
        scheduler = scheduler_for(lake, scan=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            report = scheduler.run_once()
            assert report.errors == [], report.to_dict()
            assert report.failed == 0, report.to_dict()
            if len(executions(lake)) == FILES // BATCH and lake.jobs.list_job_runs("load-many"):
                break
        inputs = executions(lake)
        assert [len(i["events"]) for i in inputs] == [BATCH] * (FILES // BATCH)
        assert sorted(e["detail"]["object"]["key"] for i in inputs for e in i["events"]) == keys
        (run,) = lake.jobs.list_job_runs("load-many")
        run = lake.jobs.wait("load-many", run.id, timeout=120)
        assert run.state == "SUCCEEDED", run.error
        assert len(json.loads(run.arguments["events"])) == FILES
        for _ in range(3):  # later passes start nothing more
            scheduler.run_once()
        assert len(executions(lake)) == FILES // BATCH
        assert len(lake.jobs.list_job_runs("load-many")) == 1

        # crawled: one table, not 1,000, with every row
        _, crawl = lake.crawlers.crawl(f"s3://{bucket}/{PREFIX}", database="raw")
        assert crawl.status == "SUCCEEDED", crawl.error
        assert crawl.summary["files_read"] == FILES
        assert crawl.summary["tables_created"] == 1
        assert crawl.warnings == []
        assert [t.name for t in lake.catalog.list_tables("raw")] == ["many"]
        assert lake.catalog.get_partitions("raw", "many") == []
        assert query_one(lake, "SELECT count(*), count(DISTINCT file), sum(value) FROM raw.many") == [
            TOTAL_ROWS,
            FILES,
            TOTAL_VALUE,
        ]

        # loaded: the job's table holds every row of every file
        assert query_one(lake, "SELECT count(*), count(DISTINCT file), sum(value) FROM wh.many") == [
            TOTAL_ROWS,
            FILES,
            TOTAL_VALUE,
        ]
        sources = run.metrics["sources"]
        assert sources["src"]["files"] == FILES, sources
        assert sources["src"]["rows_read"] == TOTAL_ROWS, sources
    finally:
        lake.close()


def executions(lake: Lake) -> list[dict[str, Any]]:
    """The inputs of the ``pass`` machine's executions, in the order of their first event."""
    with lake.db.read() as conn:
        rows = conn.execute(select(state_executions.c.input).where(state_executions.c.machine == "pass")).all()
    inputs = [json.loads(r.input) for r in rows]
    return sorted(inputs, key=lambda i: str(i["events"][0]["detail"]["object"]["sequencer"]))
