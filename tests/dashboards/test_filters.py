"""Filters and parameters across visuals, drill-down, and the errors of bad values."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.dashboards import VisualData
from lakeport.errors import InvalidInput, NotFound
from tests.dashboards.conftest import duck

FILTERS = {"years": [2000, 2010], "genre": ["rock", "jazz"], "kind": "album"}
WHERE = "release_year BETWEEN 2000 AND 2010 AND genre IN ('rock', 'jazz') AND album_type = 'album'"


def test_filters_apply_to_every_visual_of_the_sheet(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    answers = {
        a.visual: a for a in lake.dashboards.dashboard_data("music", filters=FILTERS) if isinstance(a, VisualData)
    }
    assert len(answers) == 7
    assert answers["kpis"].rows == [
        list(duck(data, f"SELECT count(*), count(DISTINCT album), avg(duration_sec / 60) FROM t WHERE {WHERE}")[0])
    ]
    expected = duck(data, f"SELECT artist, sum(followers), avg(popularity) FROM t WHERE {WHERE} "
                          "GROUP BY 1 ORDER BY 2 DESC LIMIT 5")  # fmt: skip
    assert [r[:2] for r in answers["top-artists"].rows] == [list(r[:2]) for r in expected]
    types = answers["types"].rows
    assert [r[0] for r in types] == ["album"]
    assert all("2000" in a.sql for a in answers.values())


def test_a_text_filter_and_open_ranges(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    found = lake.dashboards.visual_data(
        "music", "Overview", "kpis", filters={"search": "ARTIST-1", "years": [None, 1999]}
    )
    (want,) = duck(data, "SELECT count(*) FROM t WHERE lower(artist) LIKE '%artist-1%' AND release_year <= 1999")[0]
    assert found.rows[0][0] == want


def test_null_in_a_values_filter_matches_missing_values(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    found = lake.dashboards.visual_data("music", "Overview", "kpis", filters={"genre": [None, "pop"]})
    (want,) = duck(data, "SELECT count(*) FROM t WHERE genre IS NULL OR genre = 'pop'")[0]
    assert found.rows[0][0] == want


def test_filter_values_are_literals_never_sql(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    found = lake.dashboards.visual_data("music", "Overview", "kpis", filters={"genre": ["x') OR 1=1 --"]})
    assert found.rows[0][0] == 0
    assert "'x'') OR 1=1 --'" in found.sql
    with pytest.raises(InvalidInput, match=r"filter years: '1 OR 1=1' is not a number"):
        lake.dashboards.visual_data("music", "Overview", "kpis", filters={"years": ["1 OR 1=1", None]})


def test_unknown_filters_and_parameters_are_named(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    with pytest.raises(InvalidInput, match=r"dashboard music has no filter 'genres' \(did you mean genre\?\)"):
        lake.dashboards.visual_data("music", "Overview", "kpis", filters={"genres": ["pop"]})
    with pytest.raises(InvalidInput, match=r"parameter top: value 'ten' is not a integer"):
        lake.dashboards.visual_data("music", "Overview", "top-artists", parameters={"top": "ten"})
    with pytest.raises(InvalidInput, match=r"parameter top: 50 is outside 1..20"):
        lake.dashboards.visual_data("music", "Overview", "top-artists", parameters={"top": 50})
    with pytest.raises(NotFound, match=r"has no visual 'top-artist' \(did you mean top-artists\?\)"):
        lake.dashboards.visual_data("music", "Overview", "top-artist")
    with pytest.raises(NotFound, match=r"dashboard musik does not exist \(did you mean music\?\)"):
        lake.dashboards.visual_data("musik", "Overview", "kpis")


def test_drill_down_returns_the_rows_behind_a_bar(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    top = lake.dashboards.visual_data("music", "Overview", "top-artists", filters={"kind": "single"})
    artist = top.rows[0][0]
    rows = lake.dashboards.drill_down(
        "music", "Overview", "top-artists", {"artist": artist}, filters={"kind": "single"}
    )
    expected = duck(data, f"SELECT track_id FROM t WHERE artist = '{artist}' AND album_type = 'single' ORDER BY 1")
    names = [c["Name"] for c in rows.columns]
    assert "duration_min" in names
    assert names[0] == "track_id"
    assert sorted(r[0] for r in rows.rows) == [r[0] for r in expected]
    assert sum(r[names.index("followers")] for r in rows.rows) == top.rows[0][1]


def test_drill_down_into_a_time_bucket_and_a_limit(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    trend = lake.dashboards.visual_data("music", "Overview", "trend")
    year, _ = trend.rows[3]
    rows = lake.dashboards.drill_down("music", "Overview", "trend", {"year": year}, limit=2)
    (count,) = duck(data, f"SELECT count(*) FROM t WHERE year(release_date) = {year[:4]}")[0]
    assert len(rows.rows) == min(2, count)
    with pytest.raises(InvalidInput, match=r"'artist' is not a dimension of the visual"):
        lake.dashboards.drill_down("music", "Overview", "trend", {"artist": "x"})
    with pytest.raises(InvalidInput, match=r"a kpi visual has no dimensions"):
        lake.dashboards.drill_down("music", "Overview", "kpis", {})


def test_filter_values_offer_what_the_viewer_may_see(music: tuple[Lake, pa.Table]) -> None:
    lake, data = music
    genres = lake.dashboards.filter_values("music", "genre")
    assert genres["Values"] == ["jazz", "pop", "rock", None]
    assert genres["Control"] == "multi_select"
    years = lake.dashboards.filter_values("music", "years")
    assert (years["Minimum"], years["Maximum"]) == duck(data, "SELECT min(release_year), max(release_year) FROM t")[0]
    assert "Values" not in lake.dashboards.filter_values("music", "search")
    with pytest.raises(InvalidInput, match="has no filter 'genr'"):
        lake.dashboards.filter_values("music", "genr")


def test_a_visual_with_more_groups_than_it_shows_says_so(
    music: tuple[Lake, pa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, _ = music
    import lakeport.dashboards.service as service

    monkeypatch.setattr(service, "MAX_LIMIT", 5)
    found = lake.dashboards.visual_data("music", "Details", "scatter-agg")
    assert len(found.rows) == 5
    assert found.options["truncated"] is True
    assert "truncated" not in lake.dashboards.visual_data("music", "Overview", "kpis").options
