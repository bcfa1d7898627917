"""Creating and finding lakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import ConfigError, LakeNotFound
from lakeport.lake import find_lake_root
from lakeport.metadata import HEAD_REVISION


def test_init_creates_the_lake_layout(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        assert (lake.root / "lakeport.toml").is_file()
        assert (lake.root / "lakeport.db").is_file()
        for area in ("staging", "warehouse", "results"):
            assert (lake.root / "objects" / "lakeport" / area).is_dir()
        assert [b.name for b in lake.storage.list_buckets()] == ["lakeport"]
        assert lake.db.current_revision() == HEAD_REVISION
        assert lake.db.get_info("lake_id")
    # Initialising again completes what is missing and keeps the lake as it is.
    with Lake.init(tmp_path / "lake") as again:
        assert again.db.get_info("lake_id") == lake.db.get_info("lake_id")


def test_init_over_a_lake_with_new_settings_is_refused(tmp_path: Path) -> None:
    Lake.init(tmp_path / "lake").close()
    with pytest.raises(ConfigError, match="already a lake"):
        Lake.init(tmp_path / "lake", values={"storage.default_bucket": "other"})


def test_lake_is_found_from_flag_env_then_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Lake.init(tmp_path / "lake").close()
    Lake.init(tmp_path / "other").close()
    deep = tmp_path / "lake" / "objects" / "lakeport" / "staging"
    monkeypatch.chdir(deep)
    assert find_lake_root(None, {}) == (tmp_path / "lake").resolve()
    assert find_lake_root(None, {"LAKEPORT_LAKE": str(tmp_path / "other")}) == (tmp_path / "other").resolve()
    assert (
        find_lake_root(tmp_path / "lake", {"LAKEPORT_LAKE": str(tmp_path / "other")}) == (tmp_path / "lake").resolve()
    )


def test_missing_lake_gives_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LakeNotFound) as info:
        find_lake_root(None, {})
    assert "lakeport init" in (info.value.hint or "")
    with pytest.raises(LakeNotFound, match="LAKEPORT_LAKE"):
        find_lake_root(None, {"LAKEPORT_LAKE": str(tmp_path / "nowhere")})
