"""Email subscriptions delivered to a real SMTP server (aiosmtpd) listening on loopback."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from lakeport import Lake


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_email_is_received_with_its_subject_and_body(lake: Lake, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    notify = lake.notify
    notify.settings = dataclasses.replace(
        notify.settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="pipeline@lakeport.test"
    )
    notify.create_topic("pipeline-events")
    subscription = notify.subscribe("pipeline-events", "email", "data-team@example.com")
    assert not subscription.pending  # confirmed at once locally (docs/notify.md)
    notify.subscribe("pipeline-events", "email-json", "robot@example.com")
    message_id = notify.publish(
        "pipeline-events", "Job load failed: 3 rows rejected.", subject="Pipeline FAILED", wait=True
    )

    assert len(inbox.messages) == 2
    by_recipient = {rcpt[0]: (sender, message) for sender, rcpt, message in inbox.messages}
    sender, plain = by_recipient["data-team@example.com"]
    assert sender == "pipeline@lakeport.test"
    assert plain["Subject"] == "Pipeline FAILED"
    assert plain["To"] == "data-team@example.com"
    body = plain.get_content()
    assert body.startswith("Job load failed: 3 rows rejected.")
    assert "Action=Unsubscribe" in body
    _, as_json = by_recipient["robot@example.com"]
    document = json.loads(as_json.get_content())
    assert document["MessageId"] == message_id
    assert document["Message"] == "Job load failed: 3 rows rejected."
    assert {a.status for a in notify.deliveries(message_id=message_id)} == {"DELIVERED"}


def test_email_without_a_subject_and_without_a_server(lake: Lake, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    notify = lake.notify
    notify.create_topic("pipeline-events")
    notify.subscribe("pipeline-events", "email", "data-team@example.com")
    message_id = notify.publish("pipeline-events", "no server configured", wait=True)
    (dead,) = notify.dead_letters()
    assert dead.message_id == message_id
    assert "notify.smtp_host" in dead.error

    notify.settings = dataclasses.replace(notify.settings, smtp_host="127.0.0.1", smtp_port=port)
    notify.publish("pipeline-events", "now it works", wait=True)
    ((_, _, received),) = inbox.messages
    assert received["Subject"] == "AWS Notification Message"
