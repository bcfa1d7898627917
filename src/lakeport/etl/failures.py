"""How a run fails on purpose or by accident: a full disk (``NoSpaceLeft``), memory (``OutOfMemory``) and the test
failpoint that kills a run at a named phase (``LAKEPORT_FAILPOINT``)."""

from __future__ import annotations

import errno
import os
import signal

from lakeport.errors import LakeportError

FAILPOINT_ENV = "LAKEPORT_FAILPOINT"
_DISK_FULL_TEXTS = ("No space left on device", "database or disk is full", "Disk quota exceeded")


class NoSpaceLeft(LakeportError):
    """A disk filled up while a run wrote a table: the run fails, the table keeps its last snapshot."""

    http_status = 507
    default_code = "InsufficientStorage"


class OutOfMemory(LakeportError):
    """DuckDB could not stay within the run's memory limit (even spilling): the run fails, tables unchanged."""

    http_status = 507
    default_code = "ResourceNumberLimitExceededException"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk: ENOSPC/EDQUOT, as Python, DuckDB or SQLite report it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(seen) for text in _DISK_FULL_TEXTS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def failpoint(phase: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == phase:
        os.kill(os.getpid(), signal.SIGKILL)
