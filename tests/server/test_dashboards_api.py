"""``/api/v1/dashboards`` and ``/api/v1/data-sets`` against ``lakeport serve`` on a loopback port, over a real lake
with one small warehouse table: dashboards as code (create, describe, list, update, delete, validate), a sheet's
data with Plotly figures checked against independent queries through the query service's own API, drill-down,
filter values, a viewer who may read but not change, datasets and a SPICE dataset's ingestions."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lakeport import Lake
from tests.dashboards.conftest import DASHBOARD, DATASET, tracks_table, write_table
from tests.server.test_api import _allow, _user
from tests.support.serve import serving

API = "/api/v1"
Auth = tuple[str, str]


@dataclass(frozen=True)
class Served:
    url: str
    admin: Auth
    viewer: Auth

    def call(self, method: str, path: str, *, auth: Auth | None = None, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}{API}{path}", auth=auth or self.admin, timeout=120, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == 200, (method, path, answer.status_code, answer.text)
        return answer.json()


def _viewer_policy(arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["quicksight:DescribeDashboard", "quicksight:QueryDashboard"],
             "Resource": arn}
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root: Path = tmp_path_factory.mktemp("dashboards-api") / "lake"
    with Lake.init(root) as lake:
        write_table(lake, tracks_table())
        admin = _user(lake, "ada", _allow("*"))
        viewer = _user(lake, "vic", _viewer_policy(lake.dashboards.arn("music")))
    with serving(root) as (url, _):
        served = Served(url, admin, viewer)
        served.ok("POST", "/data-sets", json=DATASET)
        served.ok("POST", "/dashboards", json=DASHBOARD)
        yield served


def _sql(served: Served, sql: str) -> list[list[str | None]]:
    """An independent answer: the query service's own API (StartQueryExecution, GetQueryResults)."""
    execution = served.ok("POST", "/queries", json={"QueryString": sql})["QueryExecutionId"]
    deadline = time.monotonic() + 120
    while (state := served.ok("GET", f"/queries/{execution}")["QueryExecution"]["Status"]["State"]) in (
        "QUEUED",
        "RUNNING",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state == "SUCCEEDED"
    rows = served.ok("GET", f"/queries/{execution}/results")["ResultSet"]["Rows"][1:]
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]


def _visuals(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["Visual"]: v for v in payload["Visuals"]}


def test_create_describe_list_update_delete(served: Served) -> None:
    document = copy.deepcopy(DASHBOARD)
    document.update(name="music-yaml", title="Music (YAML)")
    created = served.ok("POST", "/dashboards", json={"Document": yaml.safe_dump(document)})["Dashboard"]
    assert (created["DashboardId"], created["Name"], created["VersionNumber"]) == ("music-yaml", "Music (YAML)", 1)
    assert created["Sheets"] == ["Overview", "Details"]
    again = served.call("POST", "/dashboards", json=document)
    assert again.status_code == 409
    assert "music-yaml" in again.json()["error"]["message"]

    described = served.ok("GET", "/dashboards/music-yaml")["Dashboard"]
    assert described["Definition"]["title"] == "Music (YAML)"
    assert described["Arn"].endswith(":dashboard/music-yaml")
    listed = served.ok("GET", "/dashboards", params={"limit": 1})
    assert len(listed["DashboardSummaryList"]) == 1
    assert listed["nextToken"]
    rest = served.ok("GET", "/dashboards", params={"next_token": listed["nextToken"]})
    names = [d["DashboardId"] for d in listed["DashboardSummaryList"] + rest["DashboardSummaryList"]]
    assert names == ["music", "music-yaml"]

    document["title"] = "Music, again"
    updated = served.ok("PUT", "/dashboards/music-yaml", json=document)["Dashboard"]
    assert (updated["Name"], updated["VersionNumber"]) == ("Music, again", 2)
    assert served.ok("DELETE", "/dashboards/music-yaml") == {}
    missing = served.call("GET", "/dashboards/music-yaml")
    assert missing.status_code == 404
    assert "dashboard music-yaml does not exist" in missing.json()["error"]["message"]


def test_validate_names_sheet_visual_and_field(served: Served) -> None:
    assert served.ok("POST", "/dashboards/validate", json=DASHBOARD) == {"Valid": True, "Errors": []}
    broken = copy.deepcopy(DASHBOARD)
    broken["sheets"][0]["visuals"][1]["measures"][0] = {
        "field": "folowers",
        "aggregation": "sum",
        "name": "sum_followers",
    }
    broken["sheets"][1]["visuals"][2]["field"] = "energie"
    answer = served.ok("POST", "/dashboards/validate", json=broken)
    assert answer["Valid"] is False
    assert answer["Errors"] == [
        'dashboard music, sheet Overview, visual top-artists: measure field "folowers" is not a column of dataset '
        "tracks (did you mean followers?)",
        'dashboard music, sheet Details, visual hist: field field "energie" is not a column of dataset tracks '
        "(did you mean energy?)",
    ]
    syntax = served.ok("POST", "/dashboards/validate", json={"Document": "name: [unclosed"})
    assert syntax["Valid"] is False
    assert len(syntax["Errors"]) == 1
    refused = served.call("POST", "/dashboards", json=broken)
    assert refused.status_code == 400
    assert "visual top-artists" in refused.json()["error"]["message"]


def test_a_sheets_data_follows_its_filters_like_an_independent_query(served: Served) -> None:
    everything = served.ok("POST", "/dashboards/music/data", json={})
    assert (everything["Dashboard"], everything["Sheet"], everything["Theme"]) == ("music", "Overview", "midnight")
    pop = served.ok("POST", "/dashboards/music/data", json={"Sheet": "Overview", "Filters": {"genre": ["pop"]},
                                                             "Parameters": {"top": 3}})  # fmt: skip
    (total,) = _sql(served, "SELECT count(*) FROM music.tracks")[0]
    (pop_total,) = _sql(served, "SELECT count(*) FROM music.tracks WHERE genre = 'pop'")[0]
    kpis_all, kpis_pop = _visuals(everything)["kpis"], _visuals(pop)["kpis"]
    assert kpis_all["Rows"][0][0] == int(str(total))
    assert kpis_pop["Rows"][0][0] == int(str(pop_total)) < int(str(total))
    assert kpis_pop["Figure"]["data"][0]["value"] == kpis_pop["Rows"][0][0]
    want = _sql(served, "SELECT artist, sum(followers) FROM music.tracks WHERE genre = 'pop' "
                        "GROUP BY 1 ORDER BY 2 DESC LIMIT 3")  # fmt: skip
    top = _visuals(pop)["top-artists"]
    assert [[r[0], r[1]] for r in top["Rows"]] == [[a, int(str(f))] for a, f in want]
    bars = top["Figure"]["data"][0]
    assert (bars["type"], bars["orientation"]) == ("bar", "h")
    assert bars["y"] == [r[0] for r in top["Rows"]]
    assert bars["x"] == [r[1] for r in top["Rows"]]
    details = served.ok("POST", "/dashboards/music/data", json={"Sheet": "Details"})
    assert details["Sheet"] == "Details"
    assert {v["Kind"] for v in details["Visuals"]} >= {"scatter", "histogram", "heatmap", "box", "table", "pivot"}
    assert all("Figure" in v for v in details["Visuals"])
    wrong = served.call("POST", "/dashboards/music/data", json={"Filters": {"genres": ["pop"]}})
    assert wrong.status_code == 400
    assert "did you mean genre?" in wrong.json()["error"]["message"]


def test_drill_down_returns_the_rows_behind_a_slice(served: Served) -> None:
    types = _visuals(served.ok("POST", "/dashboards/music/data", json={}))["types"]
    singles = next(r[1] for r in types["Rows"] if r[0] == "single")
    rows = served.ok("POST", "/dashboards/music/drill-down",
                     json={"Sheet": "Overview", "Visual": "types", "Point": {"album_type": "single"}, "Limit": 500})  # fmt: skip
    names = [c["Name"] for c in rows["Columns"]]
    assert "duration_min" in names
    assert len(rows["Rows"]) == singles
    assert {r[names.index("album_type")] for r in rows["Rows"]} == {"single"}
    few = served.ok("POST", "/dashboards/music/drill-down",
                    json={"Sheet": "Overview", "Visual": "types", "Point": {"album_type": "single"}, "Limit": 2})  # fmt: skip
    assert len(few["Rows"]) == 2
    bad = served.call("POST", "/dashboards/music/drill-down",
                      json={"Sheet": "Overview", "Visual": "types", "Point": {"albumtype": "single"}})  # fmt: skip
    assert bad.status_code == 400
    assert "visual types" in bad.json()["error"]["message"]


def test_filter_values(served: Served) -> None:
    genres = served.ok("GET", "/dashboards/music/filters/genre/values")
    assert genres["Values"] == [
        r[0] for r in _sql(served, "SELECT DISTINCT genre FROM music.tracks ORDER BY 1 NULLS LAST")
    ]
    years = served.ok("GET", "/dashboards/music/filters/years/values")
    low, high = _sql(served, "SELECT min(release_year), max(release_year) FROM music.tracks")[0]
    assert (years["Minimum"], years["Maximum"]) == (int(str(low)), int(str(high)))
    assert served.call("GET", "/dashboards/music/filters/nope/values").status_code == 400


def test_a_viewer_reads_data_but_cannot_change_dashboards(served: Served) -> None:
    viewer = served.viewer
    assert served.ok("GET", "/dashboards/music", auth=viewer)["Dashboard"]["DashboardId"] == "music"
    data = served.ok("POST", "/dashboards/music/data", json={"Filters": {"genre": ["rock"]}}, auth=viewer)
    assert all("Figure" in v for v in data["Visuals"])
    assert served.ok("GET", "/dashboards/music/filters/genre/values", auth=viewer)["Values"]
    for method, path, body in (
        ("POST", "/dashboards", {**DASHBOARD, "name": "mine"}),
        ("DELETE", "/dashboards/music", None),
        ("PUT", "/dashboards/music", DASHBOARD),
        ("GET", "/dashboards", None),
        ("POST", "/data-sets", {**DATASET, "name": "mine"}),
    ):
        denied = served.call(method, path, json=body, auth=viewer)
        assert denied.status_code == 403, (method, path, denied.text)
        assert "quicksight:" in denied.json()["error"]["message"]
    assert served.ok("GET", "/dashboards/music")["Dashboard"]["VersionNumber"] == 1


def test_data_sets_and_a_spice_ingestion(served: Served) -> None:
    listed = served.ok("GET", "/data-sets")["DataSetSummaries"]
    assert [d["DataSetId"] for d in listed] == ["tracks"]
    spice = {"name": "tracks-spice", "source": "music.tracks", "import_mode": "SPICE"}
    created = served.ok("POST", "/data-sets", json=spice)["DataSet"]
    assert created["ImportMode"] == "SPICE"
    assert created["SpiceTable"]
    first = served.ok("GET", "/data-sets/tracks-spice/ingestions")["Ingestions"]
    assert [i["IngestionStatus"] for i in first] == ["COMPLETED"]
    ingestion = served.ok("POST", "/data-sets/tracks-spice/ingestions")["Ingestion"]
    assert ingestion["IngestionStatus"] == "COMPLETED"
    assert ingestion["RowInfo"]["RowsIngested"] == len(tracks_table())
    again = served.ok("GET", f"/data-sets/tracks-spice/ingestions/{ingestion['IngestionId']}")["Ingestion"]
    assert again["IngestionId"] == ingestion["IngestionId"]
    assert len(served.ok("GET", "/data-sets/tracks-spice/ingestions")["Ingestions"]) == 2
    assert served.call("GET", "/data-sets/tracks-spice/ingestions/nope").status_code == 404
    direct = served.call("POST", "/data-sets/tracks/ingestions")
    assert direct.status_code == 400
    assert "only SPICE datasets" in direct.json()["error"]["message"]

    calculated = {**spice, "import_mode": "DIRECT_QUERY", "calculated_fields": {"minutes": "duration_sec / 60"}}
    updated = served.ok("PUT", "/data-sets/tracks-spice", json=calculated)["DataSet"]
    assert updated["ImportMode"] == "DIRECT_QUERY"
    assert "minutes" in [c["Name"] for c in updated["Columns"]]
    assert served.ok("GET", "/data-sets/tracks-spice")["DataSet"]["SpiceTable"] is None
    broken = served.call("PUT", "/data-sets/tracks-spice",
                         json={**spice, "calculated_fields": {"ratio": "popularity / nosuch"}})  # fmt: skip
    assert broken.status_code == 400
    assert "ratio" in broken.json()["error"]["message"]
    assert served.ok("DELETE", "/data-sets/tracks-spice") == {}
    assert served.call("GET", "/data-sets/tracks-spice").status_code == 404
