"""Settings resolve flag → environment → lakeport.toml → default, and say where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeport.errors import ConfigError
from lakeport.settings import load_settings, parse_overrides, write_settings_file


def test_precedence_and_sources(tmp_path: Path) -> None:
    write_settings_file(tmp_path / "lakeport.toml", {"storage.region": "eu-west-1", "server.port": 9000})
    env = {"LAKEPORT_SERVER__PORT": "9100", "LAKEPORT_STORAGE__FSYNC": "false"}
    settings = load_settings(tmp_path, {"server.port": "9200"}, env)
    assert settings.server.port == 9200
    assert settings.sources["server.port"] == "flag"
    assert settings.storage.fsync is False
    assert settings.sources["storage.fsync"] == "env LAKEPORT_STORAGE__FSYNC"
    assert settings.storage.region == "eu-west-1"
    assert settings.sources["storage.region"] == "lakeport.toml"
    assert settings.storage.default_bucket == "lakeport"
    assert settings.sources["storage.default_bucket"] == "default"
    without_flag = load_settings(tmp_path, {}, env)
    assert without_flag.server.port == 9100
    assert load_settings(tmp_path, {}, {}).server.port == 9000
    names = [f"{v.section}.{v.key}" for v in settings.resolved()]
    assert "metadata.url" in names
    assert len(names) == len(set(names))


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "lakeport.toml"
    path.write_text('[storage]\nregion = "eu-west-1"\nfsync = maybe\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, {}, {})
    assert str(path) in info.value.message
    assert "line 3" in info.value.message
    assert "column" in info.value.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[storage]\nregoin = 'x'\n", "unknown setting 'regoin' in [storage]"),
        ("[stroage]\nregion = 'x'\n", "unknown section [stroage]"),
        ("[server]\nport = 'eighty'\n", "expected a whole number"),
        ("[storage]\nfsync = 3\n", "expected true or false"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "lakeport.toml").write_text(content)
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_settings(tmp_path, {}, {})


def test_unknown_environment_variable_and_flag_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LAKEPORT_STORAGE__REGOIN"):
        load_settings(tmp_path, {}, {"LAKEPORT_STORAGE__REGOIN": "x"})
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        parse_overrides(["storage.region"])
    with pytest.raises(ConfigError, match=r"unknown setting 'storage\.nope'"):
        parse_overrides(["storage.nope=1"])
    with pytest.raises(ConfigError, match="expected a number"):
        load_settings(tmp_path, {}, {"LAKEPORT_EVENTS__SETTLE_SECONDS": "soon"})
