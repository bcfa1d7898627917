"""Every visual kind's answer, from the query service, against an independent DuckDB computation on the same rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from lakeport import Lake
from tests.dashboards.conftest import duck


def _data(music: tuple[Lake, pa.Table], sheet: str, visual: str, **kw: Any) -> tuple[list[str], list[list[Any]]]:
    lake, _ = music
    found = lake.dashboards.visual_data("music", sheet, visual, **kw)
    return [c["Name"] for c in found.columns], found.rows


def _close(a: list[list[Any]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            assert u == pytest.approx(v) if isinstance(v, float) else u == v, (x, y)


def test_kpi(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Overview", "kpis")
    assert names == ["count", "count_distinct_album", "avg_minutes"]
    _close(rows, duck(music[1], "SELECT count(*), count(DISTINCT album), avg(duration_sec / 60) FROM t"))


def test_bar_top_n_sorted_by_a_measure(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Overview", "top-artists")
    assert names == ["artist", "sum_followers", "avg_popularity"]
    expected = duck(
        music[1], "SELECT artist, sum(followers), avg(popularity) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
    )
    _close(rows, expected)
    _, more = _data(music, "Overview", "top-artists", parameters={"top": 8})
    assert len(more) == 8
    assert more[:5] == rows


def test_stacked_bar_groups_by_category_and_color(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Overview", "stacked")
    expected = duck(music[1], "SELECT release_year, album_type, count(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2")
    _close(rows, expected)


def test_a_stacked_bar_top_n_keeps_the_top_categories_with_all_their_series(music: tuple[Lake, pa.Table]) -> None:
    """A top-N of a bar with a color counts categories (ranked by the measure over all their series), not rows."""
    lake, table = music
    document = {"name": "music-top", "sheets": [{"name": "S", "visuals": [
        {"id": "top", "kind": "bar", "mode": "stacked", "dataset": "tracks", "dimensions": ["artist"],
         "color": "album_type", "measures": ["count(*)"], "limit": 4},
    ]}]}  # fmt: skip
    lake.dashboards.create_dashboard(document)
    rows = lake.dashboards.visual_data("music-top", "S", "top").rows
    top = duck(table, "SELECT artist FROM t GROUP BY 1 ORDER BY count(*) DESC, artist LIMIT 4")
    assert list(dict.fromkeys(r[0] for r in rows)) == [a for (a,) in top]  # in rank order
    expected = duck(
        table,
        "SELECT artist, album_type, count(*) FROM t WHERE artist IN (SELECT artist FROM t GROUP BY 1 "
        "ORDER BY count(*) DESC, artist LIMIT 4) GROUP BY 1, 2",
    )
    assert sorted(map(tuple, rows), key=str) == sorted(expected, key=str)
    assert len(rows) > 4  # every series of each of the four


def test_line_and_area_with_time_granularity(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Overview", "trend")
    expected = duck(
        music[1],
        "SELECT strftime(date_trunc('year', release_date), '%Y-%m-%d %H:%M:%S.000'), avg(duration_sec) "
        "FROM t GROUP BY 1 ORDER BY 1",
    )
    _close(rows, expected)
    _, quarters = _data(music, "Overview", "area")
    expected = duck(
        music[1],
        "SELECT strftime(date_trunc('quarter', release_date), '%Y-%m-%d %H:%M:%S.000'), count(*) "
        "FROM t GROUP BY 1 ORDER BY 1",
    )
    _close(quarters, expected)


def test_pie_and_donut(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Overview", "types")
    _close(rows, duck(music[1], "SELECT album_type, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC, 1"))
    _, genres = _data(music, "Overview", "genres")
    expected = duck(music[1], "SELECT genre, count(DISTINCT track_id) FROM t GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST")
    _close(genres, expected)


def test_scatter_points_and_trend_line(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Details", "scatter")
    assert names == ["color", "x", "y", "size", "trend_slope", "trend_intercept"]
    expected = duck(music[1], "SELECT album_type, energy, popularity, duration_sec FROM t ORDER BY 2, 3")
    assert sorted(r[:4] for r in rows) == sorted(list(r) for r in expected)
    slope, intercept = duck(
        music[1], "SELECT regr_slope(popularity, energy), regr_intercept(popularity, energy) FROM t"
    )[0]
    assert rows[0][4] == pytest.approx(slope)
    assert rows[0][5] == pytest.approx(intercept)


def test_aggregated_scatter(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Details", "scatter-agg")
    expected = duck(
        music[1], "SELECT artist, avg(energy), avg(popularity), count(*) FROM t GROUP BY 1 ORDER BY 1, 2, 3"
    )
    _close(rows, expected)


def test_histogram_bins_are_computed_in_sql(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Details", "hist")
    assert names == ["bin", "bin_start", "bin_end", "count"]
    values = [v for (v,) in duck(music[1], "SELECT energy FROM t")]
    lo, hi = min(values), max(values)
    counts = [0] * 5
    for v in values:
        counts[min(int((v - lo) * 5 / (hi - lo)), 4)] += 1
    assert [r[3] for r in rows] == [c for c in counts if c]
    assert rows[0][1] == pytest.approx(lo)
    assert rows[-1][2] == pytest.approx(hi)


def test_heatmap(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Details", "heat")
    _close(rows, duck(music[1], "SELECT album_type, explicit, avg(popularity) FROM t GROUP BY 1, 2 ORDER BY 1, 2"))


def test_box_plot_quartiles(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Details", "box")
    assert names == ["album_type", "min", "q1", "median", "q3", "max", "count"]
    expected = duck(
        music[1],
        "SELECT album_type, min(duration_sec), quantile_cont(duration_sec, 0.25), median(duration_sec), "
        "quantile_cont(duration_sec, 0.75), max(duration_sec), count(*) FROM t GROUP BY 1 ORDER BY 1",
    )
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got[0] == want[0]
        assert got[1] == want[1]
        assert got[5] == want[5]
        assert got[6] == want[6]
        spread = want[5] - want[1]
        for i in (2, 3, 4):  # approx_percentile: within 5 % of the range
            assert abs(got[i] - want[i]) <= 0.05 * spread, (got, want)


def test_raw_table_and_aggregated_table(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Details", "rows")
    _close(rows, duck(music[1], "SELECT track_id, artist, popularity FROM t ORDER BY 3 DESC, 1 LIMIT 7"))
    _, agg = _data(music, "Details", "agg-table")
    _close(agg, duck(music[1], "SELECT album, count(*), max(popularity) FROM t GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4"))


def test_pivot_with_totals(music: tuple[Lake, pa.Table]) -> None:
    names, rows = _data(music, "Details", "pivot")
    assert names == ["album_type", "explicit", "count", "_totals"]
    expected = duck(
        music[1],
        "SELECT album_type, explicit, count(*), grouping(album_type, explicit) FROM t "
        "GROUP BY GROUPING SETS ((album_type, explicit), (album_type), (explicit), ()) "
        "ORDER BY 1 NULLS LAST, 2 NULLS LAST, 4",
    )
    _close(rows, expected)
    assert rows[-1] == [None, None, 120, 3]  # the grand total


def test_median_kpi(music: tuple[Lake, pa.Table]) -> None:
    _, rows = _data(music, "Details", "median")
    (want,) = duck(music[1], "SELECT median(popularity) FROM t")[0]
    assert abs(rows[0][0] - want) <= 2


def test_visual_data_is_json_ready_and_says_how_to_draw(music: tuple[Lake, pa.Table]) -> None:
    import json

    lake, _ = music
    found = lake.dashboards.visual_data("music", "Overview", "kpis")
    data = json.loads(json.dumps(found.to_dict()))
    assert data["Kind"] == "kpi"
    assert data["Options"]["theme"] == "midnight"
    assert data["Columns"][2] == {"Name": "avg_minutes", "Type": "double", "Role": "measure", "Format": ",.1f"}
    assert data["QueryExecutionId"] == lake.queries.get_query_execution(data["QueryExecutionId"]).id
    bar = lake.dashboards.visual_data("music", "Overview", "top-artists")
    assert bar.options["orientation"] == "horizontal"
    assert "GROUP BY" in bar.sql
    assert "LIMIT 5" in bar.sql


def test_dashboard_data_answers_every_visual_of_a_sheet(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    answers = lake.dashboards.dashboard_data("music", "Details")
    assert [a.visual for a in answers] == ["scatter", "scatter-agg", "hist", "heat", "box", "rows", "agg-table",
                                           "pivot", "median"]  # fmt: skip
    assert all(a.to_dict().get("Rows") for a in answers)
    first = lake.dashboards.dashboard_data("music")
    assert first[0].sheet == "Overview"
