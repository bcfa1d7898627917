"""Registered functions (Lambda's role): a name bound to a Python callable ``module:function``."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

functions = Table(
    "functions",
    metadata_obj,
    Column("name", String(64), primary_key=True),
    Column("arn", String(255), nullable=False),
    Column("handler", String(255), nullable=False),  # module:function
    Column("description", Text, nullable=False),
    Column("timeout", Integer, nullable=False),  # seconds
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
