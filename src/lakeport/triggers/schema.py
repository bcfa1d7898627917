"""The triggers' tables in the metadata DB: rules and schedules, batches being gathered, deliveries, the lease."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from lakeport.metadata.schema import metadata_obj

# EventBridge rules (kind "rule") and EventBridge Scheduler schedules (kind "schedule") share one table.
trigger_rules = Table(
    "trigger_rules",
    metadata_obj,
    Column("kind", String(16), primary_key=True),  # rule | schedule
    Column("name", String(64), primary_key=True),
    Column("arn", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("state", String(16), nullable=False),  # ENABLED | DISABLED
    Column("source", String(16), nullable=False),  # object | event | schedule
    Column("pattern", JSON, nullable=True),  # the object pattern or the event pattern
    Column("schedule", String(256), nullable=True),  # rate(…) | cron(…) | at(…)
    Column("target_kind", String(16), nullable=False),  # machine | job
    Column("target", String(512), nullable=False),  # a state machine's name or ARN, or a job's name
    Column("target_input", Text, nullable=True),  # the fixed input (JSON text), replacing the event
    Column("batch_window", Integer, nullable=True),  # seconds; None: one delivery per event
    Column("batch_size", Integer, nullable=True),
    Column("principal", String(255), nullable=False),  # who created the rule: its targets start as this principal
    Column("next_fire", DateTime(timezone=True), nullable=True),  # schedules: when they fire next
    Column("last_fire", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Events a batched rule has taken and not yet handed over in a delivery (the batch being gathered).
trigger_pending = Table(
    "trigger_pending",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(80), nullable=False),  # rule/NAME
    Column("event_key", String(64), nullable=False),
    Column("event", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("owner", "event_key", name="uq_trigger_pending_event"),
)
Index("ix_trigger_pending_owner", trigger_pending.c.owner, trigger_pending.c.id)

# The outbox: one row per target start owed (an event, a batch, a schedule's fire), written in the transaction
# that takes the events; its key makes the start idempotent (the execution name, or the job run found again).
trigger_deliveries = Table(
    "trigger_deliveries",
    metadata_obj,
    Column("owner", String(80), primary_key=True),  # rule/NAME | schedule/NAME
    Column("key", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # PENDING | STARTING | STARTED | FAILED
    Column("target_kind", String(16), nullable=False),
    Column("target", String(512), nullable=False),
    Column("name", String(80), nullable=False),  # the execution name a machine target gets
    Column("input", Text, nullable=False),  # JSON text: the execution input, or the job arguments
    Column("principal", String(255), nullable=False),
    Column("run_id", String(512), nullable=True),  # the execution ARN or job run id once started
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
)
Index("ix_trigger_deliveries_status", trigger_deliveries.c.status, trigger_deliveries.c.next_attempt_at)

# Which process dispatches (one at a time, so a job target is never started twice by two dispatchers).
trigger_leases = Table(
    "trigger_leases",
    metadata_obj,
    Column("name", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),  # host:pid
    Column("lease_until", DateTime(timezone=True), nullable=False),
)
