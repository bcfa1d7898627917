"""The metadata database: SQLAlchemy 2 + Alembic, SQLite in the lake by default, PostgreSQL by URL."""

from lakeport.metadata.database import HEAD_REVISION, MetadataDB
from lakeport.metadata.schema import metadata_obj

__all__ = ["HEAD_REVISION", "MetadataDB", "metadata_obj"]
