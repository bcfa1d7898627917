"""Facts about processes that runs need: this host's name and whether a recorded worker still lives."""

from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host (a zombie, exited but not yet reaped, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): trust kill(0)
    return state not in (b"Z", b"X")
