"""HTTP/HTTPS subscriptions against a real loopback receiver: the confirmation handshake, SNS's signed message
format, retries with back-off, the delivery log and dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from lakeport import Lake
from lakeport.errors import InvalidInput
from lakeport.notify import verify
from lakeport.notify.signing import string_to_sign
from tests.notify.conftest import Receiver

TOPIC = "arn:aws:sns:us-east-1:000000000000:pipeline-events"


def _certificate(document: dict[str, str]) -> str:
    """What a receiver does: fetch the certificate SigningCertURL points to (a file:// URL in a local lake)."""
    url = urlsplit(document["SigningCertURL"])
    assert url.scheme == "file"
    return Path(url2pathname(url.path)).read_text(encoding="ascii")


def _confirmed(lake: Lake, receiver: Receiver, attributes: dict[str, str] | None = None) -> str:
    subscription = lake.notify.subscribe("pipeline-events", "http", receiver.url, attributes, wait=True)
    assert subscription.pending
    (confirmation,) = receiver.of_type("SubscriptionConfirmation")
    lake.notify.confirm_subscription("pipeline-events", confirmation.json["Token"])
    return subscription.arn


def test_confirmation_handshake(lake: Lake, receiver: Receiver) -> None:
    lake.notify.create_topic("pipeline-events")
    subscription = lake.notify.subscribe("pipeline-events", "http", receiver.url, wait=True)
    assert subscription.pending
    assert subscription.to_aws()["SubscriptionArn"] == "PendingConfirmation"
    (request,) = receiver.requests
    document = request.json
    assert request.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert request.headers["x-amz-sns-topic-arn"] == TOPIC
    assert request.headers["content-type"].startswith("text/plain")
    assert set(document) == {
        "Type",
        "MessageId",
        "Token",
        "TopicArn",
        "Message",
        "SubscribeURL",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    }
    assert document["Type"] == "SubscriptionConfirmation"
    assert document["TopicArn"] == TOPIC
    assert "Action=ConfirmSubscription" in document["SubscribeURL"]
    assert document["Token"] in document["SubscribeURL"]
    assert verify(document, _certificate(document))
    fields = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    assert string_to_sign(document) == "".join(f"{name}\n{document[name]}\n" for name in fields)

    lake.notify.publish("pipeline-events", "before confirming", wait=True)
    assert receiver.of_type("Notification") == []  # SNS sends nothing until the subscription is confirmed
    attributes = lake.notify.get_topic_attributes("pipeline-events")
    assert attributes["SubscriptionsPending"] == "1"

    with pytest.raises(InvalidInput) as info:
        lake.notify.confirm_subscription("pipeline-events", "not-the-token")
    assert "pipeline-events" in info.value.message
    confirmed = lake.notify.confirm_subscription("pipeline-events", document["Token"])
    assert confirmed.arn == subscription.arn
    assert not confirmed.pending
    assert lake.notify.get_topic_attributes("pipeline-events")["SubscriptionsConfirmed"] == "1"
    lake.notify.publish("pipeline-events", "after confirming", wait=True)
    assert [r.json["Message"] for r in receiver.of_type("Notification")] == ["after confirming"]


def test_fails_twice_then_delivers_once_with_a_verifiable_signature(lake: Lake, receiver: Receiver) -> None:
    lake.notify.create_topic("pipeline-events", {"DisplayName": "Pipeline"})
    subscription_arn = _confirmed(lake, receiver)
    receiver.fail_with = [500, 502]
    message_id = lake.notify.publish(
        "pipeline-events",
        json.dumps({"job": "load", "state": "SUCCEEDED"}),
        subject="Job load succeeded",
        message_attributes={"state": "SUCCEEDED", "rows": 42, "tags": ["daily", "spotify"]},
        wait=True,
    )

    posts = receiver.of_type("Notification")
    assert len(posts) == 3  # two failures, then the delivery
    assert len({p.body for p in posts}) == 1  # a retry resends the same signed document
    document = posts[-1].json
    assert list(document) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert document["MessageId"] == message_id
    assert document["Subject"] == "Job load succeeded"
    assert json.loads(document["Message"]) == {"job": "load", "state": "SUCCEEDED"}
    assert document["Timestamp"].endswith("Z")
    assert document["SignatureVersion"] == "1"
    assert document["MessageAttributes"] == {
        "state": {"Type": "String", "Value": "SUCCEEDED"},
        "rows": {"Type": "Number", "Value": "42"},
        "tags": {"Type": "String.Array", "Value": '["daily", "spotify"]'},
    }
    assert "Action=Unsubscribe" in document["UnsubscribeURL"]
    headers = posts[-1].headers
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-subscription-arn"] == subscription_arn

    certificate = _certificate(document)
    assert certificate == lake.notify.signing_certificate("pipeline-events")
    assert verify(document, certificate)
    assert verify(posts[-1].body, certificate)
    tampered = dict(document, Message="something else")
    assert not verify(tampered, certificate)
    other = lake.notify.create_topic("other-topic")
    assert not verify(document, lake.notify.signing_certificate(other.arn))

    attempts = lake.notify.deliveries(message_id=message_id)
    assert [(a.attempt, a.status, a.status_code) for a in attempts] == [
        (1, "FAILED", 500),
        (2, "FAILED", 502),
        (3, "DELIVERED", 200),
    ]
    assert all(a.subscription_arn == subscription_arn for a in attempts)
    assert lake.notify.dead_letters("pipeline-events") == []
    (outboxed,) = lake.notify.outbox("pipeline-events")
    assert outboxed.message_id == message_id
    assert outboxed.deliveries == {"DELIVERED": 1}
    lines = lake.logs.events("/lakeport/sns/pipeline-events")
    assert [e.level for e in lines if e.fields.get("message_id") == message_id] == ["WARN", "WARN", "INFO"]


def test_a_receiver_that_always_fails_ends_in_the_dead_letters(lake: Lake, receiver: Receiver) -> None:
    lake.notify.create_topic("pipeline-events")
    policy = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 0.01, "maxDelayTarget": 0.02}}
    subscription_arn = _confirmed(lake, receiver, {"DeliveryPolicy": json.dumps(policy)})
    receiver.always = 503
    message_id = lake.notify.publish("pipeline-events", "nobody hears this")  # delivered on the thread pool
    assert lake.notify.drain(timeout=20)

    assert len(receiver.of_type("Notification")) == 3  # the first attempt and numRetries=2
    (dead,) = lake.notify.dead_letters("pipeline-events")
    assert dead.message_id == message_id
    assert dead.subscription_arn == subscription_arn
    assert dead.attempts == 3
    assert "503" in dead.error
    assert json.loads(json.loads(dead.payload)["body"])["Message"] == "nobody hears this"
    statuses = [(a.attempt, a.status) for a in lake.notify.deliveries(subscription=subscription_arn)]
    assert statuses[-3:] == [(1, "FAILED"), (2, "FAILED"), (3, "FAILED")]
    assert lake.notify.outbox()[0].deliveries == {"FAILED": 1}
    errors = [e for e in lake.logs.events("/lakeport/sns/pipeline-events") if e.level == "ERROR"]
    assert len(errors) == 1
    assert "dead letters" in errors[0].message


def test_a_client_error_is_not_retried(lake: Lake, receiver: Receiver) -> None:
    lake.notify.create_topic("pipeline-events")
    _confirmed(lake, receiver)
    receiver.always = 404
    message_id = lake.notify.publish("pipeline-events", "gone", wait=True)
    assert [a.status_code for a in lake.notify.deliveries(message_id=message_id)] == [404]
    assert lake.notify.dead_letters()[0].attempts == 1


def test_signature_version_2_raw_delivery_and_filter_policy(lake: Lake, receiver: Receiver) -> None:
    lake.notify.create_topic("pipeline-events", {"SignatureVersion": "2"})
    _confirmed(lake, receiver, {"FilterPolicy": json.dumps({"state": ["FAILED"]})})
    lake.notify.publish("pipeline-events", "ok", message_attributes={"state": "SUCCEEDED"}, wait=True)
    lake.notify.publish("pipeline-events", "broken", message_attributes={"state": "FAILED"}, wait=True)
    (post,) = receiver.of_type("Notification")
    assert post.json["SignatureVersion"] == "2"
    assert verify(post.json, lake.notify.signing_certificate("pipeline-events"))
    assert [m.deliveries for m in lake.notify.outbox()] == [{"DELIVERED": 1}, {"FILTERED": 1}]

    (subscription,) = lake.notify.list_subscriptions_by_topic("pipeline-events")
    lake.notify.set_subscription_attributes(subscription.arn, "RawMessageDelivery", "true")
    lake.notify.publish("pipeline-events", "raw body", message_attributes={"state": "FAILED"}, wait=True)
    raw = receiver.of_type("Notification")[-1]
    assert raw.body == "raw body"
    assert raw.headers["x-amz-sns-rawdelivery"] == "true"
