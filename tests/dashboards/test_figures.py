"""figures.py: every visual of a real lake's dashboards → a Plotly figure whose traces hold exactly the visual's
rows (the music dashboard of conftest, both sheets, every kind; the Spotify example's three sheets), with the
measure formats applied, a "No data" annotation for an empty visual, JSON-safe throughout."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.dashboards import VisualData, VisualError, load_document, parse_datasets
from lakeport.dashboards.definition import KINDS, THEMES
from lakeport.dashboards.figures import NULL_LABEL, figure, label, sheet_payload, theme_layout
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.etl import JobDefinition

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "spotify"
Check = Callable[[VisualData, dict[str, Any]], None]


def _column(data: VisualData, name: str, rows: list[list[Any]] | None = None) -> list[Any]:
    at = [c["Name"] for c in data.columns].index(name)
    return [r[at] for r in (data.rows if rows is None else rows)]


def _names(data: VisualData, role: str) -> list[str]:
    return [c["Name"] for c in data.columns if c["Role"] == role]


def _json(fig: dict[str, Any]) -> dict[str, Any]:
    """The figure survives strict JSON (no NaN) unchanged."""
    loaded: dict[str, Any] = json.loads(json.dumps(fig, allow_nan=False))
    assert loaded == fig
    return loaded


# ---- one check per kind: the traces hold the rows


def check_kpi(data: VisualData, fig: dict[str, Any]) -> None:
    measures = _names(data, "measure")
    assert [t["type"] for t in fig["data"]] == ["indicator"] * len(measures)
    for trace, name in zip(fig["data"], measures, strict=True):
        assert trace["mode"] == "number"
        assert trace["value"] == data.rows[0][[c["Name"] for c in data.columns].index(name)]
        fmt = next(c.get("Format") for c in data.columns if c["Name"] == name)
        assert trace["number"].get("valueformat") == fmt


def check_bar(data: VisualData, fig: dict[str, Any]) -> None:
    horizontal = data.options["orientation"] == "horizontal"
    category, value = ("y", "x") if horizontal else ("x", "y")
    dims, measures = _names(data, "dimension"), _names(data, "measure")
    assert all(t["type"] == "bar" and t["orientation"] == ("h" if horizontal else "v") for t in fig["data"])
    assert fig["layout"]["barmode"] == ("stack" if data.options["mode"] == "stacked" else "group")
    if len(dims) == 1:
        assert [t["name"] for t in fig["data"]] == measures
        for trace, measure in zip(fig["data"], measures, strict=True):
            assert trace[category] == [label(v) for v in _column(data, dims[0])]
            assert trace[value] == _column(data, measure)
    else:  # the color dimension: one trace per value
        colors = list(dict.fromkeys(label(v) for v in _column(data, dims[1])))
        assert [t["name"] for t in fig["data"]] == [str(c) for c in colors]
        for trace, color in zip(fig["data"], colors, strict=True):
            rows = [r for r in data.rows if label(r[1]) == color]
            assert trace[category] == [label(v) for v in _column(data, dims[0], rows)]
            assert trace[value] == _column(data, measures[0], rows)
    fmt = next((c.get("Format") for c in data.columns if c["Name"] == measures[0]), None)
    assert fig["layout"]["xaxis" if horizontal else "yaxis"]["tickformat"] == (fmt or "")
    if fmt:
        assert f":{fmt}}}" in fig["data"][0]["hovertemplate"]


def check_line(data: VisualData, fig: dict[str, Any]) -> None:
    dims, measures = _names(data, "dimension"), _names(data, "measure")
    assert [t["type"] for t in fig["data"]] == ["scatter"] * len(measures)
    for trace, measure in zip(fig["data"], measures, strict=True):
        assert trace["x"] == [label(v) for v in _column(data, dims[0])]
        assert trace["y"] == _column(data, measure)
        assert trace["mode"] == "lines+markers"
        assert (trace.get("fill") == "tozeroy") == (data.kind == "area")
    granular = dims[0] in (data.options.get("granularity") or {})
    assert (fig["layout"]["xaxis"].get("type") == "date") == granular
    fmt = next((c.get("Format") for c in data.columns if c["Name"] == measures[0]), None)
    assert fig["layout"]["yaxis"]["tickformat"] == (fmt or "")


def check_pie(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "pie"
    assert trace["labels"] == [label(r[0]) for r in data.rows]
    assert trace["values"] == [r[1] for r in data.rows]
    assert (trace["hole"] > 0) == (data.kind == "donut")


def check_scatter(data: VisualData, fig: dict[str, Any]) -> None:
    points = [t for t in fig["data"] if t["name"] != "trend"]
    assert all(t["type"] == "scatter" and t["mode"] == "markers" for t in points)
    got = sorted((x, y) for t in points for x, y in zip(t["x"], t["y"], strict=True))
    assert got == sorted(zip(_column(data, "x"), _column(data, "y"), strict=True))
    names = [c["Name"] for c in data.columns]
    if "color" in names:
        assert {t["name"] for t in points} == {str(label(v)) for v in _column(data, "color")}
    if "size" in names:
        sizes = sorted(s for t in points for s in t["marker"]["size"])
        assert sizes == sorted(_column(data, "size"))
        assert points[0]["marker"]["sizemode"] == "area"
    trend = [t for t in fig["data"] if t["name"] == "trend"]
    if "trend_slope" in names:
        slope, intercept = data.rows[0][names.index("trend_slope")], data.rows[0][names.index("trend_intercept")]
        xs = _column(data, "x")
        (line,) = trend
        assert line["mode"] == "lines"
        assert line["x"] == [min(xs), max(xs)]
        assert line["y"] == pytest.approx([intercept + slope * min(xs), intercept + slope * max(xs)])
    else:
        assert trend == []


def check_histogram(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "bar"  # pre-aggregated bins, never a raw-row histogram
    starts, ends = _column(data, "bin_start"), _column(data, "bin_end")
    assert trace["y"] == _column(data, "count")
    assert trace["x"] == pytest.approx([(s + e) / 2 for s, e in zip(starts, ends, strict=True)])
    assert trace["width"] == pytest.approx([e - s for s, e in zip(starts, ends, strict=True)])
    assert fig["layout"]["bargap"] == 0


def check_heatmap(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "heatmap"
    for x, y, z in data.rows:
        assert trace["z"][trace["y"].index(label(y))][trace["x"].index(label(x))] == z
    assert sum(v is not None for row in trace["z"] for v in row) == len(data.rows)


def check_box(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "box"
    for key, column in (("q1", "q1"), ("median", "median"), ("q3", "q3"), ("lowerfence", "min"),
                        ("upperfence", "max")):  # fmt: skip
        assert trace[key] == _column(data, column)
    dims = _names(data, "dimension")
    if dims:
        assert trace["x"] == [label(v) for v in _column(data, dims[0])]


def check_table(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "table"
    assert trace["header"]["values"] == [c["Name"] for c in data.columns]
    assert trace["cells"]["values"] == [list(col) for col in zip(*data.rows, strict=True)]


def check_pivot(data: VisualData, fig: dict[str, Any]) -> None:
    (trace,) = fig["data"]
    assert trace["type"] == "table"
    header, columns = trace["header"]["values"], trace["cells"]["values"]
    names = [c["Name"] for c in data.columns]
    cells = [r for r in data.rows if r[names.index("_totals")] == 0]
    row_values = list(dict.fromkeys(label(r[0]) for r in cells))
    col_values = list(dict.fromkeys(str(label(r[1])) for r in cells))
    assert header == [names[0], *col_values, "Total"]
    assert columns[0] == [*row_values, "Total"]
    for r in cells:
        assert columns[1 + col_values.index(str(label(r[1])))][row_values.index(label(r[0]))] == r[2]
    grand = next(r[2] for r in data.rows if r[names.index("_totals")] == 3)
    assert columns[-1][-1] == grand
    assert columns[-1][:-1] == [sum(r[2] for r in cells if label(r[0]) == v) for v in row_values]


CHECKS: dict[str, Check] = {
    "kpi": check_kpi, "bar": check_bar, "line": check_line, "area": check_line, "pie": check_pie,
    "donut": check_pie, "scatter": check_scatter, "histogram": check_histogram, "heatmap": check_heatmap,
    "box": check_box, "table": check_table, "pivot": check_pivot,
}  # fmt: skip


def _check_sheets(lake: Lake, dashboard: str, sheets: list[str], **kwargs: Any) -> set[str]:
    kinds = set()
    for sheet in sheets:
        for answer in lake.dashboards.dashboard_data(dashboard, sheet, **kwargs):
            assert isinstance(answer, VisualData), answer
            assert answer.rows, f"{sheet}/{answer.visual} is empty"
            fig = _json(figure(answer, str(answer.options["theme"])))
            assert fig["layout"]["title"]["text"] == answer.title
            CHECKS[answer.kind](answer, fig)
            kinds.add(answer.kind)
    return kinds


def test_every_visual_of_both_sheets_becomes_its_figure(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    assert _check_sheets(lake, "music", ["Overview", "Details"]) == set(KINDS)


def test_formats_reach_the_indicator_the_axes_and_the_hover(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    kpis = figure(lake.dashboards.visual_data("music", "Overview", "kpis"))
    assert [t["number"].get("valueformat") for t in kpis["data"]] == [None, None, ",.1f"]
    assert [t["title"]["text"] for t in kpis["data"]] == ["count", "count_distinct_album", "avg_minutes"]
    genres = lake.dashboards.visual_data("music", "Overview", "genres")
    assert NULL_LABEL in figure(genres)["data"][0]["labels"]  # the genre None is a slice of its own


def test_an_empty_visual_says_no_data(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    empty = lake.dashboards.visual_data("music", "Overview", "top-artists", filters={"years": [3000, 3001]})
    assert empty.rows == []
    fig = _json(figure(empty, "dark"))
    assert fig["data"] == []
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["No data"]
    assert fig["layout"]["paper_bgcolor"] == theme_layout("dark")["paper_bgcolor"]


def test_sheet_payload_carries_figures_and_errors(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    answers: list[VisualData | VisualError] = list(lake.dashboards.dashboard_data("music", "Overview"))
    answers.append(VisualError("Overview", "broken", "bar", "Broken", "AccessDenied", "no", None))
    payload = json.loads(json.dumps(sheet_payload("music", "Overview", "midnight", answers), allow_nan=False))
    assert (payload["Dashboard"], payload["Sheet"], payload["Theme"]) == ("music", "Overview", "midnight")
    assert [v["Visual"] for v in payload["Visuals"]] == [a.visual for a in answers]
    assert all("Figure" in v and "Rows" in v for v in payload["Visuals"][:-1])
    assert payload["Visuals"][-1]["Error"]["code"] == "AccessDenied"
    assert "Figure" not in payload["Visuals"][-1]


def _luminance(color: str) -> float:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def test_every_theme_has_its_colors() -> None:
    for theme in THEMES:
        layout = theme_layout(theme)
        assert layout["colorway"]
        assert layout["font"]["family"]
        dark = _luminance(layout["paper_bgcolor"]) < 0.3
        assert dark == (theme in ("dark", "midnight")), theme
        assert (_luminance(layout["font"]["color"]) > 0.5) == dark
    assert theme_layout("no-such-theme") == theme_layout("default")


def test_non_finite_numbers_become_null() -> None:
    data = VisualData("d", "s", "v", "line", "Line", [{"Name": "x", "Type": "bigint", "Role": "dimension"},
                      {"Name": "y", "Type": "double", "Role": "measure"}], [[1, float("nan")], [2, 3.0]], "", "q")  # fmt: skip
    fig = _json(figure(data))
    assert fig["data"][0]["y"] == [None, 3.0]


# ---- the Spotify example's dashboard


@pytest.fixture(scope="module")
def spotify_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("spotify-figures") / "lake")
    generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=0), "staging/spotify/")
    lake.jobs.create_job(JobDefinition.from_file(EXAMPLES / "job.yaml"))
    assert lake.jobs.start_job_run("spotify", wait=True).state == "SUCCEEDED"
    for definition in parse_datasets(load_document(EXAMPLES / "datasets.yaml")[0]):
        lake.dashboards.datasets.create_data_set(definition)
    lake.dashboards.create_dashboard((EXAMPLES / "dashboard.yaml").read_text())
    yield lake
    lake.close()


def test_every_visual_of_the_spotify_example_becomes_its_figure(spotify_lake: Lake) -> None:
    sheets = spotify_lake.dashboards.describe_dashboard("spotify").summary()["Sheets"]
    assert sheets == ["Overview", "Audio features", "Details"]
    kinds = _check_sheets(spotify_lake, "spotify", sheets, filters={"years": [1990, 2023]})
    assert kinds == set(KINDS) - {"pie"}  # the example has a donut, no plain pie


def test_the_spotify_formats_and_theme(spotify_lake: Lake) -> None:
    share = spotify_lake.dashboards.visual_data("spotify", "Overview", "explicit-share")
    fig = figure(share, "midnight")
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert "%{y:.0%}" in fig["data"][0]["hovertemplate"]
    assert fig["layout"]["paper_bgcolor"] == theme_layout("midnight")["paper_bgcolor"]
    artists = figure(spotify_lake.dashboards.visual_data("spotify", "Overview", "top-artists"))
    assert artists["layout"]["xaxis"]["tickformat"] == ",.0f"
    assert artists["layout"]["yaxis"]["autorange"] == "reversed"  # the top artist on top
    tracks = figure(spotify_lake.dashboards.visual_data("spotify", "Overview", "tracks"))
    assert tracks["data"][0]["number"]["valueformat"] == ",.0f"
