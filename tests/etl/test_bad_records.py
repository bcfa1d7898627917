"""Bad records in CSV sources, under each policy (fail | drop | quarantine), with exact accounting.

Each input has 20 good rows, then one bad row on line 22 (the header is line 1), then (except when the bad
row is an unterminated quote, which runs to the end of the file) one more good row. The job copies its
source into a table, so what it writes is exactly what it accepted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake

from .jobs_kit import copy_job, csv_text, current_snapshot, put, table_rows, uri

JOB = "bad"
TABLE = "db.bad"
KEY = "staging/bad/in.csv"
HEADER = ["id", "name", "amount"]
COLUMNS = {"id": "bigint", "amount": "bigint"}
GOOD = [(i, f"name{i}", i * 10) for i in range(1, 21)]
AFTER = (22, "dan", 220)
BAD_LINE = 22


@dataclass(frozen=True)
class Kind:
    name: str
    line: bytes  # the bad row as it is in the file
    column: str | None  # the column the error names (None: any)
    good_after: bool = True  # a good row follows the bad one


KINDS = [
    Kind("wrong_type", b"21,carol,abc", "amount"),
    Kind("fraction_in_integer", b"21,carol,1.5", "amount"),
    Kind("integer_overflow", b"21,carol,9223372036854775808", "amount"),
    Kind("too_few_fields", b"21,carol", "amount"),
    Kind("too_many_fields", b"21,carol,210,extra", None),
    Kind("unterminated_quote", b'21,"carol,210', "name", good_after=False),
    Kind("invalid_utf8", b"21,car\xff\xfeol,210", "name"),
]


def body(kind: Kind) -> bytes:
    text = csv_text(HEADER, GOOD).encode()
    text += kind.line + b"\n"
    if kind.good_after:
        text += (",".join(str(v) for v in AFTER) + "\n").encode()
    return text


def good_rows(kind: Kind) -> list[tuple[int, str, int]]:
    return [*GOOD, AFTER] if kind.good_after else list(GOOD)


def cases() -> list[object]:
    return [pytest.param(k, id=k.name) for k in KINDS]


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def create(lake: Lake, policy: str, *, options: dict[str, object] | None = None) -> None:
    lake.jobs.create_job(
        copy_job(
            JOB,
            "${input}",
            TABLE,
            columns=COLUMNS,
            bad_records=policy,
            parameters={"input": uri(KEY)},
            options=options,
        )
    )


def assert_accounting(metrics: dict[str, Any], *, good: int, bad: int, policy: str) -> None:
    source = metrics["sources"]["src"]
    assert source["rows_read"] == good + bad
    assert source["rows_accepted"] == good
    assert source["rows_rejected"] == bad
    dropped, quarantined = (bad, 0) if policy == "drop" else (0, bad)
    assert (metrics["rows_dropped"], metrics["rows_quarantined"]) == (dropped, quarantined)
    assert metrics["rows_read"] == metrics["rows_accepted"] + metrics["rows_dropped"] + metrics["rows_quarantined"]
    assert metrics["rows_accepted"] == good
    assert metrics["rows_written"] == good


def quarantined(lake: Lake, location: str) -> list[dict[str, str]]:
    assert location.startswith("s3://lakeport/")
    text = lake.storage.read_bytes("lakeport", location.removeprefix("s3://lakeport/")).decode("utf-8", "replace")
    return list(csv.DictReader(io.StringIO(text)))


# ---- fail


@pytest.mark.parametrize("kind", cases())
def test_fail_names_the_file_line_and_column_and_writes_nothing(lake: Lake, kind: Kind) -> None:
    put(lake, KEY, body(kind))
    create(lake, "fail")
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "FAILED"
    assert run.error is not None
    assert f"bad record in {uri(KEY)}, line {BAD_LINE}" in run.error
    if kind.column is not None:
        assert f"column {kind.column}" in run.error
    assert "(1 bad rows in all)" in run.error
    assert lake.warehouse.load("db", "bad") is None


def test_a_failed_run_leaves_the_table_unchanged(lake: Lake) -> None:
    put(lake, "staging/bad/good.csv", csv_text(HEADER, GOOD))
    put(lake, KEY, body(KINDS[0]))
    create(lake, "fail")
    first = lake.jobs.start_job_run(JOB, arguments={"input": uri("staging/bad/good.csv")}, wait=True)
    assert first.state == "SUCCEEDED", first.error
    before = (current_snapshot(lake, TABLE), table_rows(lake, TABLE))
    assert before[1] == GOOD

    failed = lake.jobs.start_job_run(JOB, wait=True)

    assert failed.state == "FAILED"
    assert failed.metrics == {}
    assert (current_snapshot(lake, TABLE), table_rows(lake, TABLE)) == before
    assert len(lake.warehouse.history("db", "bad")) == 1
    errors = [e for e in lake.logs.events(failed.log_group, failed.id) if e.level == "ERROR"]
    assert len(errors) == 1
    assert f"{uri(KEY)}, line {BAD_LINE}, column amount" in errors[0].message


# ---- drop and quarantine


@pytest.mark.parametrize("kind", cases())
def test_drop_counts_and_skips_each_bad_row(lake: Lake, kind: Kind) -> None:
    put(lake, KEY, body(kind))
    create(lake, "drop")
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert_accounting(run.metrics, good=len(good_rows(kind)), bad=1, policy="drop")
    assert run.metrics["quarantine"] == []
    assert table_rows(lake, TABLE) == sorted(good_rows(kind))
    assert not list(lake.storage.iter_objects("lakeport", prefix="warehouse/_quarantine/"))
    warnings = [e.message for e in lake.logs.events(run.log_group, run.id) if e.level == "WARN"]
    assert warnings
    assert f"first at {uri(KEY)}, line {BAD_LINE}" in warnings[0]


@pytest.mark.parametrize("kind", cases())
def test_quarantine_keeps_each_bad_row_with_its_file_and_line(lake: Lake, kind: Kind) -> None:
    put(lake, KEY, body(kind))
    create(lake, "quarantine")
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert_accounting(run.metrics, good=len(good_rows(kind)), bad=1, policy="quarantine")
    location = f"s3://lakeport/warehouse/_quarantine/{JOB}/{run.id}/src.csv"
    assert run.metrics["quarantine"] == [location]
    kept = quarantined(lake, location)
    assert [(r["file"], int(r["line"])) for r in kept] == [(uri(KEY), BAD_LINE)]
    if kind.column is not None:
        assert kept[0]["column"] == kind.column
    if kind.name != "invalid_utf8":
        assert kept[0]["record"].rstrip("\n") == kind.line.decode()
    assert table_rows(lake, TABLE) == sorted(good_rows(kind))


@pytest.mark.parametrize(
    "policy",
    [
        "drop",
        "quarantine",
    ],
)
def test_bad_rows_over_several_files_are_each_counted_once(lake: Lake, policy: str) -> None:
    put(lake, "staging/many/1.csv", csv_text(HEADER, GOOD[:5]) + "6,six,abc\n7,seven,70\n")
    put(lake, "staging/many/2.csv", csv_text(HEADER, GOOD[10:12]) + "x,both,bad\n14,ok,140\n15,nope,twelve\n")
    put(lake, "staging/many/3.csv", csv_text(HEADER, GOOD[15:18]))
    lake.jobs.create_job(copy_job(JOB, uri("staging/many/"), TABLE, columns=COLUMNS, bad_records=policy))
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    good = 5 + 1 + 2 + 1 + 3
    assert_accounting(run.metrics, good=good, bad=3, policy=policy)  # a row with two bad fields is one bad row
    assert run.metrics["sources"]["src"]["files"] == 3
    assert len(table_rows(lake, TABLE)) == good
    if policy == "quarantine":
        kept = quarantined(lake, run.metrics["quarantine"][0])
        assert sorted({(r["file"], int(r["line"])) for r in kept}) == [
            (uri("staging/many/1.csv"), 7),
            (uri("staging/many/2.csv"), 4),
            (uri("staging/many/2.csv"), 6),
        ]


def test_a_fraction_in_a_bigint_column_is_a_bad_record(lake: Lake) -> None:
    put(lake, KEY, csv_text(HEADER, GOOD) + "21,carol,1.5\n")
    create(lake, "drop")
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert table_rows(lake, TABLE) == GOOD
    assert_accounting(run.metrics, good=len(GOOD), bad=1, policy="drop")


# ---- without explicit dialect options (the sniffer guesses delimiter and quote)


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, id=k.name)
        for k in KINDS
        if k.name in ("too_few_fields", "too_many_fields", "unterminated_quote")
    ],
)
def test_without_dialect_options_a_bad_row_is_still_a_bad_row(lake: Lake, kind: Kind) -> None:
    put(lake, KEY, body(kind))
    create(lake, "drop", options={"header": True})
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert table_rows(lake, TABLE) == sorted(good_rows(kind))
    assert_accounting(run.metrics, good=len(good_rows(kind)), bad=1, policy="drop")


def test_bad_integers_after_a_multi_line_record_are_named_by_their_own_line(lake: Lake) -> None:
    """A quoted field spanning lines moves every later row's line number; the quarantine names the real line."""
    text = 'id,name,amount\n1,"two\nline name",10\n2,bob,20\n3,carol,3.5\n4,dan,1e2\n5,erin,50\n'
    put(lake, KEY, text)
    create(lake, "quarantine")
    run = lake.jobs.start_job_run(JOB, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert_accounting(run.metrics, good=3, bad=2, policy="quarantine")
    kept = quarantined(lake, run.metrics["quarantine"][0])
    assert [(int(r["line"]), r["column"], r["record"]) for r in kept] == [
        (5, "amount", "3,carol,3.5"),
        (6, "amount", "4,dan,1e2"),
    ]
    assert table_rows(lake, TABLE) == [(1, "two\nline name", 10), (2, "bob", 20), (5, "erin", 50)]
