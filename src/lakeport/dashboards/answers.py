"""Answers of visuals over SPICE snapshots, kept in the metadata DB until their snapshot is replaced.

A snapshot table never changes after its ingestion, and a visual's statement names the snapshot table and holds
everything that shapes its answer (the viewer's row rule, the filters, the parameters' values), so the same
statement always has the same answer: it is looked up by the statement's SHA-256. Entries of a snapshot go when a
newer ingestion replaces it (or its dataset is deleted); an answer computed from a snapshot that was replaced
meanwhile is not kept. Direct-query datasets are never cached: their source changes under them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from lakeport.dashboards.runner import Answer
from lakeport.dashboards.schema import dashboards_answers, dashboards_datasets
from lakeport.metadata.times import now

if TYPE_CHECKING:
    from lakeport.metadata import MetadataDB

MAX_PER_SNAPSHOT = 5_000  # distinct statements kept per snapshot (filter combinations); later ones run each time


def key_of(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def cached(db: MetadataDB, sql: str) -> Answer | None:
    """The kept answer of this statement, if any."""
    with db.read() as conn:
        row = conn.execute(select(dashboards_answers).where(dashboards_answers.c.key == key_of(sql))).first()
    if row is None:
        return None
    return Answer(row.query_execution_id, [(n, t) for n, t in row.columns], row.rows)


def keep(db: MetadataDB, snapshot: str, sql: str, answer: Answer) -> bool:
    """Keep an answer computed from ``snapshot``, unless the snapshot is no longer any dataset's current one, the
    statement is kept already, or the snapshot has its share of answers. True when it was kept."""
    key = key_of(sql)

    def work(conn: Any) -> bool:
        current = conn.execute(
            select(dashboards_datasets.c.name).where(dashboards_datasets.c.snapshot == snapshot).limit(1)
        ).first()
        if current is None:
            return False
        if conn.execute(select(dashboards_answers.c.key).where(dashboards_answers.c.key == key)).first() is not None:
            return False
        count = conn.execute(
            select(func.count()).select_from(dashboards_answers).where(dashboards_answers.c.snapshot == snapshot)
        ).scalar_one()
        if count >= MAX_PER_SNAPSHOT:
            return False
        conn.execute(
            dashboards_answers.insert().values(
                key=key,
                snapshot=snapshot,
                columns=[list(c) for c in answer.columns],
                rows=answer.rows,
                query_execution_id=answer.execution_id,
                created_at=now(),
            )
        )
        return True

    return bool(db.run_write(work))


def forget(db: MetadataDB, snapshot: str) -> None:
    """Drop every answer kept for a snapshot (it was replaced or its dataset deleted)."""
    db.run_write(lambda conn: conn.execute(delete(dashboards_answers).where(dashboards_answers.c.snapshot == snapshot)))
