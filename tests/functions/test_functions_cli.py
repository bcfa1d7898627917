"""``lakeport functions``: register, list, describe, invoke (a result, a function error), delete, in process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], lake: Lake, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--lake", str(lake.root), "functions", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], lake: Lake, *args: str) -> Any:
    code, out, err = _run(capsys, lake, *args, "--output", "json")
    assert code == 0, err
    return json.loads(out)


def test_round_trip(capsys: pytest.CaptureFixture[str], lake: Lake, module: str) -> None:
    registered = _json(capsys, lake, "register", "Greet", f"{module}:greet", "--description", "hi", "--timeout", "9")
    assert registered["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:Greet"
    assert registered["Timeout"] == 9
    assert [f["FunctionName"] for f in _json(capsys, lake, "list")["Functions"]] == ["Greet"]
    assert _json(capsys, lake, "describe", "Greet")["Configuration"]["Description"] == "hi"

    payload = lake.root / "event.json"
    payload.write_text('{"who": "ada"}', encoding="utf-8")
    invoked = _json(capsys, lake, "invoke", "Greet", "--payload", f"file://{payload}")
    assert invoked["StatusCode"] == 200
    assert invoked["Payload"]["hello"] == "ada"
    code, out, _ = _run(capsys, lake, "invoke", "Greet", "--payload", '{"who": "bo"}')
    assert code == 0
    assert json.loads(out)["hello"] == "bo"

    _json(capsys, lake, "register", "Boom", f"{module}:boom")
    code, out, _ = _run(capsys, lake, "invoke", "Boom", "--payload", '{"who": "cy"}')
    assert code == 1
    assert "CustomError: no luck for cy" in out

    code, _, err = _run(capsys, lake, "register", "Greet", f"{module}:echo")
    assert code == 1
    assert "already exists" in err
    assert "functions update Greet" in err
    assert _json(capsys, lake, "update", "Greet", "--handler", f"{module}:echo")["Handler"] == f"{module}:echo"

    code, _, err = _run(capsys, lake, "register", "Bad", f"{module}:missing")
    assert code == 1
    assert "has no attribute 'missing'" in err

    _json(capsys, lake, "delete", "Greet")
    assert [f["FunctionName"] for f in _json(capsys, lake, "list")["Functions"]] == ["Boom"]
