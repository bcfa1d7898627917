"""``/api/v1/notify`` over a real lake: a topic, a file subscription, a publish delivered to it, the outbox and the
delivery log; a user who may only list topics cannot publish."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

NOTIFY = "/api/v1/notify"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("notify") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_topic_subscription_publish_and_delivery_log(client: TestClient, lake: Lake, tmp_path: Path) -> None:
    auth = _user(lake, "ann", _allow("sns:*"))
    created = client.post(f"{NOTIFY}/topics", json={"Name": "alerts", "Attributes": {"DisplayName": "A"}}, auth=auth)
    assert created.status_code == 200, created.text
    topic_arn = created.json()["TopicArn"]
    assert [t["TopicArn"] for t in client.get(f"{NOTIFY}/topics", auth=auth).json()["Topics"]] == [topic_arn]
    assert client.get(f"{NOTIFY}/topics/alerts", auth=auth).json()["Attributes"]["DisplayName"] == "A"

    inbox = lake.root / "inbox.jsonl"
    subscribed = client.post(
        f"{NOTIFY}/topics/alerts/subscriptions", json={"Protocol": "file", "Endpoint": str(inbox)}, auth=auth
    )
    assert subscribed.status_code == 200, subscribed.text
    subscription_arn = subscribed.json()["Subscription"]["SubscriptionArn"]
    listed = client.get(f"{NOTIFY}/topics/alerts/subscriptions", auth=auth).json()["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [subscription_arn]
    assert client.get(f"{NOTIFY}/subscriptions", auth=auth).json()["Subscriptions"] == listed
    attributes = client.get(f"{NOTIFY}/subscriptions/{subscription_arn}", auth=auth).json()["Attributes"]
    assert attributes["Protocol"] == "file"

    published = client.post(
        f"{NOTIFY}/topics/{topic_arn}/publish", json={"Message": "job failed", "Subject": "pipeline"}, auth=auth
    )
    assert published.status_code == 200, published.text
    message_id = published.json()["MessageId"]
    deadline = time.monotonic() + 20
    while not client.get(f"{NOTIFY}/deliveries", params={"message_id": message_id}, auth=auth).json()["Deliveries"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    attempts = client.get(f"{NOTIFY}/deliveries", params={"message_id": message_id}, auth=auth).json()["Deliveries"]
    assert attempts[-1]["Status"].lower() == "delivered", attempts
    assert json.loads(inbox.read_text().splitlines()[0])["Message"] == "job failed"
    outbox = client.get(f"{NOTIFY}/outbox", params={"topic": "alerts"}, auth=auth).json()["Messages"]
    assert [m["MessageId"] for m in outbox] == [message_id]
    assert client.get(f"{NOTIFY}/dead-letters", auth=auth).json()["DeadLetters"] == []

    assert client.delete(f"{NOTIFY}/subscriptions/{subscription_arn}", auth=auth).status_code == 200
    assert client.get(f"{NOTIFY}/topics/alerts/subscriptions", auth=auth).json()["Subscriptions"] == []
    assert client.delete(f"{NOTIFY}/topics/alerts", auth=auth).status_code == 200
    assert client.get(f"{NOTIFY}/topics/alerts", auth=auth).status_code == 404


def test_a_lister_cannot_publish(client: TestClient, lake: Lake) -> None:
    lake.notify.create_topic("quiet")
    bob = _user(lake, "bob", _allow("sns:ListTopics"))
    before = lake.notify.outbox("quiet")
    denied = client.post(f"{NOTIFY}/topics/quiet/publish", json={"Message": "hi"}, auth=bob)
    assert denied.status_code == 403
    assert "sns:Publish" in denied.json()["error"]["message"]
    assert lake.notify.outbox("quiet") == before  # nothing changed
