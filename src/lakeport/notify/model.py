"""What the notify service hands back: topics, subscriptions, outbox messages, delivery attempts, dead letters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lakeport.metadata.times import iso

PENDING = "PendingConfirmation"
CONFIRMED = "Confirmed"
DELIVERED = "DELIVERED"
FAILED = "FAILED"
FILTERED = "FILTERED"


@dataclass(frozen=True)
class Topic:
    name: str
    arn: str
    attributes: Mapping[str, str]
    owner: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"TopicArn": self.arn, "Name": self.name, "Attributes": dict(self.attributes)}


@dataclass(frozen=True)
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: Mapping[str, str]
    status: str
    owner: str
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def raw(self) -> bool:
        return str(self.attributes.get("RawMessageDelivery", "false")).lower() == "true"

    def to_aws(self) -> dict[str, Any]:
        """A ListSubscriptions entry (a pending subscription's ARN reads ``PendingConfirmation``, as in SNS)."""
        return {
            "SubscriptionArn": PENDING if self.pending else self.arn,
            "Owner": self.owner,
            "Protocol": self.protocol,
            "Endpoint": self.endpoint,
            "TopicArn": self.topic_arn,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "SubscriptionArn": self.arn,
            "TopicArn": self.topic_arn,
            "Protocol": self.protocol,
            "Endpoint": self.endpoint,
            "Status": self.status,
            "PendingConfirmation": "true" if self.pending else "false",
            "Attributes": dict(self.attributes),
            "Owner": self.owner,
            "CreatedAt": iso(self.created_at),
        }


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    message_structure: str | None
    message_attributes: Mapping[str, Mapping[str, str]]
    principal: str
    published_at: datetime
    deliveries: Mapping[str, int] = field(default_factory=dict)  # status → number of subscriptions

    def to_dict(self) -> dict[str, Any]:
        return {
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "Subject": self.subject,
            "Message": self.message,
            "MessageStructure": self.message_structure,
            "MessageAttributes": {k: dict(v) for k, v in self.message_attributes.items()},
            "Principal": self.principal,
            "PublishedAt": iso(self.published_at),
            "Deliveries": dict(self.deliveries),
        }


@dataclass(frozen=True)
class DeliveryAttempt:
    id: int
    message_id: str
    subscription_arn: str
    attempt: int
    status: str
    status_code: int | None
    error: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MessageId": self.message_id,
            "SubscriptionArn": self.subscription_arn,
            "Attempt": self.attempt,
            "Status": self.status,
            "StatusCode": self.status_code,
            "Error": self.error,
            "At": iso(self.at),
        }


@dataclass(frozen=True)
class DeadLetter:
    id: int
    message_id: str
    topic_arn: str
    subscription_arn: str
    attempts: int
    error: str
    payload: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "SubscriptionArn": self.subscription_arn,
            "Attempts": self.attempts,
            "Error": self.error,
            "Payload": self.payload,
            "CreatedAt": iso(self.created_at),
        }


def attributes_text(attributes: Mapping[str, Any]) -> dict[str, str]:
    """SNS attributes are strings: JSON objects (FilterPolicy, DeliveryPolicy) are kept as JSON text."""
    out: dict[str, str] = {}
    for key, value in attributes.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out
