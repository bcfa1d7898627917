"""Job bookmarks: which staging objects (key + ETag) a job has already processed.

Glue saves its bookmark after the write, so a crash in between reprocesses files and duplicates rows.
Here a run first records the objects it consumes as *pending*, with its run id, and every warehouse commit of
the run carries ``lakeport.run-id`` in its Iceberg snapshot summary. Pending entries count as processed only
once a snapshot with that run id exists (checked at the start of the next run): the bookmark and the table
commit are decided by the same atomic step, the commit, and can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from lakeport.etl.schema import job_bookmarks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lakeport.metadata.database import MetadataDB
    from lakeport.storage.objects import ObjectInfo

Seen = set[tuple[str, str, str]]  # (bucket, key, etag)


class Bookmarks:
    def __init__(self, db: MetadataDB, job: str) -> None:
        self.db = db
        self.job = job

    def settle(self, committed_run_ids: set[str]) -> tuple[int, int]:
        """Turn pending entries of runs that committed into processed ones; drop the others. (kept, dropped)"""

        def work(conn: Connection) -> tuple[int, int]:
            pending = conn.execute(
                select(job_bookmarks.c.run_id)
                .where(job_bookmarks.c.job == self.job, job_bookmarks.c.committed.is_(False))
                .distinct()
            ).scalars()
            kept = dropped = 0
            for run_id in list(pending):
                where = (job_bookmarks.c.job == self.job) & (job_bookmarks.c.run_id == run_id)
                where = where & job_bookmarks.c.committed.is_(False)
                if run_id in committed_run_ids:
                    kept += conn.execute(update(job_bookmarks).where(where).values(committed=True)).rowcount
                else:
                    dropped += conn.execute(delete(job_bookmarks).where(where)).rowcount
            return kept, dropped

        return self.db.run_write(work)

    def processed(self) -> Seen:
        with self.db.read() as conn:
            rows = conn.execute(
                select(job_bookmarks.c.bucket, job_bookmarks.c.key, job_bookmarks.c.etag).where(
                    job_bookmarks.c.job == self.job, job_bookmarks.c.committed.is_(True)
                )
            ).all()
        return {(r.bucket, r.key, r.etag) for r in rows}

    def record_pending(self, run_id: str, objects: Iterable[ObjectInfo]) -> None:
        items = list(objects)

        def work(conn: Connection) -> None:
            for info in items:
                conn.execute(
                    delete(job_bookmarks).where(
                        job_bookmarks.c.job == self.job,
                        job_bookmarks.c.bucket == info.bucket,
                        job_bookmarks.c.key == info.key,
                        job_bookmarks.c.etag == info.etag,
                        job_bookmarks.c.committed.is_(False),
                    )
                )
            if items:
                conn.execute(
                    job_bookmarks.insert(),
                    [
                        {
                            "job": self.job,
                            "bucket": i.bucket,
                            "key": i.key,
                            "etag": i.etag,
                            "size": i.size,
                            "run_id": run_id,
                            "committed": False,
                        }
                        for i in items
                    ],
                )

        self.db.run_write(work)

    def reset(self) -> int:
        return self.db.run_write(
            lambda conn: conn.execute(delete(job_bookmarks).where(job_bookmarks.c.job == self.job)).rowcount
        )

    def entries(self) -> list[dict[str, object]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(job_bookmarks).where(job_bookmarks.c.job == self.job).order_by(job_bookmarks.c.key)
            ).all()
        return [
            {
                "bucket": r.bucket,
                "key": r.key,
                "etag": r.etag,
                "size": r.size,
                "run_id": r.run_id,
                "committed": r.committed,
            }
            for r in rows
        ]
