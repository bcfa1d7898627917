"""``lake.notify``: topics, subscriptions, file and function deliveries, MessageStructure, IAM, the retry policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, InvalidInput, NotFound
from lakeport.iam import Principal
from lakeport.notify import verify
from lakeport.notify.delivery import RetryPolicy
from lakeport.notify.messages import InvalidParameter

ACCOUNT = "arn:aws:sns:us-east-1:000000000000"


def test_topics(lake: Lake) -> None:
    topic = lake.notify.create_topic("pipeline-events", {"DisplayName": "Pipeline"})
    assert topic.arn == f"{ACCOUNT}:pipeline-events"
    assert lake.notify.create_topic("pipeline-events", {"DisplayName": "Pipeline"}).arn == topic.arn  # idempotent
    assert lake.notify.create_topic("pipeline-events").arn == topic.arn
    with pytest.raises(InvalidInput, match="different attributes"):
        lake.notify.create_topic("pipeline-events", {"DisplayName": "Other"})
    with pytest.raises(InvalidInput, match="FIFO") as info:
        lake.notify.create_topic("orders.fifo")
    assert "orders.fifo" in info.value.message
    with pytest.raises(InvalidInput, match="not valid"):
        lake.notify.create_topic("bad name!")
    with pytest.raises(InvalidInput, match="SignatureVersion"):
        lake.notify.create_topic("x", {"SignatureVersion": "3"})
    with pytest.raises(InvalidInput, match="not supported"):
        lake.notify.create_topic("x", {"Colour": "red"})
    attributes = lake.notify.get_topic_attributes(topic.arn)
    assert attributes["DisplayName"] == "Pipeline"
    assert attributes["SignatureVersion"] == "1"
    assert attributes["SigningCertURL"].startswith("file://")
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert [t.name for t in lake.notify.list_topics()] == ["pipeline-events"]
    changed = lake.notify.set_topic_attributes("pipeline-events", "SignatureVersion", "2")
    assert changed.attributes == {"DisplayName": "Pipeline", "SignatureVersion": "2"}
    with pytest.raises(InvalidInput, match="SignatureVersion"):
        lake.notify.set_topic_attributes("pipeline-events", "SignatureVersion", "9")
    lake.notify.set_topic_attributes("pipeline-events", "SignatureVersion", None)
    lake.notify.subscribe("pipeline-events", "file", "out.jsonl")
    lake.notify.delete_topic(topic.arn)
    lake.notify.delete_topic(topic.arn)  # deleting again is not an error, as in SNS
    assert lake.notify.list_topics() == []
    assert lake.notify.list_subscriptions() == []
    with pytest.raises(NotFound, match="pipeline-events") as missing:
        lake.notify.publish("pipeline-events", "hello")
    assert missing.value.code == "NotFound"


def test_subscriptions_and_their_attributes(lake: Lake, tmp_path: Path) -> None:
    lake.notify.create_topic("t")
    with pytest.raises(InvalidInput, match="protocol 'sqs'"):
        lake.notify.subscribe("t", "sqs", "queue")
    with pytest.raises(InvalidInput, match="not an https:// URL"):
        lake.notify.subscribe("t", "https", "http://example.com")
    with pytest.raises(InvalidInput, match="email address"):
        lake.notify.subscribe("t", "email", "nobody")
    with pytest.raises(InvalidInput, match="invalid filter policy") as bad:
        lake.notify.subscribe("t", "file", "a.jsonl", {"FilterPolicy": {"price": [{"numeric": [">", "x"]}]}})
    assert "price" in bad.value.message
    assert "file subscription to t" in bad.value.message
    with pytest.raises(InvalidInput, match="backoffFunction"):
        lake.notify.subscribe(
            "t", "file", "a.jsonl", {"DeliveryPolicy": {"healthyRetryPolicy": {"backoffFunction": "x"}}}
        )
    sub = lake.notify.subscribe("t", "file", "a.jsonl", {"FilterPolicy": {"kind": ["a"]}})
    assert sub.endpoint == str(lake.root / "a.jsonl")  # relative paths are in the lake
    assert sub.arn.startswith(f"{ACCOUNT}:t:")
    assert lake.notify.subscribe("t", "file", "a.jsonl").arn == sub.arn  # the same endpoint again: the same one
    with pytest.raises(InvalidInput, match="different attributes"):
        lake.notify.subscribe("t", "file", "a.jsonl", {"RawMessageDelivery": "true"})
    updated = lake.notify.set_subscription_attributes(sub.arn, "FilterPolicyScope", "MessageBody")
    assert updated.attributes["FilterPolicyScope"] == "MessageBody"
    attributes = lake.notify.get_subscription_attributes(sub.arn)
    assert attributes["Protocol"] == "file"
    assert attributes["PendingConfirmation"] == "false"
    removed = lake.notify.set_subscription_attributes(sub.arn, "FilterPolicy", None)
    assert "FilterPolicy" not in removed.attributes
    assert [s.arn for s in lake.notify.list_subscriptions_by_topic("t")] == [sub.arn]
    lake.notify.unsubscribe(sub.arn)
    with pytest.raises(NotFound, match="does not exist"):
        lake.notify.unsubscribe(sub.arn)
    assert lake.notify.list_subscriptions() == []


def test_file_subscription_writes_json_lines(lake: Lake, tmp_path: Path) -> None:
    lake.notify.create_topic("t")
    out = lake.root / "events" / "all.jsonl"
    raw = lake.root / "events" / "raw.jsonl"
    lake.notify.subscribe("t", "file", str(out))
    lake.notify.subscribe("t", "file", f"file://{raw}", {"RawMessageDelivery": True})
    first = lake.notify.publish("t", "one", subject="First", wait=True)
    lake.notify.publish("t", "two", message_attributes={"n": {"DataType": "Number", "StringValue": "2"}}, wait=True)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert next((d["MessageId"], d["Message"]) for d in lines) == (first, "one")
    assert lines[0]["Subject"] == "First"
    assert "Subject" not in lines[1]
    assert lines[1]["MessageAttributes"] == {"n": {"Type": "Number", "Value": "2"}}
    assert all(verify(d, lake.notify.signing_certificate("t")) for d in lines)
    assert raw.read_text().splitlines() == ["one", "two"]
    messages = lake.notify.outbox("t")
    assert [m.message for m in messages] == ["two", "one"]  # newest first
    assert messages[1].subject == "First"


def test_function_subscription_gets_snss_event(lake: Lake) -> None:
    calls: list[tuple[str, Any]] = []

    def invoke(name: str, payload: Any) -> None:
        calls.append((name, payload))
        if name == "broken":
            raise RuntimeError("handler failed")

    lake.notify.invoke = invoke
    lake.notify.create_topic("t")
    sub = lake.notify.subscribe("t", "function", "arn:aws:lambda:us-east-1:000000000000:function:on-event")
    assert sub.endpoint == "on-event"
    broken = lake.notify.subscribe(
        "t",
        "function",
        "broken",
        {"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 0, "maxDelayTarget": 0}}},
    )
    message_id = lake.notify.publish("t", "hi", subject="S", message_attributes={"k": "v"}, wait=True)
    ok = [payload for name, payload in calls if name == "on-event"]
    assert len(ok) == 1
    record = ok[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == sub.arn
    assert record["Sns"]["Message"] == "hi"
    assert record["Sns"]["MessageId"] == message_id
    assert record["Sns"]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert record["Sns"]["SigningCertUrl"].startswith("file://")
    assert len([1 for name, _ in calls if name == "broken"]) == 2
    (dead,) = lake.notify.dead_letters()
    assert dead.subscription_arn == broken.arn
    assert "handler failed" in dead.error


def test_function_results_that_report_an_error_fail_the_attempt(lake: Lake) -> None:
    class Result:
        function_error = "Unhandled"
        payload: ClassVar[dict[str, str]] = {"errorType": "ValueError"}
        status_code = 200

    lake.notify.invoke = lambda name, payload: Result()
    lake.notify.create_topic("t")
    lake.notify.subscribe("t", "function", "f", {"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 0}}})
    lake.notify.publish("t", "x", wait=True)
    assert "Unhandled" in lake.notify.dead_letters()[0].error


def test_message_structure_json_picks_each_protocols_message(lake: Lake, tmp_path: Path) -> None:
    calls: list[Any] = []
    lake.notify.invoke = lambda name, payload: calls.append(payload)
    lake.notify.create_topic("t")
    lake.notify.subscribe("t", "file", str(lake.root / "f.jsonl"))
    lake.notify.subscribe("t", "function", "fn")
    structure = {"default": "plain", "lambda": json.dumps({"for": "functions"})}
    lake.notify.publish("t", json.dumps(structure), message_structure="json", wait=True)
    assert json.loads((lake.root / "f.jsonl").read_text())["Message"] == "plain"
    assert json.loads(calls[0]["Records"][0]["Sns"]["Message"]) == {"for": "functions"}
    with pytest.raises(InvalidInput, match="'default'"):
        lake.notify.publish("t", json.dumps({"email": "x"}), message_structure="json")
    with pytest.raises(InvalidInput, match="MessageStructure"):
        lake.notify.publish("t", "x", message_structure="xml")


def test_message_validation(lake: Lake) -> None:
    lake.notify.create_topic("t")
    with pytest.raises(InvalidInput, match="subject"):
        lake.notify.publish("t", "x", subject="two\nlines")
    with pytest.raises(InvalidInput, match=r"'AWS\.x'"):
        lake.notify.publish("t", "x", message_attributes={"AWS.x": "y"})
    with pytest.raises(InvalidInput, match="not a number"):
        lake.notify.publish("t", "x", message_attributes={"n": {"DataType": "Number", "StringValue": "ten"}})
    with pytest.raises(InvalidInput, match="JSON array"):
        lake.notify.publish("t", "x", message_attributes={"a": {"DataType": "String.Array", "StringValue": "x"}})
    with pytest.raises(InvalidInput, match="256 KB"):
        lake.notify.publish("t", "x" * (256 * 1024 + 1))
    assert lake.notify.outbox() == []  # refused messages are not recorded


def test_body_filter_policy(lake: Lake, tmp_path: Path) -> None:
    lake.notify.create_topic("t")
    out = lake.root / "failed.jsonl"
    policy = {"detail": {"status": ["FAILED", "TIMED_OUT"]}}
    lake.notify.subscribe("t", "file", str(out), {"FilterPolicy": policy, "FilterPolicyScope": "MessageBody"})
    lake.notify.publish("t", json.dumps({"detail": {"status": "SUCCEEDED"}}), wait=True)
    lake.notify.publish("t", json.dumps({"detail": {"status": "FAILED"}}), wait=True)
    assert [json.loads(json.loads(line)["Message"]) for line in out.read_text().splitlines()] == [
        {"detail": {"status": "FAILED"}}
    ]


DENIED: list[tuple[Any, str, str]] = [
    (lambda n: n.create_topic("other"), "sns:CreateTopic", f"{ACCOUNT}:other"),
    (lambda n: n.delete_topic("t"), "sns:DeleteTopic", f"{ACCOUNT}:t"),
    (lambda n: n.list_topics(), "sns:ListTopics", "*"),
    (lambda n: n.get_topic_attributes("t"), "sns:GetTopicAttributes", f"{ACCOUNT}:t"),
    (lambda n: n.subscribe("t", "file", "x.jsonl"), "sns:Subscribe", f"{ACCOUNT}:t"),
    (lambda n: n.confirm_subscription("t", "token"), "sns:ConfirmSubscription", f"{ACCOUNT}:t"),
    (lambda n: n.list_subscriptions(), "sns:ListSubscriptions", "*"),
    (lambda n: n.list_subscriptions_by_topic("t"), "sns:ListSubscriptionsByTopic", f"{ACCOUNT}:t"),
    (lambda n: n.publish("t", "hello"), "sns:Publish", f"{ACCOUNT}:t"),
    (lambda n: n.unsubscribe(f"{ACCOUNT}:t:abc"), "sns:Unsubscribe", f"{ACCOUNT}:t"),
    (
        lambda n: n.set_subscription_attributes(f"{ACCOUNT}:t:abc", "RawMessageDelivery", "true"),
        "sns:SetSubscriptionAttributes",
        f"{ACCOUNT}:t",
    ),
    (lambda n: n.outbox("t"), "sns:GetTopicAttributes", f"{ACCOUNT}:t"),
]


def test_principals_without_sns_permissions_are_denied(lake: Lake) -> None:
    lake.notify.create_topic("t")
    stranger = Principal("arn:aws:iam::000000000000:user/analyst", "analyst")
    for call, action, resource in DENIED:
        with pytest.raises(AccessDenied) as info:
            call(lake.as_principal(stranger).notify)
        assert action in info.value.message
        assert stranger.arn in info.value.message
        if resource != "*":
            assert resource in info.value.message


def test_retry_policy_delays() -> None:
    linear = RetryPolicy(num_retries=4, min_delay=1, max_delay=5, backoff="linear")
    assert linear.delays() == [2, 3, 4, 5]
    exponential = RetryPolicy(num_retries=3, min_delay=1, max_delay=8, backoff="exponential")
    assert [round(d, 6) for d in exponential.delays()] == [2, 4, 8]
    phased = RetryPolicy(
        num_retries=6,
        min_delay=1,
        max_delay=3,
        num_no_delay_retries=1,
        num_min_delay_retries=1,
        num_max_delay_retries=2,
    )
    assert phased.delays()[:2] == [0, 1]
    assert phased.delays()[-2:] == [3, 3]
    assert len(phased.delays()) == 6
    parsed = RetryPolicy.parse('{"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}}', "topic t")
    assert parsed.num_retries == 5
    assert parsed.min_delay == 1.0
    with pytest.raises(InvalidInput, match="minDelayTarget is above"):
        RetryPolicy.parse({"minDelayTarget": 9, "maxDelayTarget": 1}, "subscription s")
    with pytest.raises(InvalidInput, match="exceed numRetries"):
        RetryPolicy.parse({"numRetries": 1, "numNoDelayRetries": 2}, "subscription s")


def test_an_identity_policy_written_for_aws_allows_publishing(lake: Lake, tmp_path: Path) -> None:
    lake.notify.create_topic("t")
    out = lake.root / "t.jsonl"
    lake.notify.subscribe("t", "file", str(out))
    lake.iam.create_user("publisher")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:*:t"}],
    }
    lake.iam.put_user_policy("publisher", "publish-to-t", policy)
    publisher = lake.as_principal(lake.iam.resolve("publisher")).notify
    message_id = publisher.publish("t", "allowed", wait=True)
    assert json.loads(out.read_text())["MessageId"] == message_id
    assert lake.notify.outbox()[0].principal.endswith(":user/publisher")
    with pytest.raises(AccessDenied, match="sns:CreateTopic"):
        publisher.create_topic("u")


@pytest.mark.parametrize(
    "endpoint", ["/etc/lakeport-test.jsonl", "../outside.jsonl", ".lakeport/credentials", "lakeport.db"]
)
def test_file_subscriptions_stay_inside_the_lake_folder_and_off_lakeports_own_files(lake: Lake, endpoint: str) -> None:
    lake.notify.create_topic("t")
    with pytest.raises(InvalidParameter):
        lake.notify.subscribe("t", "file", endpoint)
    assert lake.notify.list_subscriptions() == []
