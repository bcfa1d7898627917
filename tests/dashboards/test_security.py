"""Sharing: row-level security (default deny), column-level security, and QuickSight's IAM actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from tests.dashboards.conftest import DASHBOARD, duck, tracks_table, write_table

ARN = "arn:aws:quicksight:us-east-1:000000000000"
VIEWER = ["quicksight:DescribeDashboard", "quicksight:QueryDashboard"]

SECURED = {
    "name": "tracks",
    "source": "music.tracks",
    "calculated_fields": {"duration_min": "duration_sec / 60"},
    "row_level_security": [
        {"user": "ann", "values": {"genre": ["pop"]}},
        {"group": "rockers", "values": {"genre": ["rock"], "album_type": ["album", "single"]}},
        {"user": "boss"},  # no values: every row
    ],
    "column_level_security": [{"columns": ["followers"], "principals": ["user/boss", "group/finance"]}],
}


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    write_table(lake, tracks_table())
    lake.dashboards.datasets.create_data_set(SECURED)
    lake.dashboards.create_dashboard(DASHBOARD)
    for name in ("ann", "bob", "carl", "boss", "dana"):
        lake.iam.create_user(name)
        lake.iam.put_user_policy(name, "view", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": VIEWER, "Resource": f"{ARN}:dashboard/music"}]})  # fmt: skip
    lake.iam.create_group("rockers")
    lake.iam.add_user_to_group("rockers", "bob")
    lake.iam.create_group("finance")
    lake.iam.add_user_to_group("finance", "dana")
    yield lake
    lake.close()


def _as(lake: Lake, user: str) -> Lake:
    return lake.as_principal(lake.iam.resolve(user))


def _count(lake: Lake, user: str, **kw: object) -> int:
    rows = _as(lake, user).dashboards.visual_data("music", "Overview", "kpis", **kw).rows  # type: ignore[arg-type]
    return int(rows[0][0])


def test_row_level_security_per_user_and_group_and_default_deny(lake: Lake) -> None:
    data = tracks_table()
    (pop,) = duck(data, "SELECT count(*) FROM t WHERE genre = 'pop'")[0]
    (rock,) = duck(data, "SELECT count(*) FROM t WHERE genre = 'rock' AND album_type IN ('album', 'single')")[0]
    assert _count(lake, "ann") == pop
    assert _count(lake, "bob") == rock
    assert _count(lake, "carl") == 0  # no rule names carl: nothing
    assert _count(lake, "boss") == 120
    assert _count(lake, "ann", filters={"genre": ["rock"]}) == 0  # filters narrow, never widen
    genres = _as(lake, "ann").dashboards.visual_data("music", "Overview", "genres").rows
    assert [r[0] for r in genres] == ["pop"]
    assert _as(lake, "ann").dashboards.filter_values("music", "genre")["Values"] == ["pop"]
    assert _as(lake, "carl").dashboards.filter_values("music", "kind")["Values"] == []
    drilled = _as(lake, "bob").dashboards.drill_down("music", "Overview", "types", {"album_type": "compilation"})
    assert drilled.rows == []


def test_column_level_security_hides_columns(lake: Lake) -> None:
    with pytest.raises(AccessDenied, match=r"visual top-artists: measure field followers of dataset tracks is "
                                           r"restricted for arn:aws:iam::000000000000:user/ann"):  # fmt: skip
        _as(lake, "ann").dashboards.visual_data("music", "Overview", "top-artists")
    answers = _as(lake, "ann").dashboards.dashboard_data("music")
    errors = [a.to_dict() for a in answers if "Error" in a.to_dict()]
    assert [e["Visual"] for e in errors] == ["top-artists"]
    assert errors[0]["Error"]["code"] == "AccessDeniedException"
    rows = _as(lake, "ann").dashboards.drill_down("music", "Overview", "types", {"album_type": "album"})
    assert "followers" not in [c["Name"] for c in rows.columns]
    assert rows.rows
    with pytest.raises(AccessDenied, match="visual top-artists: measure field followers of dataset tracks"):
        _as(lake, "ann").dashboards.drill_down("music", "Overview", "top-artists", {"artist": "artist-1"})
    fame = {"name": "fame", "field": "followers", "type": "range"}
    lake.dashboards.update_dashboard({**DASHBOARD, "filters": [*DASHBOARD["filters"], fame]})
    with pytest.raises(AccessDenied, match="filter fame: field followers of dataset tracks is restricted"):
        _as(lake, "ann").dashboards.visual_data("music", "Overview", "kpis", filters={"fame": [0, 10]})
    assert _as(lake, "boss").dashboards.visual_data("music", "Overview", "kpis", filters={"fame": [0, 10]}).rows
    boss = _as(lake, "boss").dashboards.drill_down("music", "Overview", "types", {"album_type": "album"})
    assert "followers" in [c["Name"] for c in boss.columns]
    # dana's group may see the column, but no row rule names her: the visual answers, with no rows
    assert _as(lake, "dana").dashboards.visual_data("music", "Overview", "top-artists").rows == []


def test_a_viewer_may_query_but_not_change_or_list(lake: Lake) -> None:
    ann = _as(lake, "ann").dashboards
    assert ann.describe_dashboard("music").name == "music"
    calls: list[tuple[Callable[[], object], str, str]] = [
        (lambda: ann.update_dashboard(DASHBOARD), "quicksight:UpdateDashboard", f"{ARN}:dashboard/music"),
        (lambda: ann.delete_dashboard("music"), "quicksight:DeleteDashboard", f"{ARN}:dashboard/music"),
        (lambda: ann.create_dashboard({**DASHBOARD, "name": "mine"}), "quicksight:CreateDashboard",
         f"{ARN}:dashboard/mine"),
        (ann.list_dashboards, "quicksight:ListDashboards", f"{ARN}:dashboard/*"),
        (lambda: ann.datasets.describe_data_set("tracks"), "quicksight:DescribeDataSet", f"{ARN}:dataset/tracks"),
        (lambda: ann.datasets.update_data_set(SECURED), "quicksight:UpdateDataSet", f"{ARN}:dataset/tracks"),
        (lambda: ann.datasets.create_ingestion("tracks"), "quicksight:CreateIngestion", f"{ARN}:dataset/tracks"),
        (ann.datasets.list_data_sets, "quicksight:ListDataSets", f"{ARN}:dataset/*"),
        (lambda: ann.datasets.delete_data_set("tracks"), "quicksight:DeleteDataSet", f"{ARN}:dataset/tracks"),
        (lambda: ann.datasets.create_data_set({**SECURED, "name": "x"}), "quicksight:CreateDataSet",
         f"{ARN}:dataset/x"),
    ]  # fmt: skip
    for call, action, resource in calls:
        with pytest.raises(AccessDenied) as info:
            call()
        assert f"is not authorized to perform: {action} on resource: {resource}" in info.value.message
    assert lake.dashboards.describe_dashboard("music").version == 1


def test_an_author_needs_the_source_rights_to_create_a_dataset(lake: Lake) -> None:
    lake.iam.create_user("author")
    statements = [{"Effect": "Allow", "Action": ["quicksight:CreateDataSet", "quicksight:DescribeDataSet"],
                   "Resource": f"{ARN}:dataset/*"}]  # fmt: skip
    lake.iam.put_user_policy("author", "qs", {"Version": "2012-10-17", "Statement": statements})
    author = _as(lake, "author").dashboards.datasets
    with pytest.raises(AccessDenied, match="athena:StartQueryExecution"):
        author.create_data_set({"name": "mine", "source": "music.tracks"})
    statements.append({"Effect": "Allow", "Action": ["athena:*", "glue:Get*", "s3:*"], "Resource": "*"})
    lake.iam.put_user_policy("author", "qs", {"Version": "2012-10-17", "Statement": statements})
    assert author.create_data_set({"name": "mine", "source": "music.tracks"}).owner.endswith("user/author")
