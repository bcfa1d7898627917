"""Data-driven crawler tests: each folder under ``fixtures/`` is uploaded, crawled, and the catalog compared with
the case's ``expected.json`` (written from Glue's documented rules; see ``fixture_kit`` for the format).

Every case is crawled twice: the first crawl must build exactly the expected catalog, the second must read no
file and change nothing. Three cases also run on the S3 backend, and a differential test checks that the S3 and
the local backend build the same catalog from the same files.
"""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import difflib
import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from _pytest.mark.structures import ParameterSet

from lakeport import Lake
from lakeport.catalog.model import Table
from lakeport.crawler import CrawlerDefinition
from lakeport.crawler.runs import CrawlRun
from tests.crawler.fixture_kit import Case, ExpectedTable, load_cases, materialize, upload

DATABASE = "fixtures"
CASES = load_cases()
BACKEND_CASES = ("spotify_staging", "hive_parquet", "compressed")


def _cases(names: Sequence[str] | None = None) -> list[ParameterSet]:
    chosen = CASES if names is None else [c for c in CASES if c.name in names]
    return [pytest.param(c, id=c.name) for c in chosen]


def test_the_fixture_set_is_complete() -> None:
    names = {c.name for c in CASES}
    assert set(BACKEND_CASES) <= names
    assert len(names) >= 13, sorted(names)


def test_fixture_kit_materializes_what_the_names_say(tmp_path: Path) -> None:
    """The special sources really become Parquet, Avro, compressed, hex and truncated objects."""
    files = tmp_path / "files"
    (files / "d").mkdir(parents=True)
    spec = {
        "schema": [
            ["id", "int64"],
            ["at", "timestamp[us]"],
            ["price", "decimal128(10,2)"],
            ["s", "struct<a: list<int32>>"],
        ],
        "rows": [[1, "2024-01-31T10:00:00", "12.50", {"a": [1, 2]}]],
    }
    (files / "d" / "t.parquet.json").write_text(json.dumps(spec))
    (files / "d" / "cut.parquet.json").write_text(json.dumps(spec))
    (files / "d" / "cut.parquet.json.opts").write_text('{"truncate": -8}')
    (files / "p.avro.json").write_text(json.dumps({"schema": [["x", "int32"]], "rows": [[7]]}))
    for codec in ("gz", "bz2", "zst"):
        (files / f"a.csv.{codec}.src").write_text("a,b\n1,2\n")
    (files / "junk.hex").write_text("00 ff\n10")
    (files / "head.txt.truncate-3").write_text("abcdef")
    objects = {o.key: o.body for o in materialize(files)}
    assert sorted(objects) == [
        "a.csv.bz2",
        "a.csv.gz",
        "a.csv.zst",
        "d/cut.parquet",
        "d/t.parquet",
        "head.txt",
        "junk",
        "p.avro",
    ]
    table = pq.read_table(pa.BufferReader(objects["d/t.parquet"]))
    assert str(table.schema.field("s").type) == "struct<a: list<element: int32>>"
    assert table.column("price").type == pa.decimal128(10, 2)
    assert table.to_pylist()[0]["at"] == dt.datetime(2024, 1, 31, 10, 0)
    assert objects["d/cut.parquet"] == objects["d/t.parquet"][:-8]
    assert objects["p.avro"].startswith(b"Obj\x01")
    assert gzip.decompress(objects["a.csv.gz"]) == bz2.decompress(objects["a.csv.bz2"]) == b"a,b\n1,2\n"
    assert zstandard.ZstdDecompressor().decompressobj().decompress(objects["a.csv.zst"]) == b"a,b\n1,2\n"
    assert objects["junk"] == b"\x00\xff\x10"
    assert objects["head.txt"] == b"abc"


# ---------------------------------------------------------------------------------------------------------------------
# Crawling a case.


@dataclasses.dataclass
class Crawled:
    include: str
    run: CrawlRun
    again: Callable[[], CrawlRun]


def crawl_case(lake: Lake, case: Case) -> Crawled:
    """Upload the case and crawl it once; ``again`` crawls it once more with the same crawler."""
    include = upload(lake, case)
    target = include + case.include
    if case.crawler:
        name = "fixture-" + case.name.replace("_", "-")
        definition = {**case.crawler, "name": name, "targets": [target], "database": DATABASE}
        lake.crawlers.create_crawler(CrawlerDefinition.from_dict(definition))
        return Crawled(include, lake.crawlers.start_crawler(name), lambda: lake.crawlers.start_crawler(name))
    _, run = lake.crawlers.crawl(target, database=DATABASE)
    return Crawled(include, run, lambda: lake.crawlers.crawl(target, database=DATABASE)[1])


def _has_database(lake: Lake) -> bool:
    return any(d.name == DATABASE for d in lake.catalog.list_databases())


def snapshot(lake: Lake) -> dict[str, Any]:
    """Everything the crawl wrote: each table's version and definition, and its partitions."""
    if not _has_database(lake):
        return {}
    out: dict[str, Any] = {}
    for table in lake.catalog.list_tables(DATABASE):
        partitions = lake.catalog.get_partitions(DATABASE, table.name) if table.partition_keys else []
        out[table.name] = {
            "version": table.version,
            "definition": table.definition(),
            "partitions": [p.to_dict() for p in partitions],
        }
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Comparing with expected.json.


def _lines_diff(label: str, expected: Sequence[Sequence[Any]], actual: Sequence[Sequence[Any]]) -> list[str]:
    """A readable diff of two lists of tuples (columns, keys, partition values), or nothing when they agree."""
    want = [" ".join(str(v) for v in item) for item in expected]
    got = [" ".join(str(v) for v in item) for item in actual]
    if want == got:
        return []
    diff = difflib.unified_diff(want, got, "expected", "actual", lineterm="", n=max(len(want), len(got)))
    return [f"{label} differ:", *(f"      {line}" for line in list(diff)[2:])]


def _table_problems(lake: Lake, include: str, expected: ExpectedTable, table: Table) -> list[str]:
    problems: list[str] = []

    def check(what: str, want: Any, got: Any) -> None:
        if want != got:
            problems.append(f"{what}: expected {want!r}, got {got!r}")

    check("location", include + expected.location, table.location)
    check("classification", expected.classification, table.classification)
    check("table type", expected.table_type, table.table_type)
    problems += _lines_diff("columns", expected.columns, [(c.name, c.type) for c in table.columns])
    problems += _lines_diff("partition keys", expected.partition_keys, [(c.name, c.type) for c in table.partition_keys])
    partitions = lake.catalog.get_partitions(DATABASE, table.name) if table.partition_keys else []
    problems += _lines_diff(
        "partition values",
        [[("NULL" if v is None else v) for v in p.values] for p in expected.partitions],
        [[("NULL" if v is None else v) for v in p.values] for p in partitions],
    )
    by_values = {p.values: p for p in partitions}
    for want in expected.partitions:
        got = by_values.get(want.values)
        if got is None:
            continue
        label = f"partition {list(want.values)}"
        if want.location is not None:
            check(f"{label} location", include + want.location, got.location)
        if want.file_count is not None:
            check(f"{label} file count", want.file_count, got.file_count)
        if want.check_row_count:
            check(f"{label} row count", want.row_count, got.row_count)
    actual_format = table.format.to_dict()
    for key, value in expected.format.items():
        if key not in actual_format:
            problems.append(f"format: expected.json names an unknown format field {key!r}")
        else:
            check(f"format {key}", value, actual_format[key])
    if expected.serde is not None:
        check("serde", expected.serde, table.format.serde_library)
    for key, value in expected.parameters.items():
        check(f"parameter {key}", value.replace("{include}", include), table.parameters.get(key))
    return problems


def _warning_problems(case: Case, warnings: Sequence[dict[str, str]]) -> list[str]:
    """Every expected (suffix, reason) pair matches its own warning, and no warning is left unmatched."""
    left = list(warnings)
    problems: list[str] = []
    for suffix, reason in case.warnings:
        match = next((w for w in left if w["file"].endswith(suffix) and reason.lower() in w["reason"].lower()), None)
        if match is None:
            problems.append(f"no warning for a file ending in {suffix!r} with a reason containing {reason!r}")
        else:
            left.remove(match)
    problems += [f"unexpected warning: {w['file']}: {w['reason']}" for w in left]
    return problems


def catalog_problems(lake: Lake, case: Case, crawled: Crawled) -> list[str]:
    run = crawled.run
    if run.status != "SUCCEEDED":
        return [f"crawl ended {run.status}: {run.error}"]
    problems: list[str] = []
    actual = {t.name: t for t in lake.catalog.list_tables(DATABASE)} if _has_database(lake) else {}
    expected = {t.name: t for t in case.tables}
    if len(actual) != case.table_count:
        problems.append(f"table count: expected {case.table_count}, got {len(actual)}")
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"missing tables: {missing}")
    if extra:
        problems.append(f"unexpected tables: {extra}")
    for name in sorted(set(expected) & set(actual)):
        problems += [f"table {name}: {p}" for p in _table_problems(lake, crawled.include, expected[name], actual[name])]
    problems += _warning_problems(case, run.warnings)
    for key, value in case.summary.items():
        if run.summary.get(key) != value:
            problems.append(f"summary {key}: expected {value}, got {run.summary.get(key)!r}")
    return problems


def describe(lake: Lake, include: str) -> str:
    """The catalog in short, for failure messages."""
    if not _has_database(lake):
        return "  (no database)"
    lines: list[str] = []
    for table in lake.catalog.list_tables(DATABASE):
        location = table.location.removeprefix(include)
        keys = ", ".join(f"{c.name} {c.type}" for c in table.partition_keys)
        lines.append(f"  {table.name} at {location!r} ({table.classification}) partitioned by [{keys}]")
        lines.append("    " + ", ".join(f"{c.name} {c.type}" for c in table.columns))
    return "\n".join(lines) or "  (no tables)"


def check_case(lake: Lake, case: Case) -> None:
    crawled = crawl_case(lake, case)
    problems = catalog_problems(lake, case, crawled)
    assert not problems, (
        f"case {case.name}: the catalog differs from expected.json:\n  - "
        + "\n  - ".join(problems)
        + f"\nwarnings: {json.dumps(crawled.run.warnings, indent=1)}\nactual catalog:\n{describe(lake, crawled.include)}"
    )

    before = snapshot(lake)
    again = crawled.again()
    assert again.status == "SUCCEEDED", f"case {case.name}: the second crawl ended {again.status}: {again.error}"
    changes = {
        key: again.summary.get(key)
        for key in (
            "files_read",
            "tables_created",
            "tables_updated",
            "tables_deleted",
            "partitions_added",
            "partitions_updated",
            "partitions_removed",
        )
    }
    assert all(v == 0 for v in changes.values()), f"case {case.name}: the second crawl did something: {changes}"
    after = snapshot(lake)
    assert after == before, f"case {case.name}: the second crawl changed the catalog:\n" + "\n".join(
        difflib.unified_diff(
            json.dumps(before, indent=1, sort_keys=True, default=str).splitlines(),
            json.dumps(after, indent=1, sort_keys=True, default=str).splitlines(),
            "first crawl",
            "second crawl",
            lineterm="",
        )
    )


# ---------------------------------------------------------------------------------------------------------------------
# The tests.


@pytest.mark.parametrize("case", _cases())
def test_fixture_catalog(local_lake: Lake, case: Case) -> None:
    check_case(local_lake, case)


@pytest.mark.parametrize("case", _cases(BACKEND_CASES))
def test_fixture_catalog_on_each_backend(lake: Lake, case: Case) -> None:
    check_case(lake, case)


def _portable(lake: Lake) -> dict[str, Any]:
    """The snapshot with the bucket name and the (bucket-derived) crawler name taken out."""
    bucket = lake.storage.default_bucket
    data = snapshot(lake)
    for table in data.values():
        table["definition"]["parameters"].pop("UPDATED_BY_CRAWLER", None)
        for partition in table["partitions"]:
            partition.pop("created_at", None)
            partition.pop("updated_at", None)
    text = json.dumps(data, indent=1, sort_keys=True, default=str)
    return dict(json.loads(text.replace(f"s3://{bucket}/", "s3://BUCKET/")))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if c.name in BACKEND_CASES])
def test_s3_and_local_backends_build_the_same_catalog(s3_lake: Lake, tmp_path: Path, case: Case) -> None:
    """Independent of expected.json: S3 and local give one catalog."""
    with Lake.init(tmp_path / "local-lake") as local_lake:
        local = crawl_case(local_lake, case)
        local_catalog = _portable(local_lake)
        local_bucket = local_lake.storage.default_bucket
    remote = crawl_case(s3_lake, case)
    assert (local.run.status, remote.run.status) == ("SUCCEEDED", "SUCCEEDED"), (local.run.error, remote.run.error)
    s3_catalog = _portable(s3_lake)
    assert s3_catalog == local_catalog, f"case {case.name}: S3 and local catalogs differ:\n" + "\n".join(
        difflib.unified_diff(
            json.dumps(local_catalog, indent=1, sort_keys=True).splitlines(),
            json.dumps(s3_catalog, indent=1, sort_keys=True).splitlines(),
            "local",
            "s3",
            lineterm="",
        )
    )
    strip = f"s3://{local_bucket}/", f"s3://{s3_lake.storage.default_bucket}/"
    assert [(w["file"].removeprefix(strip[0]), w["reason"]) for w in local.run.warnings] == [
        (w["file"].removeprefix(strip[1]), w["reason"]) for w in remote.run.warnings
    ]
