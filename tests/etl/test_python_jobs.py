"""Python jobs: a script's ``main(ctx)`` reads staging files, runs SQL and writes a warehouse table; print() is logged."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lakeport import Lake
from lakeport.etl import JobDefinition
from tests.etl.etl_kit import log_lines, put, table_columns, table_rows

SCRIPT = """
import sys


def main(ctx):
    print(f"minimum plays: {ctx.args['min_plays']}")
    plays = ctx.read(
        ctx.args["staging"],
        format="csv",
        options={"delimiter": ";"},
        columns={"id": "bigint", "plays": "int"},
        name="plays",
    )
    popular = ctx.sql(
        f"SELECT id, upper(title) AS title, plays FROM {plays} WHERE plays >= {int(ctx.args['min_plays'])}",
        name="popular",
    )
    metrics = ctx.write(popular, ctx.args["table"], mode="overwrite")
    print("rows written:", metrics["rows_written"], end="")
    print(" (done)")
    print("a warning", file=sys.stderr)
    ctx.log("through ctx.log")
    print("last words without a newline", end="")
"""


def test_python_job_reads_transforms_writes_and_logs(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    put(lake, "staging/plays/a.csv", b"id;title;plays\n1;one;5\n2;two;12\n")
    put(lake, "staging/plays/b.csv", b"id;title;plays\n3;three;20\n4;four;9\n")
    script = tmp_path / "popular.py"
    script.write_text(textwrap.dedent(SCRIPT))
    lake.jobs.create_job(
        JobDefinition.from_dict(
            {
                "name": "popular",
                "script": str(script),
                "parameters": {"staging": "s3://lakeport/staging/plays/", "min_plays": "100", "table": "music.popular"},
            }
        )
    )

    run = lake.jobs.start_job_run("popular", arguments={"min_plays": "10"}, wait=True)

    assert run.state == "SUCCEEDED", run.error
    assert run.error is None
    assert table_columns(lake, "music.popular") == ["id", "title", "plays"]
    assert table_rows(lake, "music.popular") == [(2, "TWO", 12), (3, "THREE", 20)]
    assert run.metrics["rows_read"] == 4
    assert run.metrics["rows_written"] == 2
    assert run.metrics["sinks"]["sink_3"]["table"] == "music.popular"

    lines = log_lines(lake, run.log_group, run.log_stream)
    # what the script printed or logged, among the runner's own lines (run …, source …, sink …)
    printed = [line for line in lines if not line[1].startswith(("run ", "source ", "sink "))]
    assert printed == [
        ("INFO", "minimum plays: 10"),  # the run's argument, not the default
        ("INFO", "rows written: 2 (done)"),  # one line, however many print() calls made it
        ("ERROR", "a warning"),  # stderr
        ("INFO", "through ctx.log"),
        ("INFO", "last words without a newline"),  # flushed when the script ends
    ]
    messages = [m for _, m in lines]
    assert messages.index("minimum plays: 10") < messages.index("rows written: 2 (done)")
    assert messages[-1].startswith("run SUCCEEDED")


def test_python_job_that_raises_fails_with_the_message(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    script = tmp_path / "broken_job.py"
    script.write_text(
        "def main(ctx):\n    print('before the error')\n    raise ValueError('no plays for 2023-13-01')\n"
    )
    lake.jobs.create_job(JobDefinition.from_file(script))

    run = lake.jobs.start_job_run("broken_job", wait=True)

    assert run.state == "FAILED"
    assert run.error == "ValueError: no plays for 2023-13-01"
    lines = log_lines(lake, run.log_group, run.log_stream)
    assert ("INFO", "before the error") in lines
    assert ("ERROR", "run FAILED: ValueError: no plays for 2023-13-01") in lines


def test_python_job_without_its_entry_function(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    script = tmp_path / "no_entry.py"
    script.write_text("def mian(ctx):\n    pass\n")
    lake.jobs.create_job(JobDefinition.from_file(script))

    run = lake.jobs.start_job_run("no_entry", wait=True)

    assert run.state == "FAILED"
    assert run.error is not None
    assert str(script.resolve()) in run.error
    assert "has no function main(ctx)" in run.error
    assert run.error.startswith("job no_entry:")
