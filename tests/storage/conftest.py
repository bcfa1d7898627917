"""Fixtures of the storage contract suite."""

from __future__ import annotations

import pytest

from lakeport import Lake
from tests.support.storage_kit import new_bucket_name


@pytest.fixture
def bucket(lake: Lake) -> str:
    """A new, empty bucket on the lake under test (run once per backend through ``lake``)."""
    name = new_bucket_name()
    lake.storage.create_bucket(name)
    return name
