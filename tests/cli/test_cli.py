"""The ``lakeport`` command as a user runs it: a separate process, real files, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_help_lists_the_command_groups() -> None:
    out = run_cli("--help").stdout.decode()
    for group in ("init", "config", "s3", "events", "version"):
        assert group in out


def test_init_copy_list_and_events(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    created = json.loads(run_cli("init", str(lake), "-o", "json").stdout)
    assert created["bucket"] == "lakeport"
    assert created["areas"] == ["s3://lakeport/staging/", "s3://lakeport/warehouse/", "s3://lakeport/results/"]

    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "albums.csv").write_text('id,name\n1,Ünïcödé, "quoted"\n')
    (data / "sub" / "tracks.csv").write_text("id\n1\n")
    run_cli("s3", "cp", "--recursive", str(data), "s3://lakeport/staging/spotify/", lake=lake)

    top = run_cli("s3", "ls", "s3://lakeport/staging/", lake=lake).stdout.decode()
    assert "PRE spotify/" in top
    listing = json.loads(run_cli("s3", "ls", "--recursive", "s3://lakeport/staging/", "-o", "json", lake=lake).stdout)
    assert [o["Key"] for o in listing["Contents"]] == [
        "staging/spotify/albums.csv",
        "staging/spotify/sub/tracks.csv",
    ]
    assert listing["TotalObjects"] == 2

    back = tmp_path / "back.csv"
    run_cli("s3", "cp", "s3://lakeport/staging/spotify/albums.csv", str(back), lake=lake)
    assert back.read_text() == (data / "albums.csv").read_text()

    records = json.loads(run_cli("events", "list", "-o", "json", lake=lake).stdout)["Records"]
    assert [r["s3"]["object"]["key"] for r in records] == [
        "staging/spotify/albums.csv",
        "staging/spotify/sub/tracks.csv",
    ]
    assert all(r["eventName"] == "ObjectCreated:Put" for r in records)


def test_stdin_and_stdout_streaming(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    payload = b"\x00\x01binary\xffdata" * 1000
    run_cli("s3", "cp", "-", "s3://lakeport/raw/blob.bin", lake=lake, stdin=payload)
    assert run_cli("s3", "cp", "s3://lakeport/raw/blob.bin", "-", lake=lake).stdout == payload


def test_mv_rm_sync(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.csv", "b.csv"):
        (src / name).write_text(name)
    run_cli("s3", "sync", str(src), "s3://lakeport/staging/set", lake=lake)
    again = json.loads(run_cli("s3", "sync", str(src), "s3://lakeport/staging/set", "-o", "json", lake=lake).stdout)
    assert again["transfers"] == []  # nothing changed
    (src / "b.csv").unlink()
    (src / "c.csv").write_text("c, longer")
    plan = json.loads(
        run_cli("s3", "sync", str(src), "s3://lakeport/staging/set", "--delete", "-o", "json", lake=lake).stdout
    )
    assert sorted((t["action"], t["dest"]) for t in plan["transfers"]) == [
        ("delete", "s3://lakeport/staging/set/b.csv"),
        ("upload", "s3://lakeport/staging/set/c.csv"),
    ]
    run_cli("s3", "mv", "s3://lakeport/staging/set/a.csv", "s3://lakeport/archive/a.csv", lake=lake)
    run_cli("s3", "rm", "--recursive", "s3://lakeport/staging/set", lake=lake)
    keys = [
        o["Key"]
        for o in json.loads(run_cli("s3", "ls", "-r", "s3://lakeport/", "-o", "json", lake=lake).stdout)["Contents"]
    ]
    assert keys == ["archive/a.csv"]


def test_errors_are_one_line_with_a_hint_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    proc = run_cli("s3", "cp", "s3://lakeport/missing.csv", str(tmp_path / "x"), lake=lake, check=False)
    assert proc.returncode == 1
    err = proc.stderr.decode().strip().splitlines()
    assert err == ["error: object s3://lakeport/missing.csv does not exist"]
    assert "Traceback" not in proc.stderr.decode()

    proc = run_cli("s3", "mb", "s3://Bad_Name", lake=lake, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert lines[0].startswith("error: bucket name 'Bad_Name'")
    assert lines[1].startswith("hint:")

    proc = run_cli("--debug", "s3", "cp", "s3://lakeport/missing.csv", "-", lake=lake, check=False)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr.decode()
    assert "NoSuchKey" in proc.stderr.decode()

    proc = run_cli("s3", "cp", "s3://lakeport/missing.csv", "-", "-o", "json", lake=lake, check=False)
    body = json.loads(proc.stderr)
    assert body["error"]["code"] == "NoSuchKey"


def test_no_lake_and_usage_errors(tmp_path: Path) -> None:
    proc = run_cli("--lake", str(tmp_path / "nowhere"), "s3", "ls", check=False)
    assert proc.returncode == 1
    assert "is not a lakeport lake" in proc.stderr.decode()
    assert "lakeport init" in proc.stderr.decode()
    assert run_cli("s3", "frobnicate", check=False).returncode == 2


def test_config_show_reports_sources(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake), "--bucket", "my-lake")
    shown = json.loads(
        run_cli(
            "-c",
            "server.port=9999",
            "config",
            "show",
            "-o",
            "json",
            lake=lake,
            env={"LAKEPORT_STORAGE__REGION": "eu-central-1", "LAKEPORT_STORAGE__SECRET_ACCESS_KEY": "s3cr3t"},
        ).stdout
    )
    by_name = {row["name"]: row for row in shown["settings"]}
    assert by_name["server.port"]["value"] == 9999
    assert by_name["server.port"]["source"] == "flag"
    assert by_name["storage.region"]["source"] == "env LAKEPORT_STORAGE__REGION"
    assert by_name["storage.default_bucket"] == by_name["storage.default_bucket"] | {
        "value": "my-lake",
        "source": "lakeport.toml",
    }
    assert by_name["metadata.busy_timeout_ms"]["source"] == "default"
    assert by_name["storage.secret_access_key"]["value"] == "****"
    assert "s3cr3t" not in json.dumps(shown)


def test_presign_and_version(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    (tmp_path / "f.txt").write_text("hi")
    run_cli("s3", "cp", str(tmp_path / "f.txt"), "s3://lakeport/f.txt", lake=lake)
    url = run_cli("s3", "presign", "s3://lakeport/f.txt", "--expires-in", "60", lake=lake).stdout.decode().strip()
    assert url.startswith("http://127.0.0.1:8790/s3/lakeport/f.txt?X-Lakeport-Expires=")
    assert json.loads(run_cli("version", "-o", "json").stdout)["version"]
