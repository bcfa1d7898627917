"""Notifications (SNS's role): topics, subscriptions, filter policies, signed deliveries with retries, the outbox."""

from lakeport.notify.filter_policy import FilterPolicy, InvalidFilterPolicy, parse_filter_policy
from lakeport.notify.model import DeadLetter, DeliveryAttempt, OutboxMessage, Subscription, Topic
from lakeport.notify.service import Invoke, NotFoundException, Notifications
from lakeport.notify.signing import verify

__all__ = [
    "DeadLetter",
    "DeliveryAttempt",
    "FilterPolicy",
    "InvalidFilterPolicy",
    "Invoke",
    "NotFoundException",
    "Notifications",
    "OutboxMessage",
    "Subscription",
    "Topic",
    "parse_filter_policy",
    "verify",
]
