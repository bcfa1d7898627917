"""Looking inside a test lake: what landed where, and proof that nothing did."""

from __future__ import annotations

from lakeport import Lake


def landed(lake: Lake, prefix: str = "staging/") -> dict[str, bytes]:
    """``key → bytes`` of every object under ``prefix`` in the lake's default bucket."""
    bucket = lake.storage.default_bucket
    return {o.key: lake.storage.read_bytes(bucket, o.key) for o in lake.storage.iter_objects(bucket, prefix=prefix)}


def assert_nothing_uploaded(lake: Lake) -> None:
    """No object in the default bucket and no object event: a refused load left no trace."""
    assert landed(lake, "") == {}
    assert lake.events.read() == []
