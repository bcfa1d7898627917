"""Iceberg table folders: a folder holding ``metadata/*.metadata.json`` is one ICEBERG table, not loose files.

The crawler reads only the newest metadata file of each such folder (the highest version number in its
name: ``v3.metadata.json`` or ``00003-<uuid>.metadata.json``) and registers the table with the current
schema and ``metadata_location``, as Glue registers Iceberg tables; the data and manifest files below it are
never sampled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from lakeport.catalog.model import TableFormat
from lakeport.crawler.classifiers import FileShape
from lakeport.errors import InvalidInput

_METADATA = re.compile(r"^(?P<root>(?:.*/)?)metadata/(?P<file>[^/]+\.metadata\.json)$")
_VERSION = re.compile(r"^v?(\d+)")


def metadata_root(relative_key: str) -> str | None:
    """The table folder (relative, ending in ``/`` or empty) when ``relative_key`` is an Iceberg metadata file."""
    match = _METADATA.match(relative_key)
    return match.group("root") if match else None


def _version(key: str) -> int:
    match = _VERSION.match(key.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else -1


def latest_metadata(keys: Iterable[str]) -> str:
    """The newest metadata file among ``keys`` (by version number, then key)."""
    return max(keys, key=lambda k: (_version(k), k))


def iceberg_shape(uri: str, data: bytes) -> FileShape:
    """The table an Iceberg metadata file describes."""
    from lakeport.catalog.external_schemas import (
        columns_from_iceberg_schema,
        iceberg_current_schema,
        iceberg_partition_columns,
    )

    try:
        metadata = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{uri}: not a JSON Iceberg metadata file ({exc})") from None
    if not isinstance(metadata, dict) or "format-version" not in metadata:
        raise InvalidInput(f"{uri}: not an Iceberg metadata file (no format-version)")
    columns = tuple(
        (name.lower(), str(kind)) for name, kind in columns_from_iceberg_schema(iceberg_current_schema(metadata))
    )
    properties = metadata.get("properties") or {}
    parameters = {
        "table_type": "ICEBERG",
        "metadata_location": uri,
        "format-version": str(metadata["format-version"]),
    }
    partitioning = iceberg_partition_columns(metadata)
    if partitioning:
        parameters["partitioning"] = ", ".join(partitioning)
    data_format = str(properties.get("write.format.default", "parquet")).lower()
    return FileShape(
        "iceberg",
        columns,
        TableFormat("iceberg", compression=properties.get("write.parquet.compression-codec", "zstd")),
        parameters=parameters | {"write.format.default": data_format},
    )
