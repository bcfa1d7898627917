"""Crawler state and crawl runs: READY → RUNNING → STOPPING → READY, and each crawl's record.

Starting a crawler is one transaction that moves it from READY to RUNNING and inserts the run, so two
starts can never both win: the second gets ``CrawlerRunningException``. A crawl whose process died (same
host and its pid is gone, or no heartbeat for :data:`STALE_AFTER`) is marked FAILED and the crawler READY
again by the next start or stop. On the same host the process is checked directly; a crawl on another host
(a shared PostgreSQL catalog) is presumed dead after :data:`STALE_AFTER` without a heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from lakeport.crawler.definition import CrawlerDefinition
from lakeport.crawler.schema import crawler_runs, crawlers
from lakeport.errors import Conflict
from lakeport.metadata.times import iso, now, utc
from lakeport.processes import HOST, process_alive

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

READY, RUNNING, STOPPING = "READY", "RUNNING", "STOPPING"
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
STALE_AFTER = timedelta(minutes=5)


class CrawlerRunningException(Conflict):
    default_code = "CrawlerRunningException"


class CrawlerNotRunningException(Conflict):
    default_code = "CrawlerNotRunningException"


class CrawlerStoppingException(Conflict):
    default_code = "CrawlerStoppingException"


@dataclass(frozen=True)
class CrawlRun:
    id: str
    crawler: str
    status: str
    mode: str
    started_at: datetime
    ended_at: datetime | None
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    log_group: str = ""
    log_stream: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crawler": self.crawler,
            "status": self.status,
            "mode": self.mode,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "seconds": self.seconds,
            "summary": self.summary,
            "warnings": self.warnings,
            "error": self.error,
            "log_group": self.log_group,
            "log_stream": self.log_stream,
        }

    def to_glue(self) -> dict[str, Any]:
        """A ``CrawlerHistory`` entry of Glue's ListCrawls."""
        state = {SUCCEEDED: "COMPLETED", CANCELLED: "STOPPED"}.get(self.status, self.status)
        import json

        return {
            "CrawlId": self.id,
            "State": state,
            "StartTime": iso(self.started_at),
            "EndTime": iso(self.ended_at),
            "Summary": json.dumps(self.summary),
            "ErrorMessage": self.error,
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
        }


@dataclass(frozen=True)
class CrawlerInfo:
    definition: CrawlerDefinition
    state: str
    version: int
    created_at: datetime
    updated_at: datetime
    current_run: CrawlRun | None
    last_crawl: CrawlRun | None

    @property
    def name(self) -> str:
        return self.definition.name

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.definition.to_dict(),
            "state": self.state,
            "version": self.version,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "current_run": None if self.current_run is None else self.current_run.to_dict(),
            "last_crawl": None if self.last_crawl is None else self.last_crawl.to_dict(),
        }

    def to_glue(self) -> dict[str, Any]:
        out = self.definition.to_glue() | {
            "State": self.state,
            "CreationTime": iso(self.created_at),
            "LastUpdated": iso(self.updated_at),
            "Version": self.version,
        }
        if self.last_crawl is not None:
            last = self.last_crawl
            out["LastCrawl"] = {
                "Status": last.status,
                "ErrorMessage": last.error,
                "LogGroup": last.log_group,
                "LogStream": last.log_stream,
                "StartTime": iso(last.started_at),
            }
        # Glue: while running, the time since the crawl began; otherwise how long the last crawl took.
        if self.current_run is not None:
            out["CrawlElapsedTime"] = int((now() - self.current_run.started_at).total_seconds() * 1000)
        elif self.last_crawl is not None and self.last_crawl.seconds is not None:
            out["CrawlElapsedTime"] = int(self.last_crawl.seconds * 1000)
        return out


def run_from_row(row: Row[Any]) -> CrawlRun:
    return CrawlRun(
        id=row.id,
        crawler=row.crawler,
        status=row.status,
        mode=row.mode,
        started_at=utc(row.started_at),
        ended_at=None if row.ended_at is None else utc(row.ended_at),
        summary=dict(row.summary or {}),
        warnings=list(row.warnings or []),
        error=row.error,
        log_group=row.log_group,
        log_stream=row.log_stream,
    )


def is_stale(row: Row[Any]) -> bool:
    """Whether a RUNNING crawl's process is gone."""
    if row.host == HOST:
        return not process_alive(row.pid)
    return bool(now() - utc(row.heartbeat_at) > STALE_AFTER)


def recover_if_stale(conn: Connection, name: str) -> bool:
    """Mark the crawler's current run FAILED and the crawler READY when that run's process died."""
    crawler = conn.execute(select(crawlers).where(crawlers.c.name == name)).first()
    if crawler is None or crawler.state == READY or crawler.current_run_id is None:
        return False
    run = conn.execute(select(crawler_runs).where(crawler_runs.c.id == crawler.current_run_id)).first()
    if run is not None and not is_stale(run):
        return False
    if run is not None:
        conn.execute(
            update(crawler_runs)
            .where(crawler_runs.c.id == run.id)
            .values(status=FAILED, ended_at=now(), error="the crawl process stopped before it finished")
        )
    conn.execute(update(crawlers).where(crawlers.c.name == name).values(state=READY, current_run_id=None))
    return True


def log_group_of(crawler: str) -> str:
    return f"/lakeport/crawlers/{crawler}"
