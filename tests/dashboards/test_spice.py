"""SPICE datasets: a Parquet snapshot in the lake, refreshed on demand with a history; a failed refresh keeps the
last good snapshot."""

from __future__ import annotations

from lakeport import Lake
from tests.dashboards.conftest import DASHBOARD, duck, tracks_table, write_table


def test_a_spice_dataset_answers_as_the_direct_one_from_its_snapshot(fresh: Lake) -> None:
    datasets = fresh.dashboards.datasets
    datasets.create_data_set({"name": "tracks", "source": "music.tracks", "import_mode": "SPICE",
                              "calculated_fields": {"duration_min": "duration_sec / 60"}})  # fmt: skip
    datasets.create_data_set({"name": "direct", "source": "music.tracks",
                              "calculated_fields": {"duration_min": "duration_sec / 60"}})  # fmt: skip
    (first,) = datasets.list_ingestions("tracks")
    assert first.status == "COMPLETED"
    assert first.rows == 120
    assert first.bytes
    assert first.bytes > 0
    snapshot = datasets.describe_data_set("tracks").snapshot
    assert snapshot is not None
    assert snapshot.startswith("lakeport_spice.tracks_")
    table = fresh.catalog.get_table(*snapshot.split("."))
    assert table.location.startswith(f"s3://lakeport/results/spice/tracks/{first.id}")
    fresh.dashboards.create_dashboard(DASHBOARD)
    spice = fresh.dashboards.dashboard_data("music", "Details")
    assert all("lakeport_spice" in v.sql for v in spice)  # type: ignore[union-attr]

    document = {**DASHBOARD, "name": "music-direct"}
    document["sheets"] = [
        {**s, "visuals": [{**v, "dataset": "direct"} for v in s["visuals"]]} for s in DASHBOARD["sheets"]
    ]
    fresh.dashboards.create_dashboard(document)
    direct = fresh.dashboards.dashboard_data("music-direct", "Details")
    assert [v.rows for v in spice] == [v.rows for v in direct]  # type: ignore[union-attr]

    # new rows reach the snapshot only when it is refreshed
    write_table(fresh, tracks_table(rows=30, seed=9))
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 120
    second = datasets.create_ingestion("tracks")
    assert second.status == "COMPLETED"
    assert second.rows == 150
    assert fresh.dashboards.visual_data("music", "Overview", "kpis").rows[0][0] == 150
    assert [i.id for i in datasets.list_ingestions("tracks")] == [second.id, first.id]
    assert snapshot.split(".")[1] not in {
        t.name for t in fresh.catalog.list_tables("lakeport_spice")
    }  # the old snapshot is dropped
    assert not list(fresh.storage.iter_objects("lakeport", prefix=f"results/spice/tracks/{first.id}/"))
    assert datasets.describe_ingestion("tracks", second.id).to_dict()["RowInfo"] == {"RowsIngested": 150}


def test_a_failed_refresh_keeps_the_last_good_snapshot(fresh: Lake) -> None:
    datasets = fresh.dashboards.datasets
    datasets.create_data_set({"name": "tracks", "sql": "SELECT * FROM music.tracks", "import_mode": "SPICE",
                              "calculated_fields": {"duration_min": "duration_sec / 60"}})  # fmt: skip
    good = datasets.describe_data_set("tracks").snapshot
    fresh.catalog.delete_table("music", "tracks")  # the source disappears
    failed = datasets.create_ingestion("tracks")
    assert failed.status == "FAILED"
    assert failed.error
    assert "music.tracks" in failed.error
    assert failed.to_dict()["ErrorInfo"]["Type"] == "QUERY_FAILED"
    assert datasets.describe_data_set("tracks").snapshot == good
    fresh.dashboards.create_dashboard(DASHBOARD)
    kpis = fresh.dashboards.visual_data("music", "Overview", "top-artists")
    expected = duck(tracks_table(), "SELECT artist, sum(followers) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 5")
    assert [r[:2] for r in kpis.rows] == [list(r) for r in expected]
    assert [i.status for i in datasets.list_ingestions("tracks")] == ["FAILED", "COMPLETED"]


def test_direct_again_and_delete_remove_the_snapshot(fresh: Lake) -> None:
    datasets = fresh.dashboards.datasets
    datasets.create_data_set({"name": "tracks", "source": "music.tracks", "import_mode": "SPICE"})
    snapshot = datasets.describe_data_set("tracks").snapshot
    assert snapshot is not None
    assert datasets.update_data_set({"name": "tracks", "source": "music.tracks"}).snapshot is None
    assert snapshot.split(".")[1] not in {t.name for t in fresh.catalog.list_tables("lakeport_spice")}
    datasets.update_data_set({"name": "tracks", "source": "music.tracks", "import_mode": "SPICE"})
    snapshot = datasets.describe_data_set("tracks").snapshot
    assert snapshot is not None
    datasets.delete_data_set("tracks")
    assert snapshot.split(".")[1] not in {t.name for t in fresh.catalog.list_tables("lakeport_spice")}
    assert not list(fresh.storage.iter_objects("lakeport", prefix="results/spice/tracks/"))
    assert datasets.list_data_sets() == []
