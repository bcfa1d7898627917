"""Answers over SPICE snapshots are kept until the snapshot is replaced: a viewer's first load after an ingestion
runs no query, the kept answer equals a fresh one, filters and row rules are their own entries, a new ingestion
replaces them and direct-query datasets are never cached."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lakeport import Lake
from lakeport.dashboards.model import VisualData
from lakeport.dashboards.schema import dashboards_answers
from tests.dashboards.conftest import DASHBOARD, duck, tracks_table, write_table


def _executions(lake: Lake) -> int:
    return len(lake.queries.list_query_executions(limit=10_000))


def _kept(lake: Lake, snapshot: str | None = None) -> int:
    query = select(func.count()).select_from(dashboards_answers)
    if snapshot is not None:
        query = query.where(dashboards_answers.c.snapshot == snapshot)
    with lake.db.read() as conn:
        return int(conn.execute(query).scalar_one())


def _spice_dashboard(lake: Lake, mode: str = "SPICE") -> None:
    lake.dashboards.datasets.create_data_set({"name": "tracks", "source": "music.tracks", "import_mode": mode,
                                              "calculated_fields": {"duration_min": "duration_sec / 60"}})  # fmt: skip
    lake.dashboards.create_dashboard(DASHBOARD)


def _visuals() -> list[tuple[str, str]]:
    return [(s["name"], v["id"]) for s in DASHBOARD["sheets"] for v in s["visuals"]]


def test_creating_the_dashboard_and_each_ingestion_answer_every_default_view_ahead(fresh: Lake) -> None:
    _spice_dashboard(fresh)
    created = fresh.dashboards.datasets.describe_data_set("tracks").snapshot
    assert created is not None
    assert _kept(fresh, created) == len(_visuals())  # creating the dashboard answered its default views
    ingestion = fresh.dashboards.datasets.create_ingestion("tracks")  # so did the ingestion, for its snapshot
    assert _kept(fresh, created) == 0
    snapshot = fresh.dashboards.datasets.describe_data_set("tracks").snapshot
    assert snapshot is not None
    assert ingestion.table == snapshot
    assert _kept(fresh, snapshot) == len(_visuals())
    before = _executions(fresh)
    answers = [fresh.dashboards.visual_data("music", sheet, visual) for sheet, visual in _visuals()]
    assert _executions(fresh) == before  # every answer was kept
    total = duck(tracks_table(), "SELECT count(*) FROM t")[0][0]
    kpis = next(a for a in answers if a.visual == "kpis")
    assert kpis.rows[0][0] == total
    # the kept answer names the execution that computed it, which exists and read the snapshot
    execution = fresh.queries.get_query_execution(kpis.query_execution_id)
    assert snapshot.split(".")[1] in execution.query


def test_a_kept_answer_equals_a_fresh_one_and_filters_are_entries_of_their_own(fresh: Lake) -> None:
    _spice_dashboard(fresh)
    board = fresh.dashboards
    filters: dict[str, Any] = {"years": [2000, 2010], "genre": ["rock", "pop"]}
    before = _executions(fresh)
    first = board.visual_data("music", "Overview", "top-artists", filters=filters, parameters={"top": 3})
    assert _executions(fresh) == before + 1  # not kept yet: run
    again = board.visual_data("music", "Overview", "top-artists", filters=filters, parameters={"top": 3})
    assert _executions(fresh) == before + 1  # kept now
    assert again.rows == first.rows
    assert again.query_execution_id == first.query_execution_id
    expected = duck(
        tracks_table(),
        "SELECT artist, sum(followers) AS s, avg(popularity) FROM t WHERE year(release_date) BETWEEN 2000 AND 2010 "
        "AND genre IN ('rock', 'pop') GROUP BY artist ORDER BY s DESC LIMIT 3",
    )
    assert [r[0] for r in again.rows] == [r[0] for r in expected]
    assert [r[1] for r in again.rows] == [r[1] for r in expected]
    other = board.visual_data("music", "Overview", "top-artists", filters={"years": [2000, 2005]})
    assert _executions(fresh) == before + 2  # another filter: another statement
    assert other.sql != first.sql


def test_a_viewer_with_a_row_rule_never_gets_an_answer_kept_for_someone_else(fresh: Lake) -> None:
    fresh.dashboards.datasets.create_data_set({
        "name": "tracks", "source": "music.tracks", "import_mode": "SPICE",
        "calculated_fields": {"duration_min": "duration_sec / 60"},
        "row_level_security": [{"user": "ann", "values": {"genre": ["rock"]}}],
    })  # fmt: skip
    fresh.dashboards.create_dashboard(DASHBOARD)
    fresh.dashboards.datasets.create_ingestion("tracks")
    everyone = fresh.dashboards.visual_data("music", "Overview", "kpis")
    fresh.iam.create_user("ann")
    fresh.iam.put_user_policy("ann", "view", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["quicksight:DescribeDashboard", "quicksight:QueryDashboard"], "Resource": "*"}
    ]})  # fmt: skip
    ann = fresh.as_principal(fresh.iam.resolve("ann")).dashboards
    for _ in range(2):  # computed, then kept: the same either time
        mine = ann.visual_data("music", "Overview", "kpis")
        assert mine.rows[0][0] == duck(tracks_table(), "SELECT count(*) FROM t WHERE genre = 'rock'")[0][0]
        assert mine.rows[0][0] < everyone.rows[0][0]
        assert mine.sql != everyone.sql


def test_a_new_ingestion_replaces_the_kept_answers(fresh: Lake) -> None:
    _spice_dashboard(fresh)
    datasets = fresh.dashboards.datasets
    old = datasets.describe_data_set("tracks").snapshot
    assert old is not None
    datasets.create_ingestion("tracks")
    first = datasets.describe_data_set("tracks").snapshot
    assert first is not None
    assert _kept(fresh, old) == 0  # the replaced snapshot's answers went with it
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 120
    write_table(fresh, tracks_table(rows=30, seed=9))
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 120  # still the snapshot's
    datasets.create_ingestion("tracks")
    assert _kept(fresh, first) == 0
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 150
    datasets.delete_data_set("tracks")
    assert _kept(fresh) == 0


def test_direct_query_datasets_are_never_cached(fresh: Lake) -> None:
    _spice_dashboard(fresh, mode="DIRECT_QUERY")
    before = _executions(fresh)
    answers: list[VisualData] = [fresh.dashboards.visual_data("music", "Overview", "kpis") for _ in range(2)]
    assert _executions(fresh) == before + 2
    assert answers[0].query_execution_id != answers[1].query_execution_id
    write_table(fresh, tracks_table(rows=30, seed=9))
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 150  # the source, now
    assert _kept(fresh) == 0
