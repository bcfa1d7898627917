"""A catalogue of bad inputs, one row per case, each taken down the paths a user's file takes: uploaded to staging
(through the storage service or ``lakeport s3 cp``), crawled, queried through the crawled table, read by an ETL
job into the warehouse.

Acceptance (DESIGN.md, principle 6): nothing crashes — no Python traceback anywhere — and every stage ends either
in success with the right data or in a clear error: a message naming the object (its ``s3://`` URI; the line and
column where they apply) with what to do. The crawl never fails because of one bad file: it catalogs what it can
and reports each file it skips, with the reason. And the lake keeps its last good state: the tables that existed
before (a crawled table, a warehouse table) are untouched by every case.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.crawler import CrawlRun
from lakeport.errors import NotFound
from lakeport.etl import JobDefinition
from lakeport.storage.local import LocalBackend
from tests.conftest import run_cli

BUCKET = "lakeport"
STAGING = "staging/bad/"
Rows = list[list[str | None]]


# ---- what a stage is expected to give


@dataclass(frozen=True)
class Cataloged:
    """The crawl catalogs the case's folder as one table (named after the folder)."""

    columns: tuple[tuple[str, str], ...] | None = None
    warning: str | None = None  # a crawl warning about one of the case's files says this


@dataclass(frozen=True)
class Skipped:
    """The crawl skips the case's file, reporting it with this reason; no table."""

    reason: str


@dataclass(frozen=True)
class Answers:
    """Success: ``SELECT <select> FROM <table>`` answers ``rows`` (Athena's text values)."""

    select: str
    rows: Rows


@dataclass(frozen=True)
class Fails:
    """A clear failure: the message names ``file`` (a file of the case) and says each of ``says``."""

    file: str
    says: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    files: Mapping[str, bytes] = field(default_factory=dict)
    format: str = "csv"  # how the job reads the files
    crawl: Cataloged | Skipped = Cataloged()
    query: Answers | Fails | None = None  # None: no table to query
    job: Answers | Fails = Answers("count(*)", [["0"]])
    job_options: Mapping[str, Any] = field(default_factory=lambda: {"header": True})
    job_columns: Mapping[str, str] = field(default_factory=dict)
    job_reads: str | None = None  # one file of the case instead of its folder
    upload: str = "api"  # api: lake.storage.put_object; cli: lakeport s3 cp --recursive from a local folder
    build: Callable[[Path, Path], list[str]] | None = None  # makes links in a folder (given one outside the lake)
    listed: tuple[str, ...] | None = None  # the objects listed after the upload (default: ``files``)

    @property
    def prefix(self) -> str:
        return f"{STAGING}{self.id}/"

    def uri(self, name: str) -> str:
        return f"s3://{BUCKET}/{self.prefix}{name}"


def parquet(columns: Mapping[str, pa.Array]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(dict(columns)), out)
    return out.getvalue()


def nested(depth: int) -> bytes:
    text = "1"
    for _ in range(depth):
        text = '{"a":' + text + "}"
    return (text + "\n").encode()


def links_in_the_lake(*kinds: str) -> Callable[[Path, Path], list[str]]:
    """Symbolic links dropped into the lake's folder next to ``real.csv``, as another program would leave them."""

    def build(folder: Path, outside: Path) -> list[str]:
        made = []
        for kind in kinds:
            if kind == "inside":
                os.symlink(folder / "real.csv", folder / "inside.csv")
            elif kind == "outside":
                os.symlink(outside, folder / "outside.csv")
            elif kind == "dangling":
                os.symlink(folder / "nowhere.csv", folder / "dangling.csv")
            elif kind == "loop":
                os.symlink("loop_b.csv", folder / "loop_a.csv")
                os.symlink("loop_a.csv", folder / "loop_b.csv")
            made.append(kind)
        return made

    return build


def links_to_upload(folder: Path, outside: Path) -> list[str]:
    """A local folder to upload holding a file and links: to it, to a file outside, to nothing, in a loop."""
    os.symlink("real.csv", folder / "inside.csv")
    os.symlink(outside, folder / "outside.csv")
    os.symlink("nowhere.csv", folder / "dangling.csv")
    os.symlink("loop_b.csv", folder / "loop_a.csv")
    os.symlink("loop_a.csv", folder / "loop_b.csv")
    return ["inside", "outside", "dangling", "loop"]


REAL = b"id,name\n1,a\n2,b\n"
OUTSIDE = b"id,name\n90,outside\n"
LATIN1 = "id,name\n1,caf\u00e9\n2,na\u00efve\n".encode("latin-1")
UTF16 = "id,name\n1,caf\u00e9\n2,\u65e5\u672c\n".encode("utf-16")  # with its byte order mark
MIXED = "id,name\n1,caf\u00e9\n".encode() + "2,na\u00efve\n".encode("latin-1") + "3,\u65e5\u672c\n".encode()
HUGE = 20 * 2**20

CASES = [
    Case(
        "empty",
        {"empty.csv": b"", "rows.csv": REAL},
        crawl=Cataloged(warning="empty file"),
        query=Answers("count(*), sum(id)", [["2", "3"]]),
        job=Answers("count(*)", [["2"]]),
        upload="cli",
    ),
    Case(
        "empty_alone",
        {"empty.csv": b""},
        crawl=Skipped("empty file"),
        job=Fails("", ("no files to read", f"s3://{BUCKET}/{STAGING}empty_alone/")),
    ),
    Case(
        "empty_named",
        {"empty.csv": b""},
        crawl=Skipped("empty file"),
        job=Fails("empty.csv"),
        job_reads="empty.csv",
    ),
    Case(
        "header_only",
        {"header.csv": b"id,name,amount\n"},
        crawl=Cataloged((("id", "string"), ("name", "string"), ("amount", "string"))),
        query=Answers("count(*)", [["0"]]),
        job=Answers("count(*)", [["0"]]),
    ),
    Case(
        "semicolon",
        {"semi.csv": b"id;name;amount\n1;a;1.5\n2;b;2.5\n"},
        crawl=Cataloged((("id", "bigint"), ("name", "string"), ("amount", "double"))),
        query=Answers("count(*), sum(amount), max(name)", [["2", "4.0", "b"]]),
        job=Answers("count(*), sum(CAST(amount AS double))", [["2", "4.0"]]),
        job_options={"header": True, "delimiter": ";"},
    ),
    Case(
        "semicolon_read_as_comma",
        {"semi.csv": b"id;name;amount\n1;a;1.5\n2;b;2.5\n"},
        crawl=Cataloged((("id", "bigint"), ("name", "string"), ("amount", "double"))),
        query=Answers("count(*)", [["2"]]),
        job=Fails("semi.csv", ("id",)),
        job_options={"header": True, "delimiter": ","},
        job_columns={"id": "bigint", "amount": "double"},
    ),
    Case(
        "tab",
        {"tab.csv": b"id\tname\tamount\n1\ta\t1.5\n2\tb\t2.5\n"},
        crawl=Cataloged((("id", "bigint"), ("name", "string"), ("amount", "double"))),
        query=Answers("count(*), sum(amount)", [["2", "4.0"]]),
        job=Answers("count(*)", [["2"]]),
    ),
    Case(
        "latin1",
        {"latin1.csv": LATIN1},
        crawl=Cataloged((("id", "bigint"), ("name", "string")), warning="line 2, column 6: not UTF-8 text (byte 0xE9)"),
        query=Fails("latin1.csv", ("line 2", "not utf-8 encoded", "hint: Athena reads text files as UTF-8")),
        job=Fails("latin1.csv", ("line 2", "column name", "not utf-8 encoded", "hint:")),
        upload="cli",
    ),
    Case(
        "utf16",
        {"utf16.csv": UTF16},
        crawl=Skipped("UTF-16 text (it starts with a UTF-16 byte order mark)"),
        job=Fails("utf16.csv", ("line 2", "not utf-8 encoded", "hint:")),
        upload="cli",
    ),
    Case(
        "mixed_encodings",
        {"mixed.csv": MIXED},
        crawl=Cataloged((("id", "bigint"), ("name", "string")), warning="line 3, column 5: not UTF-8 text (byte 0xEF)"),
        query=Fails("mixed.csv", ("line 3", "not utf-8 encoded", "hint:")),
        job=Fails("mixed.csv", ("line 3", "column name", "not utf-8 encoded")),
    ),
    Case(
        "huge_line",
        {"huge.csv": b"id,blob\n1," + b"x" * HUGE + b"\n2,y\n"},
        crawl=Cataloged(),
        query=Answers("count(*), max(length(blob))", [["2", str(HUGE)]]),
        job=Answers("count(*), max(length(blob))", [["2", str(HUGE)]]),
    ),
    Case(
        "arrays_of_arrays",
        {"a.json": b'{"m": [[1, 2], [3]]}\n{"m": [[4]]}\n'},
        format="json",
        crawl=Cataloged((("m", "array<array<bigint>>"),)),
        query=Answers("count(*), sum(cardinality(flatten(m)))", [["2", "4"]]),
        job=Answers("count(*)", [["2"]]),
        job_options={},
    ),
    Case(
        "object_or_scalar",
        {"k.json": b'{"k": {"x": 1}}\n{"k": 5}\n'},
        format="json",
        crawl=Cataloged((("k", "string"),)),
        query=Answers("array_join(array_agg(k ORDER BY k), ' ')", [['5 {"x":1}']]),
        job=Answers("count(*)", [["2"]]),
        job_options={},
    ),
    Case(
        "deep",
        {"deep.json": nested(200)},
        format="json",
        crawl=Cataloged(),
        query=Fails("", ("JSON exceeds maximum recursion depth of 128", "reading bad.deep")),
        job=Fails("deep.json", ("job j-deep",)),
        job_options={},
    ),
    Case(
        "top_level_scalars",
        {"s.json": b'1\n"two"\n3.0\n'},
        format="json",
        crawl=Cataloged((("col0", "string"),)),  # not JSON records: a one-column text file, as lakeport reads it
        query=Answers("count(*)", [["3"]]),
        job=Answers("count(*)", [["3"]]),
        job_options={},
    ),
    Case(
        "lines_and_an_array",
        {"m.json": b'{"a": 1}\n[{"a": 2}, {"a": 3}]\n'},
        format="json",
        crawl=Cataloged((("a", "bigint"),), warning="line 2: not a JSON object (array)"),
        query=Fails("m.json", ("JSON",)),
        job=Answers("count(*)", [["2"]]),  # each line kept, as JSON text
        job_options={},
    ),
    Case(
        "parquet_odd_types",
        {
            "odd.parquet": parquet(
                {
                    "id": pa.array([1, 2]),
                    "duration": pa.array([1, 2], pa.duration("s")),
                    "uint64": pa.array([1, 2**64 - 1], pa.uint64()),
                    "dec256": pa.array([1, 2], pa.decimal256(50, 2)),
                    "half": pa.array([1.5, 2.5], pa.float32()).cast(pa.float16()),
                    "clock": pa.array([1, 2], pa.time64("ns")),
                    "dict": pa.array(["a", "b"]).dictionary_encode(),
                    "map": pa.array([[("a", 1)], [("b", 2)]], pa.map_(pa.string(), pa.int64())),
                }
            )
        },
        format="parquet",
        crawl=Cataloged(
            (
                ("id", "bigint"),
                ("duration", "bigint"),
                ("uint64", "decimal(20,0)"),
                ("dec256", "double"),
                ("half", "float"),
                ("clock", "string"),
                ("dict", "string"),
                ("map", "map<string,bigint>"),
            )
        ),
        query=Answers(
            "max(duration), max(uint64), sum(dec256), sum(half), max(clock), max(dict), max(element_at(map, 'b'))",
            [["2", "18446744073709551615", "3.0", "4.0", "00:00:00.000000002", "b", "2"]],
        ),
        job=Answers("count(*), max(uint64)", [["2", "18446744073709551615"]]),
        job_options={},
    ),
    Case(
        "names",
        {"my file é 日本.csv": b"id,name\n1,x\n2,y\n"},
        crawl=Cataloged((("id", "bigint"), ("name", "string"))),
        query=Answers("count(*), sum(id)", [["2", "3"]]),
        job=Answers("count(*), sum(id)", [["2", "3"]]),
        job_reads="my file é 日本.csv",
        job_columns={"id": "bigint"},
        upload="cli",
    ),
    Case(
        "links_uploaded",
        {"real.csv": REAL},
        crawl=Cataloged((("id", "bigint"), ("name", "string"))),
        query=Answers("count(*), sum(id)", [["5", "96"]]),
        job=Answers("count(*)", [["5"]]),
        upload="cli",
        build=links_to_upload,
        listed=("inside.csv", "outside.csv", "real.csv"),  # links followed; the dangling and the loop skipped
    ),
    Case(
        "links_inside_outside_dangling",
        {"real.csv": REAL},
        crawl=Cataloged((("id", "bigint"), ("name", "string"))),
        query=Answers("count(*), sum(id)", [["4", "6"]]),  # the file outside the lake is never read
        job=Answers("count(*), sum(CAST(id AS bigint))", [["4", "6"]]),
        build=links_in_the_lake("inside", "outside", "dangling"),
        listed=("inside.csv", "real.csv"),
    ),
    Case(
        "links_loop",
        {"real.csv": REAL},
        crawl=Cataloged((("id", "bigint"), ("name", "string"))),
        query=Answers("count(*)", [["2"]]),
        job=Answers("count(*)", [["2"]]),
        build=links_in_the_lake("loop"),
        listed=("real.csv",),
    ),
]


def cases(stage: str, *, having: Callable[[Case], bool] = lambda c: True) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in CASES if having(c)]


# ---- one lake for the whole catalogue, with a last good state


@dataclass
class World:
    lake: Lake
    folder: Path  # for local copies and the file outside the lake
    staged: set[str] = field(default_factory=set)
    crawls: dict[str, CrawlRun] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("bad-inputs")
    lake = Lake.init(folder / "lake")
    (folder / "outside.csv").write_bytes(OUTSIDE)
    lake.storage.put_object(BUCKET, "staging/sales/sales.csv", b"id,amount\n1,10\n2,20\n3,30\n")
    assert lake.crawlers.crawl(f"s3://{BUCKET}/staging/sales/", database="good")[1].status == "SUCCEEDED"
    lake.jobs.create_job(job_definition("good-load", "s3://lakeport/staging/sales/", "csv", {"header": True}, {}))
    run = lake.jobs.start_job_run("good-load", wait=True)
    assert run.state == "SUCCEEDED", run.error
    yield World(lake, folder)
    lake.close()


@pytest.fixture(scope="module")
def last_good(world: World) -> dict[str, Any]:
    return good_state(world.lake)


@pytest.fixture(autouse=True)
def _keeps_the_last_good_state(world: World, last_good: dict[str, Any]) -> Iterator[None]:
    yield
    assert good_state(world.lake) == last_good


def good_state(lake: Lake) -> dict[str, Any]:
    """What must never change: the crawled table's definition and the warehouse table's current metadata."""
    sales = lake.catalog.get_table("good", "sales")
    warehouse = lake.catalog.get_table("wh", "good_load")
    return {
        "sales": (sales.columns, sales.location, sales.version, sales.format),
        "warehouse": (warehouse.parameters["metadata_location"], warehouse.version),
        "tables": sorted(t.name for t in lake.catalog.list_tables("good")),
    }


def job_definition(
    name: str, path: str, fmt: str, options: Mapping[str, Any], columns: Mapping[str, str]
) -> JobDefinition:
    return JobDefinition.from_dict(
        {
            "name": name,
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": path,
                    "format": fmt,
                    "options": dict(options),
                    "columns": dict(columns),
                },
                {
                    "id": "out",
                    "type": "sink",
                    "input": "src",
                    "table": f"wh.{name.replace('-', '_')}",
                    "mode": "overwrite",
                },
            ],
        }
    )


# ---- the stages


def stage(world: World, case: Case) -> None:
    """Upload the case's files (once per module), and make its links."""
    if case.id in world.staged:
        return
    lake = world.lake
    if case.upload == "cli":
        local = world.folder / "upload" / case.id
        local.mkdir(parents=True)
        for name, data in case.files.items():
            (local / name).write_bytes(data)
        if case.build is not None:
            case.build(local, world.folder / "outside.csv")
        proc = run_cli("s3", "cp", "--recursive", str(local), f"s3://{BUCKET}/{case.prefix}", lake=lake.root)
        assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    else:
        for name, data in case.files.items():
            lake.storage.put_object(BUCKET, case.prefix + name, data)
        if case.build is not None:
            backend = lake.backend
            assert isinstance(backend, LocalBackend)
            case.build(backend.root / BUCKET / case.prefix, world.folder / "outside.csv")
    world.staged.add(case.id)


def crawl(world: World, case: Case) -> CrawlRun:
    stage(world, case)
    if case.id not in world.crawls:
        _, run = world.lake.crawlers.crawl(f"s3://{BUCKET}/{case.prefix}", database="bad")
        world.crawls[case.id] = run
    return world.crawls[case.id]


def rows_of(lake: Lake, execution_id: str) -> Rows:
    page = lake.queries.get_query_results(execution_id)
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"][1:]]


def check_failure(message: str, case: Case, expected: Fails) -> None:
    assert "Traceback" not in message, message
    if expected.file:
        assert case.uri(expected.file) in message, message
    for words in expected.says:
        assert words.lower() in message.lower(), message
    assert "/objects/" not in message, f"a local path instead of the object's URI: {message}"


@pytest.mark.parametrize("case", cases("upload"))
def test_the_upload_lists_every_object_the_files_make(world: World, case: Case) -> None:
    stage(world, case)
    page = world.lake.storage.list_objects(BUCKET, prefix=case.prefix)
    expected = case.listed if case.listed is not None else tuple(case.files)
    assert [o.key.removeprefix(case.prefix) for o in page.objects] == sorted(expected)
    for name in expected:
        assert world.lake.storage.head_object(BUCKET, case.prefix + name).size >= 0


@pytest.mark.parametrize("case", cases("crawl"))
def test_the_crawl_catalogs_what_it_can_and_reports_what_it_skips(world: World, case: Case) -> None:
    run = crawl(world, case)

    assert run.status == "SUCCEEDED", run.error
    table = case.id
    if isinstance(case.crawl, Skipped):
        assert [w["file"] for w in run.warnings] == [case.uri(n) for n in case.files], run.warnings
        assert all(case.crawl.reason in w["reason"] for w in run.warnings), run.warnings
        with pytest.raises(NotFound):
            world.lake.catalog.get_table("bad", table)
        return
    found = world.lake.catalog.get_table("bad", table)
    assert found.location == f"s3://{BUCKET}/{case.prefix}"
    if case.crawl.columns is not None:
        assert tuple((c.name, c.type) for c in found.columns) == case.crawl.columns
    if case.crawl.warning is None:
        assert run.warnings == []
    else:
        assert any(w["file"].startswith(case.uri("")) and case.crawl.warning in w["reason"] for w in run.warnings), (
            run.warnings
        )


@pytest.mark.parametrize("case", cases("query", having=lambda c: c.query is not None))
def test_a_query_of_the_crawled_table_answers_or_names_the_object(world: World, case: Case) -> None:
    crawl(world, case)
    expected = case.query
    assert expected is not None
    select = expected.select if isinstance(expected, Answers) else "*"
    execution = world.lake.query(f"SELECT {select} FROM bad.{case.id}")

    if isinstance(expected, Answers):
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        assert rows_of(world.lake, execution.id) == expected.rows
    else:
        assert execution.state == "FAILED"
        check_failure(execution.state_change_reason or "", case, expected)


@pytest.mark.parametrize("case", cases("job"))
def test_a_job_reading_the_files_loads_every_row_or_names_the_object(world: World, case: Case) -> None:
    stage(world, case)
    lake = world.lake
    name = "j-" + case.id.replace("_", "-")
    path = case.uri(case.job_reads or "")
    lake.jobs.create_job(job_definition(name, path, case.format, case.job_options, case.job_columns))
    run = lake.jobs.start_job_run(name, wait=True)
    table = name.replace("-", "_")

    if isinstance(case.job, Answers):
        assert run.state == "SUCCEEDED", run.error
        execution = lake.query(f"SELECT {case.job.select} FROM wh.{table}")
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        assert rows_of(lake, execution.id) == case.job.rows
    else:
        assert run.state == "FAILED"
        check_failure(run.error or "", case, case.job)
        with pytest.raises(NotFound):  # nothing half-written: no table
            lake.catalog.get_table("wh", table)


@pytest.mark.parametrize("link", ["dangling", "loop"])
def test_uploading_a_link_that_leads_nowhere_is_refused_by_name(world: World, link: str) -> None:
    local = world.folder / "single-links"
    local.mkdir(exist_ok=True)
    if link == "dangling":
        os.symlink(local / "nowhere.csv", local / "dangling.csv")
    else:
        os.symlink("loop_b.csv", local / "loop.csv")
        os.symlink("loop.csv", local / "loop_b.csv")
    source = local / f"{link}.csv"

    proc = run_cli(
        "s3", "cp", str(source), f"s3://{BUCKET}/{STAGING}single/{link}.csv", lake=world.lake.root, check=False
    )

    assert proc.returncode != 0
    error = proc.stderr.decode()
    assert "Traceback" not in error
    assert str(source) in error
    assert world.lake.storage.list_objects(BUCKET, prefix=f"{STAGING}single/").objects == []


def test_the_cli_crawls_and_queries_a_bad_file_with_clear_words_and_no_traceback(world: World) -> None:
    latin1 = next(c for c in CASES if c.id == "latin1")
    stage(world, latin1)

    crawled = run_cli("crawl", f"s3://{BUCKET}/{latin1.prefix}", "--database", "bad_cli", lake=world.lake.root)
    out = " ".join((crawled.stdout + crawled.stderr).decode().split())
    assert "Traceback" not in out
    assert latin1.uri("latin1.csv") in out, out
    assert "line 2, column 6: not UTF-8 text" in out, out

    queried = run_cli("query", "SELECT * FROM bad_cli.latin1", lake=world.lake.root, check=False)
    error = " ".join(queried.stderr.decode().split())
    assert queried.returncode != 0
    assert "Traceback" not in error
    assert f"{latin1.uri('latin1.csv')}, line 2: Invalid unicode" in error, error
    assert "convert the file to UTF-8" in error, error


def test_after_every_case_the_last_good_tables_answer_as_before(world: World) -> None:
    lake = world.lake
    for sql in (
        "SELECT count(*), sum(amount) FROM good.sales",
        "SELECT count(*), sum(CAST(amount AS bigint)) FROM wh.good_load",
    ):
        execution = lake.query(sql)
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        assert rows_of(lake, execution.id) == [["3", "60"]]
    assert sorted(t.name for t in lake.catalog.list_tables("good")) == ["sales"]
