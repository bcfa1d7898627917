"""Definitions are checked up front; every error names the dashboard, sheet, visual and field."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.dashboards import DefinitionError, parse_dashboard, parse_dataset
from lakeport.errors import AlreadyExists
from tests.dashboards.conftest import DASHBOARD


def _broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(DASHBOARD)
    change(document)
    return document


def _visual(document: dict[str, Any], vid: str) -> dict[str, Any]:
    return next(v for s in document["sheets"] for v in s["visuals"] if v["id"] == vid)


def test_a_misspelt_field_names_sheet_visual_field_and_the_close_column(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    document = _broken(lambda d: _visual(d, "top-artists").update(measures=["sum(folowers)"]))
    with pytest.raises(DefinitionError) as info:
        lake.dashboards.validate_dashboard(document)
    assert info.value.errors == [
        'dashboard music, sheet Overview, visual top-artists: measure field "folowers" is not a column of dataset '
        "tracks (did you mean followers?)",
        "dashboard music, sheet Overview, visual top-artists: sort 'sum_followers' is not an output of the visual "
        "(did you mean sum_folowers?) (outputs: artist, sum_folowers)",
    ]


def test_every_error_is_reported_at_once(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music

    def change(d: dict[str, Any]) -> None:
        _visual(d, "types")["dimensions"] = ["albumtype"]
        _visual(d, "trend")["dimensions"] = [{"field": "release_year", "granularity": "year"}]
        _visual(d, "hist")["field"] = "artist"
        _visual(d, "kpis")["measures"] = ["sum(artist)"]
        d["filters"].append({"name": "fame", "field": "popularity", "type": "text"})
        d["filters"].append({"name": "wrong", "field": "genr", "type": "values"})
        d["filters"][0]["default"] = ["1990", None]

    with pytest.raises(DefinitionError) as info:
        lake.dashboards.validate_dashboard(_broken(change))
    text = "\n".join(info.value.errors)
    assert (
        'visual types: dimension field "albumtype" is not a column of dataset tracks (did you mean album_type?)' in text
    )
    assert "visual trend: dimension release_year: granularity year needs a date or timestamp column, not bigint" in text
    assert 'visual hist: field "artist" is varchar; a histogram needs a number column' in text
    assert 'visual kpis: measure field "artist": sum of a varchar column is not possible' in text
    assert "filter fame: a text filter needs a string column; popularity is bigint" in text
    assert "filter wrong: field 'genr' is not a column of any dataset the dashboard uses (did you mean genre?)" in text
    assert "dashboard music, filter years: default: '1990' is not a number" in text
    assert len(info.value.errors) == 7
    assert "and 4 more" in info.value.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _visual(d, "kpis").update(kind="gauge"),
         "sheet Overview, visual kpis: kind 'gauge' is not one of kpi, bar"),
        (lambda d: _visual(d, "kpis").update(measures=["total(popularity)"]),
         "visual kpis: measure popularity: aggregation 'total' is not one of"),
        (lambda d: _visual(d, "top-artists").update(orientation="diagonal"),
         "visual top-artists: orientation 'diagonal' is not vertical or horizontal"),
        (lambda d: _visual(d, "top-artists").update(limit="${topn}"),
         "visual top-artists: limit '${topn}' is neither a number nor ${parameter}"),
        (lambda d: _visual(d, "types").update(dimensions=["album_type", "genre"]),
         "visual types: a donut visual has one dimension and one measure"),
        (lambda d: _visual(d, "hist").update(bins=0), "visual hist: bins 0 is not a whole number from 1 to 500"),
        (lambda d: _visual(d, "heat").update(dimensions=["album_type"]),
         "visual heat: a heatmap visual has two dimensions (x, y) and one measure"),
        (lambda d: _visual(d, "kpis").update(colour="red"), "visual kpis: unknown key 'colour' (did you mean color?)"),
        (lambda d: d["filters"][0].update(control="dropdown"),
         "filter years: control 'dropdown' does not fit a range filter: use slider, number_range, date_range"),
        (lambda d: d.update(theme="neon"), "dashboard music: theme 'neon' is not one of"),
        (lambda d: d["sheets"][1]["visuals"].append({"id": "box", "kind": "kpi", "dataset": "tracks",
                                                     "measures": ["count(*)"]}),
         "sheet Details: two visuals have the id box"),
    ],
)  # fmt: skip
def test_shape_errors_name_their_place(change: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_dashboard(_broken(change))
    assert any(message in e for e in info.value.errors), info.value.errors


def test_a_visual_on_a_missing_dataset(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    with pytest.raises(DefinitionError, match=r"visual kpis: dataset trakcs does not exist \(did you mean tracks\?\)"):
        lake.dashboards.validate_dashboard(_broken(lambda d: _visual(d, "kpis").update(dataset="trakcs")))


def test_create_refuses_a_second_dashboard_of_a_name_and_update_makes_a_version(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    with pytest.raises(AlreadyExists):
        lake.dashboards.create_dashboard(DASHBOARD)
    updated = lake.dashboards.update_dashboard(_broken(lambda d: d.update(title="Music 2")))
    assert updated.version == 2
    assert updated.title == "Music 2"
    assert [d.name for d in lake.dashboards.list_dashboards()] == ["music"]
    assert lake.dashboards.describe_dashboard("music").summary()["Visuals"] == 16


def test_yaml_text_with_a_syntax_error_names_the_line() -> None:
    from lakeport.dashboards.definition import parse_text
    from lakeport.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"dashboard.yaml: line 3, column 3: expected the node content"):
        parse_text("name: x\nsheets: [\n  - a: b\n", "dashboard.yaml")


def test_dataset_definitions_are_checked(music: tuple[Lake, pa.Table]) -> None:
    lake, _ = music
    with pytest.raises(DefinitionError, match="give exactly one of source"):
        parse_dataset({"name": "x", "source": "a.b", "sql": "SELECT 1"})
    with pytest.raises(DefinitionError, match="import_mode 'CACHED' is not one of DIRECT_QUERY, SPICE"):
        parse_dataset({"name": "x", "source": "a.b", "import_mode": "cached"})
    bad = {"name": "calc", "source": "music.tracks", "calculated_fields": {"ratio": "popularity / nosuch"}}
    with pytest.raises(
        DefinitionError, match=r"dataset calc: calculated field ratio \(popularity / nosuch\): .*nosuch"
    ):
        lake.dashboards.datasets.create_data_set(bad)
    rls = {
        "name": "rls",
        "source": "music.tracks",
        "row_level_security": [{"user": "ann", "values": {"genra": ["pop"]}}],
    }
    with pytest.raises(
        DefinitionError, match=r"row rule of user/ann: column 'genra' is not a column .*did you mean genre"
    ):
        lake.dashboards.datasets.create_data_set(rls)
    with pytest.raises(DefinitionError, match=r"dataset missing: its source cannot be read: .*music.nope"):
        lake.dashboards.datasets.create_data_set({"name": "missing", "source": "music.nope"})
    assert [d.name for d in lake.dashboards.datasets.list_data_sets()] == ["tracks"]
