"""``lakeport dashboards`` and ``lakeport data-sets``: a round trip through the commands, text and --output json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakeport import Lake
from lakeport.cli.main import main
from tests.dashboards.conftest import DASHBOARD


def _run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--lake", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Any:
    code, out, err = _run(capsys, root, *args, "--output", "json")
    assert code == 0, err
    return json.loads(out)


def test_cli_round_trip(fresh: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = fresh.root
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text(yaml.safe_dump({"datasets": [
        {"name": "tracks", "source": "music.tracks", "import_mode": "SPICE",
         "calculated_fields": {"duration_min": "duration_sec / 60"}}]}))  # fmt: skip
    created = _json(capsys, root, "data-sets", "create", "--from", str(datasets))
    assert created["DataSets"][0]["Arn"] == "arn:aws:quicksight:us-east-1:000000000000:dataset/tracks"
    code, out, _ = _run(capsys, root, "data-sets", "list")
    assert code == 0
    assert "tracks" in out
    assert "SPICE" in out
    code, out, _ = _run(capsys, root, "data-sets", "show", "tracks")
    assert "duration_sec / 60" in out
    refreshed = _json(capsys, root, "data-sets", "refresh", "tracks")
    assert refreshed["Ingestions"][0]["IngestionStatus"] == "COMPLETED"
    history = _json(capsys, root, "data-sets", "ingestions", "tracks")["Ingestions"]
    assert [i["RowInfo"]["RowsIngested"] for i in history] == [120, 120]

    board = tmp_path / "dashboard.yaml"
    broken = json.loads(json.dumps(DASHBOARD))
    broken["sheets"][0]["visuals"][1]["measures"] = ["sum(folowers)", "avg(popularity)"]
    board.write_text(yaml.safe_dump(broken))
    code, _, err = _run(capsys, root, "dashboards", "validate", str(board))
    assert code == 1
    assert 'error: dashboard music, sheet Overview, visual top-artists: measure field "folowers" is not a column' in err
    code, _, err = _run(capsys, root, "dashboards", "create", "--from", str(board))
    assert code == 1
    assert "did you mean followers?" in err
    board.write_text(yaml.safe_dump(DASHBOARD))
    assert _json(capsys, root, "dashboards", "validate", str(board))["Visuals"] == 16
    assert _json(capsys, root, "dashboards", "create", "--from", str(board))["VersionNumber"] == 1
    assert [d["DashboardId"] for d in _json(capsys, root, "dashboards", "list")["DashboardSummaryList"]] == ["music"]
    code, out, _ = _run(capsys, root, "dashboards", "show", "music")
    assert "top-artists" in out

    one = _json(capsys, root, "dashboards", "data", "music", "--visual", "types", "--filter", "kind=single")
    assert [r[0] for r in one["Rows"]] == ["single"]
    sheet = _json(capsys, root, "dashboards", "data", "music", "--filter", "years=[2000,2005]", "--parameter", "top=2")
    assert len(sheet["Visuals"]) == 7
    assert len(sheet["Visuals"][1]["Rows"]) == 2
    code, out, _ = _run(capsys, root, "dashboards", "data", "music", "--sheet", "Details", "--visual", "hist")
    assert code == 0
    assert "bin_start" in out
    drilled = _json(capsys, root, "dashboards", "data", "music", "--sheet", "Overview", "--visual", "types",
                    "--drill", "album_type=single")  # fmt: skip
    assert {r[4] for r in drilled["Rows"]} == {"single"}
    assert _json(capsys, root, "dashboards", "refresh", "music")["Ingestions"][0]["IngestionStatus"] == "COMPLETED"
    code, _, err = _run(capsys, root, "dashboards", "data", "music", "--filter", "genres=pop")
    assert code == 1
    assert "has no filter 'genres' (did you mean genre?)" in err
    assert _json(capsys, root, "dashboards", "delete", "music")["Arn"].endswith("dashboard/music")
    assert _json(capsys, root, "data-sets", "delete", "tracks")["Arn"].endswith("dataset/tracks")
    assert _json(capsys, root, "data-sets", "list") == {"DataSetSummaries": []}
