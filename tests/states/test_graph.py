"""The machine drawn as text and SVG: every state and edge, nested branches, execution colours, the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.main import main
from lakeport.states import graph
from tests.conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"
NESTED: dict[str, Any] = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Branches": [
                {
                    "StartAt": "Left",
                    "States": {"Left": {"Type": "Pass", "Next": "LeftDone"}, "LeftDone": {"Type": "Succeed"}},
                },
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "ItemProcessor": {
                                "StartAt": "Work",
                                "States": {
                                    "Work": {
                                        "Type": "Task",
                                        "Resource": "arn:aws:lambda:us-east-1:1:function:F",
                                        "End": True,
                                    }
                                },
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["Oops", "States.Timeout"], "Next": "Bad"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [{"Variable": "$.n", "NumericGreaterThan": 3}, {"Variable": "$.s", "StringEquals": "go"}],
                    "Next": "Done",
                },
                {"Not": {"Variable": "$.x", "IsPresent": True}, "Next": "Fan"},
            ],
            "Default": "Bad",
        },
        "Done": {"Type": "Succeed"},
        "Bad": {"Type": "Fail", "Error": "E"},
    },
}
ALL_STATES = {"Fan", "Left", "LeftDone", "Each", "Work", "Decide", "Done", "Bad"}


def _states(definition: dict[str, Any]) -> set[str]:
    names = set()
    for name, state in definition["States"].items():
        names.add(name)
        for branch in state.get("Branches", []):
            names |= _states(branch)
        if "ItemProcessor" in state:
            names |= _states(state["ItemProcessor"])
    return names


def test_text_names_every_state_and_edge() -> None:
    text = graph.render_text(graph.build(NESTED))
    for name in ALL_STATES:
        assert f"{name}  (" in text
    assert "→ Decide" in text
    assert '? ($.n > 3 and $.s == "go") → Done' in text
    assert "? not $.x is present → Fan" in text
    assert "? Default → Bad" in text
    assert "✗ catch Oops, States.Timeout → Bad" in text
    assert "↻ retry States.ALL ×2" in text
    assert "branch 2: start → Each" in text
    assert "each item: start → Work" in text


def _rects(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # a well-formed document
    assert root.tag == SVG + "svg"
    return [r for r in root.iter(SVG + "rect") if r.get("data-state")]


def test_svg_has_one_box_per_state_inside_the_picture() -> None:
    svg = graph.render_svg(graph.build(NESTED), title="a <nested> & 'quoted' machine")
    rects = _rects(svg)
    assert sorted(r.get("data-state") or "" for r in rects) == sorted(ALL_STATES)
    root = ET.fromstring(svg)
    width, height = float(root.get("width") or 0), float(root.get("height") or 0)
    boxes = {r.get("data-state"): [float(r.get(k) or 0) for k in ("x", "y", "width", "height")] for r in rects}
    for x, y, w, h in boxes.values():
        assert x >= 0
        assert x + w <= width
        assert y >= 0
        assert y + h <= height
    fan, work = boxes["Fan"], boxes["Work"]
    assert fan[0] < work[0]
    assert work[0] + work[2] < fan[0] + fan[2]
    labels = "".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "catch Oops, States.Timeout" in labels
    assert "Default" in labels


def test_the_reference_pipeline_renders() -> None:
    definition = json.loads((REPO / "examples" / "spotify" / "pipeline.asl.json").read_text(encoding="utf-8"))
    drawn = graph.build(definition)
    assert len(_rects(graph.render_svg(drawn))) == len(_states(definition))
    text = graph.render_text(drawn)
    assert all(f"{name}  (" in text for name in _states(definition))
    assert "? Default → WaitForCrawler" in text


def test_statuses_from_an_execution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = Lake.init(tmp_path / "lake")
    machine = {
        "StartAt": "One",
        "States": {"One": {"Type": "Pass", "Next": "Two"}, "Two": {"Type": "Fail", "Error": "Stop"}},
    }
    lake.states.create_state_machine("colours", machine)
    run = lake.states.start_execution("colours", {}, name="first", wait=True)
    statuses = graph.statuses_from_history(lake.states.get_execution_history(run.arn), run.status)
    assert statuses == {"One": graph.SUCCEEDED, "Two": graph.FAILED}
    entered = {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "One"}}
    assert graph.statuses_from_history([entered], "RUNNING") == {"One": graph.IN_PROGRESS}
    lake.close()

    out = tmp_path / "colours.svg"
    assert (
        main(
            [
                "--lake",
                str(tmp_path / "lake"),
                "sfn",
                "graph",
                "colours",
                "--format",
                "svg",
                "--out",
                str(out),
                "--execution",
                "first",
            ]
        )
        == 0
    )
    coloured = {r.get("data-state"): r.get("data-status") for r in _rects(out.read_text(encoding="utf-8"))}
    assert coloured == {"One": "succeeded", "Two": "failed"}
    capsys.readouterr()
    assert main(["--lake", str(tmp_path / "lake"), "states", "graph", "colours"]) == 0  # the old group name still works
    assert "One  (Pass)" in capsys.readouterr().out
    assert (
        main(["--lake", str(tmp_path / "lake"), "sfn", "graph", "colours", "--execution", "first", "-o", "json"]) == 0
    )
    drawn = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in drawn["graph"]["states"]] == ["One", "Two"]
    assert drawn["graph"]["edges"] == [{"from": "One", "to": "Two", "kind": "next", "label": ""}]
    assert drawn["statuses"] == {"One": "succeeded", "Two": "failed"}
