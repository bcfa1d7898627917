"""`make demo` runs what exists of the pipeline to the end."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from lakeport import Lake
from lakeport.iam.credentials import credentials_path, read_credentials_file
from tests.support.serve import free_port

pytestmark = pytest.mark.xdist_group("demo")  # one worker runs the demo (the module's fixture) for every test


COMMAND = [sys.executable, "-m", "lakeport.demo"]


def run_demo(lake: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*COMMAND, str(lake), "--scale", "0.01"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def serve_demo(lake: Path) -> subprocess.CompletedProcess[str]:
    """``make demo``'s way: the demo, then the console serving the dashboard until Ctrl-C. Checks over HTTP that the
    dashboard page is served (sign-in first) and that the printed key reads the dashboard's data."""
    port = free_port()
    argv = [*COMMAND, str(lake), "--scale", "0.01", "--serve", "--port", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any("after the demo started; Ctrl-C stops" in line for line in lines):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(lines) + proc.stderr.read()
            assert time.monotonic() < deadline, "".join(lines)
            lines.append(line)
        url = f"http://127.0.0.1:{port}"
        assert any(f"{url}/dashboards/spotify" in line for line in lines)
        key_id = next(re.search(r"access key (\S+)", line) for line in lines if "sign in with access key" in line)
        assert key_id is not None
        with Lake.open(lake) as opened:
            found = read_credentials_file(credentials_path(opened.root))
        assert found is not None
        assert found.access_key_id == key_id.group(1)
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(100):  # the port opens just after the line is printed
                try:
                    page = client.get("/dashboards/spotify")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert page.status_code == 303
            assert page.headers["location"].startswith("/login")
            data = client.post(
                "/api/v1/dashboards/spotify/data",
                json={"Sheet": "Overview"},
                auth=(found.access_key_id, found.secret_access_key),
            )
            assert data.status_code == 200, data.text
            assert {v["Visual"] for v in data.json()["Visuals"]} >= {"tracks", "top-artists"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return subprocess.CompletedProcess(argv, proc.returncode, "".join(lines) + out, err)


@pytest.fixture(scope="session")  # session: tests of other files may run between these on the worker
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """The demo run twice on one lake (it must be repeatable), the second time serving its dashboard as
    ``make demo`` does; the tests below read that lake."""
    lake = tmp_path_factory.mktemp("demo") / "demo-lake"
    return lake, [run_demo(lake), serve_demo(lake)]


def test_demo_runs_to_the_end_and_is_repeatable(demo: tuple[Path, list[subprocess.CompletedProcess[str]]]) -> None:
    root, runs = demo
    for n, proc in enumerate(runs, start=1):
        assert "staging/spotify/spotify-albums_data_2023.csv" in proc.stdout
        assert "pipeline and dashboard ready" in proc.stdout
        assert "crawled staging: SUCCEEDED" in proc.stdout
        assert '"Spotify pipeline succeeded" delivered to notifications/spotify-pipeline-events.jsonl' in proc.stdout
        assert f"({n} pipeline notification(s) so far)" in proc.stdout
        # the first run's upload starts the state machine through the trigger rule; the second lands the same
        # bytes (no new object event), so the demo starts it by hand
        started = "trigger rule spotify-new-files: 5 new objects → execution spotify-new-files-"
        assert (started in proc.stdout) == (n == 1), proc.stdout
        assert "QuickSight: dashboard spotify (examples/spotify/dashboard.yaml): tracks " in proc.stdout
    with Lake.open(root) as lake:
        # the reference pipeline's wiring (issue 9): the state machine ran twice, published to the topic, whose
        # one file subscription (installing twice does not subscribe twice) got both; the alarm watches failed runs
        executions = lake.states.list_executions("spotify-pipeline")
        assert [e.status for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
        (subscription,) = lake.notify.list_subscriptions_by_topic("spotify-pipeline-events")
        assert subscription.protocol == "file"
        sent = [json.loads(line) for line in (lake.root / "notifications" / "spotify-pipeline-events.jsonl").open()]
        notes = [n for n in sent if n["Subject"].startswith("Spotify pipeline")]
        assert [n["Subject"] for n in notes] == ["Spotify pipeline succeeded"] * 2
        # while the second run served, the scheduler evaluated the alarm: INSUFFICIENT_DATA → OK is an OKAction
        assert {n["Subject"] for n in sent} - {"Spotify pipeline succeeded"} <= {
            'OK: "spotify-job-failed" in us-east-1'
        }
        assert {json.loads(n["Message"])["execution"] for n in notes} == {e.arn for e in executions}
        (alarm,) = lake.alarms.describe_alarms()
        assert (alarm.name, alarm.metric_name, alarm.namespace) == ("spotify-job-failed", "JobRunsFailed", "Glue")
        assert alarm.state != "ALARM"
        keys = [o.key for o in lake.storage.iter_objects("lakeport", prefix="staging/")]
        assert keys == [
            "staging/spotify/spotify-albums_data_2023.csv",
            "staging/spotify/spotify_artist_data_2023.csv",
            "staging/spotify/spotify_data_12_20_2023.csv",
            "staging/spotify/spotify_features_data_2023.csv",
            "staging/spotify/spotify_tracks_data_2023.csv",
        ]
        header = lake.storage.read_bytes("lakeport", keys[0]).decode().splitlines()[0]
        assert header.startswith("track_name,track_id,track_number,duration_ms,album_type,artists")
        # Running the demo twice lands the same bytes: no duplicate events.
        assert len(lake.events.read(prefix="staging/")) == 5
        tracks = lake.catalog.get_table("spotify", "spotify_tracks_data_2023_csv")
        assert [(c.name, c.type) for c in tracks.columns] == [
            ("id", "string"),
            ("track_popularity", "bigint"),
            ("explicit", "boolean"),
        ]
        names = sorted(t.name for t in lake.catalog.list_tables("spotify"))
        assert len(names) == 6
        assert "tracks" in names  # the ETL job's Iceberg table, next to the five crawled ones
        assert lake.catalog.get_table("spotify", "tracks").table_type == "ICEBERG"


def test_the_tutorial_query_returns_what_duckdb_returns_on_the_same_files(
    demo: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    """Acceptance (issue 6): the tutorials' Athena query through lakeport equals raw DuckDB on the Parquet files."""
    root, runs = demo
    assert "Athena: most popular artists by tracks" in runs[-1].stdout
    with Lake.open(root) as lake:
        execution = lake.query(
            "SELECT artist_name, COUNT(track_id) AS total_tracks FROM spotify.tracks GROUP BY artist_name "
            "ORDER BY total_tracks DESC, artist_name"
        )
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        page = lake.queries.get_query_results(execution.id, max_results=1000)
        got = [tuple(c.get("VarCharValue") for c in r["Data"]) for r in page["ResultSet"]["Rows"][1:]]
        files = lake.warehouse.data_files("spotify", "tracks")
        expected = (
            duckdb.connect()
            .sql(
                f"SELECT artist_name, COUNT(track_id) AS total_tracks FROM read_parquet({files!r}) "
                "GROUP BY artist_name ORDER BY total_tracks DESC, artist_name LIMIT 999"
            )
            .fetchall()
        )
        assert got == [(name, str(count)) for name, count in expected]
        assert len(got) > 10


def test_the_dashboard_queries_return_what_duckdb_returns(
    demo: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    """Acceptance (issue 6): the dashboard's queries (examples/spotify/queries.yaml) through lakeport give DuckDB's
    rows on the same Parquet files (without their LIMIT, compared as multisets: ties make a LIMIT's cut arbitrary)."""
    import math
    import re

    import yaml

    queries = yaml.safe_load((Path(__file__).parent.parent / "examples/spotify/queries.yaml").read_text())
    root, _ = demo

    def close(a: object, b: object) -> bool:
        if isinstance(b, float):
            return a is not None and math.isclose(float(str(a)), b, rel_tol=1e-9)
        if isinstance(b, bool):
            return a == str(b).lower()
        return a == (None if b is None else str(b))

    with Lake.open(root) as lake:
        files = lake.warehouse.data_files("spotify", "tracks")
        con = duckdb.connect()
        for name, template in queries.items():
            sql = re.sub(r"\s+LIMIT\s+\d+\s*$", "", template)
            execution = lake.query(sql.format(t="spotify.tracks"))
            assert execution.state == "SUCCEEDED", (name, execution.state_change_reason)
            rows, token = [], None
            while True:
                page = lake.queries.get_query_results(execution.id, next_token=token)
                rows += [[c.get("VarCharValue") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
                token = page.get("NextToken")
                if token is None:
                    break
            got = rows[1:]
            expected = con.sql(sql.format(t=f"read_parquet({files!r})")).fetchall()
            assert len(got) == len(expected) > 0, name
            key = lambda r: tuple("" if v is None else str(v) for v in r)  # noqa: E731
            for mine, theirs in zip(sorted(got, key=key), sorted(expected, key=key), strict=True):
                assert all(close(a, b) for a, b in zip(mine, theirs, strict=True)), (name, mine, theirs)
