"""The one SQLAlchemy ``MetaData`` every service registers its tables on, and the lake's own tables."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, Text

metadata_obj = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

lake_info = Table(
    "lake_info",
    metadata_obj,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
