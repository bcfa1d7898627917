"""``lakeport sns``: a round trip through the commands, text and --output json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.main import main
from tests.conftest import run_cli
from tests.notify.conftest import Receiver


def _run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--lake", str(root), "sns", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Any:
    code, out, err = _run(capsys, root, *args, "--output", "json")
    assert code == 0, err
    return json.loads(out)


def test_cli_round_trip(lake: Lake, receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = lake.root
    arn = _json(capsys, root, "create-topic", "pipeline-events", "--attribute", "DisplayName=Pipeline")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:pipeline-events"
    assert _json(capsys, root, "list-topics") == {"Topics": [{"TopicArn": arn}]}
    assert _json(capsys, root, "get-topic-attributes", arn)["Attributes"]["DisplayName"] == "Pipeline"

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"state": ["FAILED"]}))
    out_file = lake.root / "failed.jsonl"
    filed = _json(
        capsys, root, "subscribe", "pipeline-events", "--protocol", "file", "--endpoint", str(out_file),
        "--filter-policy", f"file://{policy}",
    )  # fmt: skip
    assert filed["Status"] == "Confirmed"
    hook = _json(capsys, root, "subscribe", "pipeline-events", "--protocol", "http", "--endpoint", receiver.url)
    assert hook["Status"] == "PendingConfirmation"
    (confirmation,) = receiver.of_type("SubscriptionConfirmation")
    token = confirmation.json["Token"]
    code, out, _ = _run(capsys, root, "confirm", "pipeline-events", token)
    assert code == 0
    assert "confirmed" in out
    listed = _json(capsys, root, "list-subscriptions", "--topic", "pipeline-events")["Subscriptions"]
    assert sorted(s["Protocol"] for s in listed) == ["file", "http"]
    assert all(s["Status"] == "Confirmed" for s in listed)

    receiver.fail_with = [500]
    published = _json(
        capsys, root, "publish", "pipeline-events", "--message", "job load failed", "--subject", "FAILED",
        "--message-attribute", "state=FAILED", "--message-attribute", "rows:Number=3",
    )  # fmt: skip
    message_id = published["MessageId"]
    assert json.loads(out_file.read_text())["MessageId"] == message_id
    assert receiver.of_type("Notification")[-1].json["MessageAttributes"]["rows"] == {"Type": "Number", "Value": "3"}

    outbox = _json(capsys, root, "outbox", "--topic", "pipeline-events")["Messages"]
    assert [(m["MessageId"], m["Subject"], m["Deliveries"]) for m in outbox] == [
        (message_id, "FAILED", {"DELIVERED": 2})
    ]
    attempts = _json(capsys, root, "deliveries", "--message-id", message_id)["Deliveries"]
    assert sorted((a["Attempt"], a["Status"]) for a in attempts) == [(1, "DELIVERED"), (1, "FAILED"), (2, "DELIVERED")]
    code, text, _ = _run(capsys, root, "outbox")
    assert code == 0
    assert message_id in text
    assert "job load failed" in text
    assert _json(capsys, root, "dead-letters")["DeadLetters"] == []

    code, _, err = _run(capsys, root, "publish", "nope", "--message", "x")
    assert code == 1
    assert "topic nope does not exist" in err
    assert "lakeport sns list-topics" in err
    code, _, err = _run(capsys, root, "subscribe", "pipeline-events", "--protocol", "file", "--endpoint", "x",
                        "--filter-policy", '{"a": "b"}')  # fmt: skip
    assert code == 1
    assert "invalid filter policy" in err

    _json(capsys, root, "unsubscribe", hook["SubscriptionArn"])
    _json(capsys, root, "delete-topic", "pipeline-events")
    assert _json(capsys, root, "list-topics") == {"Topics": []}


def test_publish_from_a_separate_process(lake: Lake, tmp_path: Path) -> None:
    lake.notify.create_topic("t")
    out = lake.root / "t.jsonl"
    lake.notify.subscribe("t", "file", str(out))
    proc = run_cli("sns", "publish", "t", "--message", "from the shell", "--output", "json", lake=lake.root)
    message_id = json.loads(proc.stdout)["MessageId"]
    assert json.loads(out.read_text())["MessageId"] == message_id
