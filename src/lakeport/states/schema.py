"""The state machine service's tables in the metadata DB: machines, executions and their history events."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from lakeport.metadata.schema import metadata_obj

state_machines = Table(
    "state_machines",
    metadata_obj,
    Column("name", String(80), primary_key=True),
    Column("arn", String(255), nullable=False),
    Column("definition", Text, nullable=False),  # the ASL text as given
    Column("role_arn", String(255), nullable=True),
    Column("type", String(16), nullable=False),  # STANDARD
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

state_executions = Table(
    "state_executions",
    metadata_obj,
    Column("arn", String(512), primary_key=True),
    Column("machine", String(80), nullable=False),
    Column("name", String(80), nullable=False),
    Column("status", String(16), nullable=False),  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    Column("input", Text, nullable=False),  # JSON text, as Step Functions returns it
    Column("output", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("cause", Text, nullable=True),
    Column("definition", Text, nullable=False),  # the definition the execution runs (updates do not change it)
    Column("role_arn", String(255), nullable=True),
    Column("principal", String(255), nullable=False),  # who started it; its tasks run as this principal
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("stopped_at", DateTime(timezone=True), nullable=True),
    # which process runs it (host:pid) and until when its lease holds; a RUNNING execution whose lease has
    # lapsed is resumed by the next runner (see docs/states.md, "Surviving a restart")
    Column("runner", String(128), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    UniqueConstraint("machine", "name", name="uq_state_executions_name"),
)
Index("ix_state_executions_machine", state_executions.c.machine, state_executions.c.started_at)

state_history = Table(
    "state_history",
    metadata_obj,
    Column("execution", String(512), primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("previous_id", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("details", JSON, nullable=True),  # {"<type>EventDetails": {...}} as the interpreter emits it
)

# What an execution has already done, keyed by the step's place in the run (a task's result, a Wait's end time,
# a retry's end time): a resumed execution replays the definition and reads these instead of doing the work again.
state_checkpoints = Table(
    "state_checkpoints",
    metadata_obj,
    Column("execution", String(512), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("value", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
