"""``/api/v1/notify``: topics, subscriptions and publishing (SNS), and what happened to published messages: the
outbox, the delivery log and the dead letters.

Topics are named by name or ARN; subscriptions by their ARN (``arn:aws:sns:REGION:ACCOUNT:TOPIC:ID``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/notify", tags=["notify"])
TOPIC = "arn:aws:sns:{region}:{account}:{topic}"
ALL = "*"


class CreateTopic(BaseModel):
    Name: str = Field(description="the topic's name")
    Attributes: dict[str, Any] | None = Field(None, description="DisplayName, DeliveryPolicy, …")


class Subscribe(BaseModel):
    Protocol: str = Field(description="http, https, email, email-json, file or function")
    Endpoint: str = Field(description="where messages go (URL, address, path or function name)")
    Attributes: dict[str, Any] | None = Field(None, description="FilterPolicy, RawMessageDelivery, …")


class Confirm(BaseModel):
    Token: str = Field(description="the Token of the SubscriptionConfirmation the endpoint received")


class Publish(BaseModel):
    Message: str = Field(description="the message (JSON with a per-protocol text when MessageStructure is json)")
    Subject: str | None = Field(None, description="the subject (email and the JSON envelope)")
    MessageAttributes: dict[str, Any] | None = Field(None, description="attributes filter policies match")
    MessageStructure: str | None = Field(None, description="json: Message holds one text per protocol")


@router.get("/topics", openapi_extra=action("sns:ListTopics", ALL))
def list_topics(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every topic (ListTopics)."""
    return page.of([t.to_dict() for t in lake.notify.list_topics()], "Topics")


@router.post("/topics", openapi_extra=action("sns:CreateTopic", TOPIC))
def create_topic(lake: CallerLake, body: CreateTopic) -> dict[str, Any]:
    """Create a topic, or answer with the one of that name and the same attributes (CreateTopic)."""
    topic = lake.notify.create_topic(body.Name, body.Attributes)
    return {"TopicArn": topic.arn, "Topic": topic.to_dict()}


@router.get("/topics/{topic}", openapi_extra=action("sns:GetTopicAttributes", TOPIC))
def get_topic_attributes(lake: CallerLake, topic: str) -> dict[str, Any]:
    """A topic's attributes, subscription counts and effective delivery policy (GetTopicAttributes)."""
    return {"Attributes": lake.notify.get_topic_attributes(topic)}


@router.delete("/topics/{topic}", openapi_extra=action("sns:DeleteTopic", TOPIC))
def delete_topic(lake: CallerLake, topic: str) -> dict[str, Any]:
    """Delete a topic and its subscriptions (DeleteTopic)."""
    lake.notify.delete_topic(topic)
    return {}


@router.post("/topics/{topic}/subscriptions", openapi_extra=action("sns:Subscribe", TOPIC))
def subscribe(lake: CallerLake, topic: str, body: Subscribe) -> dict[str, Any]:
    """Subscribe an endpoint; http(s) subscriptions stay pending until confirmed (Subscribe)."""
    found = lake.notify.subscribe(topic, body.Protocol, body.Endpoint, body.Attributes)
    return {"SubscriptionArn": found.to_aws()["SubscriptionArn"], "Subscription": found.to_dict()}


@router.get("/topics/{topic}/subscriptions", openapi_extra=action("sns:ListSubscriptionsByTopic", TOPIC))
def list_topic_subscriptions(lake: CallerLake, page: Paging, topic: str) -> dict[str, Any]:
    """The topic's subscriptions (ListSubscriptionsByTopic)."""
    return page.of([s.to_aws() for s in lake.notify.list_subscriptions_by_topic(topic)], "Subscriptions")


@router.post("/topics/{topic}/confirm", openapi_extra=action("sns:ConfirmSubscription", TOPIC))
def confirm_subscription(lake: CallerLake, topic: str, body: Confirm) -> dict[str, Any]:
    """Confirm a pending subscription with its token (ConfirmSubscription)."""
    found = lake.notify.confirm_subscription(topic, body.Token)
    return {"SubscriptionArn": found.arn}


@router.post("/topics/{topic}/publish", openapi_extra=action("sns:Publish", TOPIC))
def publish(lake: CallerLake, topic: str, body: Publish) -> dict[str, Any]:
    """Publish a message; deliveries run in the background (Publish)."""
    message_id = lake.notify.publish(
        topic,
        body.Message,
        subject=body.Subject,
        message_attributes=body.MessageAttributes,
        message_structure=body.MessageStructure,
    )
    return {"MessageId": message_id}


@router.get("/subscriptions", openapi_extra=action("sns:ListSubscriptions", ALL))
def list_subscriptions(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every subscription (ListSubscriptions)."""
    return page.of([s.to_aws() for s in lake.notify.list_subscriptions()], "Subscriptions")


@router.get("/subscriptions/{subscription_arn}", openapi_extra=action("sns:GetSubscriptionAttributes", TOPIC))
def get_subscription_attributes(lake: CallerLake, subscription_arn: str) -> dict[str, Any]:
    """A subscription's attributes (GetSubscriptionAttributes)."""
    return {"Attributes": lake.notify.get_subscription_attributes(subscription_arn)}


@router.delete("/subscriptions/{subscription_arn}", openapi_extra=action("sns:Unsubscribe", TOPIC))
def unsubscribe(lake: CallerLake, subscription_arn: str) -> dict[str, Any]:
    """Delete a subscription (Unsubscribe)."""
    lake.notify.unsubscribe(subscription_arn)
    return {}


Topic = Annotated[str | None, Query(description="one topic's (name or ARN); all topics' needs sns:ListTopics")]


@router.get("/outbox", openapi_extra=action("sns:ListTopics", ALL))
def outbox(lake: CallerLake, page: Paging, topic: Topic = None) -> dict[str, Any]:
    """Published messages, newest first, with how many subscriptions each reached by status (one topic's needs
    sns:GetTopicAttributes on it instead)."""
    found = lake.notify.outbox(topic, limit=page.offset + page.limit + 1)
    return page.of([m.to_dict() for m in found], "Messages")


@router.get("/deliveries", openapi_extra=action("sns:ListTopics", ALL))
def deliveries(
    lake: CallerLake,
    page: Paging,
    message_id: Annotated[str | None, Query(description="one message's attempts")] = None,
    subscription: Annotated[
        str | None, Query(description="one subscription's attempts (needs sns:GetTopicAttributes on its topic)")
    ] = None,
) -> dict[str, Any]:
    """Every delivery attempt, oldest first (the delivery log)."""
    found = lake.notify.deliveries(message_id=message_id, subscription=subscription, limit=page.offset + page.limit + 1)
    return page.of([d.to_dict() for d in found], "Deliveries")


@router.get("/dead-letters", openapi_extra=action("sns:ListTopics", ALL))
def dead_letters(lake: CallerLake, page: Paging, topic: Topic = None) -> dict[str, Any]:
    """Messages a subscription never received, oldest first."""
    found = lake.notify.dead_letters(topic, limit=page.offset + page.limit + 1)
    return page.of([d.to_dict() for d in found], "DeadLetters")
