"""What a run measured: rows and bytes per source and sink, quarantined rows, the process's peak memory."""

from __future__ import annotations

import resource
from dataclasses import dataclass, field
from typing import Any


def peak_memory_bytes() -> int:
    """This process's peak resident memory: VmHWM (``ru_maxrss`` is inherited across exec on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Metrics:
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows_dropped: int = 0
    rows_quarantined: int = 0
    quarantine: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        rows_read = sum(s["rows_read"] for s in self.sources.values())
        return {
            "sources": self.sources,
            "sinks": self.sinks,
            "rows_read": rows_read,
            "rows_accepted": sum(s["rows_accepted"] for s in self.sources.values()),
            "rows_written": sum(s["rows_written"] for s in self.sinks.values()),
            "rows_dropped": self.rows_dropped,
            "rows_quarantined": self.rows_quarantined,
            "bytes_read": sum(s["bytes"] for s in self.sources.values()),
            "files_written": sum(s["files_written"] for s in self.sinks.values()),
            "bytes_written": sum(s["bytes_written"] for s in self.sinks.values()),
            "quarantine": self.quarantine,
            "peak_memory_bytes": peak_memory_bytes(),
        }
