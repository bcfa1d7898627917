"""The dashboards' console pages in a real Chromium against a real ``lakeport serve``: the Spotify insights
dashboard drawn by Plotly (the plotly package's own plotly.min.js, served offline), its filters checked against
independent queries of the query API, a viewer's row rule, drill-down by clicking a bar, and a viewer without
quicksight:QueryDashboard.

The lake (``dashboards_served`` in conftest.py) holds the Spotify sample at scale 0.005, the ETL job run once,
the reference dashboard and a row rule on ``spotify-tracks``: ``ada`` sees every row, ``vic`` two genres.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import expect

from tests.web.conftest import DashboardsServed, Key, Tab

pytestmark = pytest.mark.xdist_group("dashboards")

DASHBOARD = Path(__file__).resolve().parents[2] / "examples" / "spotify" / "dashboard.yaml"
DENIED_LOAD = "status of 403"
READY = '#dashboard[data-status="ready"]'
# Every card of the sheet: its visual, state, rows and whether Plotly drew an SVG or a canvas in it.
CARDS = """() => [...document.querySelectorAll('#visuals [data-visual]')].map((card) => ({
  visual: card.dataset.visual, state: card.dataset.state, rows: Number(card.dataset.rows),
  drawn: Boolean(card.querySelector('.js-plotly-plot svg.main-svg, .js-plotly-plot canvas')),
}))"""
FIGURE = '(visual) => document.querySelector(`[data-visual="${visual}"] .js-plotly-plot`).data'


def _visuals(sheet: str) -> list[str]:
    document = yaml.safe_load(DASHBOARD.read_text())
    found = next(s for s in document["sheets"] if s["name"] == sheet)
    return [v["id"] for v in found["visuals"]]


def _sql(served: DashboardsServed, text: str) -> list[list[str | None]]:
    """An independent answer: the statement run through the real query API as the administrator."""
    auth = (served.admin.id, served.admin.secret)
    with httpx.Client(base_url=f"{served.url}/api/v1", auth=auth, timeout=30) as client:
        started = client.post("/queries", json={"QueryString": text, "Database": "spotify"})
        started.raise_for_status()
        execution = started.json()["QueryExecutionId"]
        deadline = time.monotonic() + 60
        while True:
            status = client.get(f"/queries/{execution}").json()["QueryExecution"]["Status"]
            if status["State"] not in ("QUEUED", "RUNNING"):
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
        assert status["State"] == "SUCCEEDED", status
        page = client.get(f"/queries/{execution}/results").json()
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
    return rows[1:]  # the header row first


def _open(tab: Tab, key: Key, path: str = "/dashboards/spotify") -> None:
    tab.login(key)
    tab.goto(path)


def _cards(tab: Tab) -> list[dict[str, Any]]:
    tab.page.wait_for_selector(READY)
    cards: list[dict[str, Any]] = tab.page.evaluate(CARDS)
    return cards


def _figure(tab: Tab, visual: str) -> list[dict[str, Any]]:
    traces: list[dict[str, Any]] = tab.page.evaluate(FIGURE, visual)
    return traces


def test_every_visual_of_two_sheets_is_drawn_by_plotly(dashboard_tab: Tab, dashboards_served: DashboardsServed) -> None:
    tab = dashboard_tab
    _open(tab, dashboards_served.admin, "/dashboards")
    board = tab.page.locator("#dashboards a", has_text="Spotify insights")
    expect(board).to_be_visible()
    expect(tab.page.locator("#dashboards")).to_contain_text("Audio features")
    board.click()
    expect(tab.page).to_have_url(f"{dashboards_served.url}/dashboards/spotify")
    expect(tab.page.locator("#dash-title")).to_have_text("Spotify insights")
    for sheet in ("Overview", "Audio features"):
        if sheet != "Overview":
            tab.page.click(f'#sheets [data-sheet="{sheet}"]')
        cards = _cards(tab)
        assert [c["visual"] for c in cards] == _visuals(sheet)
        for card in cards:
            assert card["state"] == "rendered", (sheet, card)
            assert card["drawn"], (sheet, card)
            assert card["rows"] > 0, (sheet, card)
        expect(tab.page.locator("#dash-status")).to_contain_text("Done")
        if sheet == "Overview":
            tab.shot("dashboard")
    expect(tab.page).to_have_url(f"{dashboards_served.url}/dashboards/spotify#sheet=Audio%20features")
    # the filters' controls come from the definition and the values endpoint
    low, high = _sql(dashboards_served, "SELECT min(release_year), max(release_year) FROM spotify.tracks")[0]
    expect(tab.page.locator('[data-filter="years"][data-bound="min"]')).to_have_attribute("min", str(low))
    expect(tab.page.locator('[data-filter="years"][data-bound="max"]')).to_have_attribute("max", str(high))
    expect(tab.page.locator('select[data-filter="album_type"] option')).to_have_count(4)  # (all) and 3 values
    expect(tab.page.locator('[data-parameter="top_n"]')).to_have_value("10")
    assert not tab.console.errors, tab.console.errors


def test_a_year_range_changes_the_kpi_and_the_trend_as_sql_says(
    dashboard_tab: Tab, dashboards_served: DashboardsServed
) -> None:
    tab = dashboard_tab
    _open(tab, dashboards_served.admin)
    _cards(tab)
    everything = _figure(tab, "tracks")[0]["value"]
    tab.page.fill('[data-filter="years"][data-bound="min"]', "2015")
    tab.page.fill('[data-filter="years"][data-bound="max"]', "2020")
    tab.page.click("#apply")
    expect(tab.page.locator("#dash-status")).to_contain_text("Done")
    cards = _cards(tab)
    assert all(c["state"] == "rendered" for c in cards), cards
    (want,) = _sql(dashboards_served, "SELECT count(DISTINCT track_id) FROM spotify.tracks "
                                      "WHERE release_year BETWEEN 2015 AND 2020")[0]  # fmt: skip
    got = _figure(tab, "tracks")[0]["value"]
    assert got == int(str(want)) < everything
    years = [int(str(r[0])) for r in _sql(dashboards_served, "SELECT DISTINCT release_year FROM spotify.tracks "
                                               "WHERE release_year BETWEEN 2015 AND 2020 ORDER BY 1")]  # fmt: skip
    trend = _figure(tab, "duration-trend")
    assert [int(x) for x in trend[0]["x"]] == years
    assert not tab.console.errors, tab.console.errors


def test_a_viewer_with_a_row_rule_sees_only_their_genres(
    dashboard_tab: Tab, dashboards_served: DashboardsServed
) -> None:
    tab = dashboard_tab
    genres = dashboards_served.genres
    _open(tab, dashboards_served.viewer)
    cards = _cards(tab)
    assert all(c["state"] == "rendered" for c in cards), cards
    shown = {category for trace in _figure(tab, "genres") for category in trace["x"]}
    assert shown == set(genres)
    listed = ", ".join("'" + g.replace("'", "''") + "'" for g in genres)
    (want,) = _sql(dashboards_served, "SELECT count(DISTINCT track_id) FROM spotify.tracks "
                                      f"WHERE coalesce(genre_0, '(no genre)') IN ({listed})")[0]  # fmt: skip
    assert _figure(tab, "tracks")[0]["value"] == int(str(want))
    # the genre control offers their genres (and the artists' dataset's, which has no row rule)
    options = tab.page.locator('select[data-filter="genre"] option')
    expect(options.filter(has_text=genres[0])).to_have_count(1)
    assert set(genres) <= set(options.all_inner_texts())
    assert not tab.console.errors, tab.console.errors


def test_clicking_a_bar_lists_the_rows_behind_it(dashboard_tab: Tab, dashboards_served: DashboardsServed) -> None:
    tab = dashboard_tab
    _open(tab, dashboards_served.admin)
    _cards(tab)
    bar = tab.page.locator('[data-visual="top-albums"] .js-plotly-plot g.trace.bars g.point path').first
    box = bar.bounding_box()
    assert box is not None
    tab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    drill = tab.page.locator("#drill")
    expect(drill).to_have_attribute("data-state", "ready")
    expect(drill).to_have_attribute("data-visual", "top-albums")
    album = _figure(tab, "top-albums")[0]["y"][0]  # the first (top) bar
    expect(tab.page.locator("#drill-title")).to_contain_text(f"album_name = {album}")
    header = tab.page.locator("#drill-body thead th").all_inner_texts()
    at = header.index("album_name")
    rows = tab.page.locator("#drill-body tbody tr")
    names = [row.locator("td").nth(at).inner_text() for row in rows.all()]
    quoted = str(album).replace("'", "''")
    (want,) = _sql(dashboards_served, f"SELECT count(*) FROM spotify.tracks WHERE album_name = '{quoted}'")[0]
    assert names
    assert set(names) == {album}
    assert len(names) == min(int(str(want)), 100)
    tab.page.click("#drill-close")
    expect(drill).to_be_hidden()
    assert not tab.console.errors, tab.console.errors


def test_a_user_without_query_dashboard_sees_an_error_not_a_crash(
    dashboard_tab: Tab, dashboards_served: DashboardsServed
) -> None:
    tab = dashboard_tab
    _open(tab, dashboards_served.blind)
    root = tab.page.locator("#dashboard")
    expect(root).to_have_attribute("data-status", "error")
    expect(tab.page.locator("#dash-title")).to_have_text("Spotify insights")  # the definition was readable
    card = tab.page.locator('#visuals [data-state="error"]')
    expect(card).to_have_count(1)
    expect(card).to_contain_text("quicksight:QueryDashboard")
    expect(tab.page.locator("#error")).to_contain_text("Access denied")
    expect(tab.page.locator("#visuals .js-plotly-plot")).to_have_count(0)
    assert not tab.console.unexpected(DENIED_LOAD), tab.console.errors


def test_plotly_is_served_from_the_installed_package(dashboards_served: DashboardsServed) -> None:
    answer = httpx.get(f"{dashboards_served.url}/static/vendor/plotly.min.js", timeout=30)
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]
    assert "max-age" in answer.headers["cache-control"]
    assert "plotly" in answer.text[:2000].lower()
