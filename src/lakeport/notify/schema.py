"""The notify service's tables in the metadata DB: topics, subscriptions, the outbox, deliveries, dead letters."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

notify_topics = Table(
    "notify_topics",
    metadata_obj,
    Column("name", String(256), primary_key=True),
    Column("arn", String(512), nullable=False),
    Column("attributes", JSON, nullable=False),  # the settable attributes as given (DisplayName, DeliveryPolicy…)
    Column("private_key", Text, nullable=False),  # PEM (PKCS#8) of the topic's RSA signing key
    Column("certificate", Text, nullable=False),  # PEM of the self-signed X.509 certificate receivers verify with
    Column("owner", String(255), nullable=False),  # the principal that created it
    Column("created_at", DateTime(timezone=True), nullable=False),
)

notify_subscriptions = Table(
    "notify_subscriptions",
    metadata_obj,
    Column("arn", String(600), primary_key=True),
    Column("topic", String(256), nullable=False),
    Column("protocol", String(16), nullable=False),  # http | https | email | email-json | file | function
    Column("endpoint", Text, nullable=False),
    Column("attributes", JSON, nullable=False),  # FilterPolicy, FilterPolicyScope, RawMessageDelivery, …
    Column("status", String(24), nullable=False),  # PendingConfirmation | Confirmed
    Column("token", String(128), nullable=True),  # the confirmation token while pending
    Column("owner", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_notify_subscriptions_topic", notify_subscriptions.c.topic)

# The outbox: every message published, as published.
notify_messages = Table(
    "notify_messages",
    metadata_obj,
    Column("message_id", String(64), primary_key=True),
    Column("topic", String(256), nullable=False),
    Column("subject", Text, nullable=True),
    Column("message", Text, nullable=False),
    Column("message_structure", String(16), nullable=True),
    Column("message_attributes", JSON, nullable=False),  # {name: {"Type": ..., "Value": ...}}
    Column("principal", String(255), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
Index("ix_notify_messages_topic", notify_messages.c.topic, notify_messages.c.published_at)

# One row per delivery attempt (attempt 0 with status FILTERED: the filter policy did not match).
notify_deliveries = Table(
    "notify_deliveries",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False),
    Column("subscription", String(600), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # DELIVERED | FAILED | FILTERED
    Column("status_code", Integer, nullable=True),  # the HTTP status, when there was one
    Column("error", Text, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_notify_deliveries_message", notify_deliveries.c.message_id)
Index("ix_notify_deliveries_subscription", notify_deliveries.c.subscription, notify_deliveries.c.id)

# A message a subscription never received: written after the last attempt failed.
notify_dead_letters = Table(
    "notify_dead_letters",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False),
    Column("topic", String(256), nullable=False),
    Column("subscription", String(600), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("payload", Text, nullable=False),  # what was being delivered
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_notify_dead_letters_topic", notify_dead_letters.c.topic, notify_dead_letters.c.id)
