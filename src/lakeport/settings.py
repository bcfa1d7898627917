"""Typed settings, resolved flag → environment → ``lakeport.toml`` → default.

Each section is a frozen dataclass; every field has a type, a default and a one-line description. A value set
by flag (``-c section.key=value``) wins over ``LAKEPORT_<SECTION>__<KEY>`` in the environment, which wins over
``lakeport.toml``, which wins over the default. :class:`Settings` remembers where each value came from so that
``lakeport config show`` can say so.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from lakeport.errors import ConfigError

SETTINGS_FILE = "lakeport.toml"
ENV_PREFIX = "LAKEPORT_"
SECRET_KEYS = frozenset({"storage.secret_access_key", "spotify.client_secret", "notify.smtp_password"})


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class StorageSettings:
    url: str = _setting(
        "objects",
        "where objects live: a folder (relative to the lake), file:///abs/path, or s3:// for an S3 endpoint",
    )
    default_bucket: str = _setting("lakeport", "the bucket holding staging/, warehouse/ and results/")
    endpoint_url: str = _setting("", "S3-compatible endpoint URL (empty: the AWS default chain)")
    region: str = _setting("us-east-1", "region used to sign S3 requests")
    access_key_id: str = _setting("", "S3 access key id (empty: AWS_ACCESS_KEY_ID / the AWS default chain)")
    secret_access_key: str = _setting("", "S3 secret access key (empty: the AWS default chain)")
    multipart_chunk_mb: int = _setting(8, "part size for multipart uploads to S3, in MiB (5 or more)")
    fsync: bool = _setting(True, "fsync local objects and their folder before a put returns")


@dataclass(frozen=True)
class MetadataSettings:
    url: str = _setting(
        "sqlite:///lakeport.db",
        "metadata database URL: sqlite:///file (relative to the lake) or postgresql://…",
    )
    busy_timeout_ms: int = _setting(30000, "how long SQLite waits for another writer before giving up")


@dataclass(frozen=True)
class EventsSettings:
    scan_interval_seconds: float = _setting(
        5.0, "how often the watcher re-lists the store to catch changes it was not told about"
    )
    settle_seconds: float = _setting(0.5, "how long a file must stay unchanged before it counts as written")


@dataclass(frozen=True)
class IamSettings:
    account_id: str = _setting("000000000000", "the AWS account id used in ARNs")
    admin_user: str = _setting("admin", "the lake's local administrator user name")
    region: str = _setting("us-east-1", "the AWS region in service ARNs (Glue, Athena, Step Functions)")
    require_credentials: bool = _setting(
        False, "the CLI authenticates with an access key instead of acting as the administrator"
    )
    audit_admin: bool = _setting(False, "record the administrator's decisions in the audit trail too")
    audit_retention_days: int = _setting(90, "days audit events are kept (0: forever)")


@dataclass(frozen=True)
class ServerSettings:
    host: str = _setting("127.0.0.1", "address the lakeport server listens on")
    port: int = _setting(8790, "port the lakeport server listens on")


@dataclass(frozen=True)
class QuerySettings:
    max_concurrent: int = _setting(0, "query executions running at once in one process (0: one per core)")
    max_queued: int = _setting(
        100, "executions waiting for a free slot before StartQueryExecution answers TooManyRequestsException"
    )
    timeout_seconds: float = _setting(1800.0, "a query running longer than this fails (0: no limit)")
    memory_limit: str = _setting("", "DuckDB memory limit of each query, e.g. 2GB (empty: DuckDB's default)")
    min_bytes_scanned_cutoff: int = _setting(
        10_000_000, "the smallest BytesScannedCutoffPerQuery a workgroup may set (Athena's: 10 MB)"
    )


@dataclass(frozen=True)
class SpotifySettings:
    client_id: str = _setting("", "Spotify Web API client id (or SPOTIFY_CLIENT_ID)")
    client_secret: str = _setting("", "Spotify Web API client secret (or SPOTIFY_CLIENT_SECRET)")
    api_url: str = _setting("https://api.spotify.com/v1", "base URL of the Spotify Web API")
    token_url: str = _setting("https://accounts.spotify.com/api/token", "client-credentials token endpoint")
    market: str = _setting("US", "market (country code) sent with catalogue requests")


@dataclass(frozen=True)
class NotifySettings:
    smtp_host: str = _setting("", "SMTP server for email subscriptions (empty: email deliveries fail, logged)")
    smtp_port: int = _setting(25, "SMTP server port (465 with smtp_tls, 587 with smtp_starttls)")
    smtp_tls: bool = _setting(False, "connect to the SMTP server with implicit TLS (SMTPS)")
    smtp_starttls: bool = _setting(False, "upgrade the SMTP connection with STARTTLS")
    smtp_username: str = _setting("", "SMTP login user (empty: no login)")
    smtp_password: str = _setting("", "SMTP login password")
    smtp_from: str = _setting("lakeport@localhost", "the From address of notification emails")
    pipeline_email: str = _setting(
        "", "who the reference pipeline's notifications are emailed to (with smtp_host set; empty: no email)"
    )
    timeout_seconds: float = _setting(15.0, "how long one HTTP or SMTP delivery attempt may take")
    num_retries: int = _setting(3, "retries after a failed delivery (a DeliveryPolicy overrides it)")
    min_delay_seconds: float = _setting(1.0, "the shortest wait before a retry (minDelayTarget)")
    max_delay_seconds: float = _setting(20.0, "the longest wait before a retry (maxDelayTarget)")
    backoff_function: str = _setting("exponential", "linear, arithmetic, geometric or exponential")


SECTIONS: dict[str, type[Any]] = {
    "storage": StorageSettings,
    "metadata": MetadataSettings,
    "events": EventsSettings,
    "iam": IamSettings,
    "server": ServerSettings,
    "query": QuerySettings,
    "spotify": SpotifySettings,
    "notify": NotifySettings,
}


@dataclass(frozen=True)
class ResolvedValue:
    section: str
    key: str
    value: Any
    source: str
    doc: str


@dataclass(frozen=True)
class Settings:
    """All settings of one lake, with where each value came from."""

    root: Path
    storage: StorageSettings
    metadata: MetadataSettings
    events: EventsSettings
    iam: IamSettings
    server: ServerSettings
    query: QuerySettings
    spotify: SpotifySettings
    notify: NotifySettings
    sources: Mapping[str, str] = field(default_factory=dict)

    def resolved(self) -> list[ResolvedValue]:
        """Every setting with its value, its source and its description, in a stable order."""
        out: list[ResolvedValue] = []
        for section in SECTIONS:
            obj = getattr(self, section)
            for f in dataclasses.fields(obj):
                dotted = f"{section}.{f.name}"
                out.append(
                    ResolvedValue(section, f.name, getattr(obj, f.name), self.sources[dotted], f.metadata["doc"])
                )
        return out


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def _coerce(raw: Any, kind: type[Any], where: str) -> Any:
    """Turn a raw value (a TOML value or a string from a flag or the environment) into ``kind``."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected true or false, got {raw!r}")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{where}: expected a whole number, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a whole number, got {raw!r}") from None
    if kind is float:
        if isinstance(raw, bool):
            raise ConfigError(f"{where}: expected a number, got {raw!r}")
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: expected a string, got {raw!r}")
    return raw


def read_settings_file(path: Path) -> dict[str, dict[str, Any]]:
    """Parse ``lakeport.toml``; a syntax error names the file, line and column."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix the TOML syntax at that line and column") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for section, values in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]", hint=f"known sections: {', '.join(SECTIONS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: '{section}' must be a table ([{section}])")
    return data


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``["storage.url=s3://", ...]`` → ``{"storage.url": "s3://"}``, rejecting unknown names."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"setting override {pair!r} is not of the form section.key=value")
        _field_type(name.strip(), f"setting override {pair!r}")
        out[name.strip()] = value
    return out


def _field_type(dotted: str, where: str) -> type[Any]:
    section, _, key = dotted.partition(".")
    cls = SECTIONS.get(section)
    if cls is None:
        raise ConfigError(f"{where}: unknown section '{section}'", hint=f"known sections: {', '.join(SECTIONS)}")
    hints = get_type_hints(cls)
    if key not in hints:
        raise ConfigError(f"{where}: unknown setting '{dotted}'", hint=f"settings of [{section}]: {', '.join(hints)}")
    kind: type[Any] = hints[key]
    return kind


def load_settings(
    root: Path, overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve every setting of the lake at ``root``."""
    overrides = dict(overrides or {})
    environ = os.environ if environ is None else environ
    settings_path = root / SETTINGS_FILE
    file_values = read_settings_file(settings_path)
    _check_environment(environ)
    sources: dict[str, str] = {}
    sections: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for key in file_values.get(section, {}):
            if key not in hints:
                raise ConfigError(
                    f"{settings_path}: unknown setting '{key}' in [{section}]",
                    hint=f"settings of [{section}]: {', '.join(hints)}",
                )
        for f in dataclasses.fields(cls):
            dotted = f"{section}.{f.name}"
            kind = hints[f.name]
            env_key = env_name(section, f.name)
            if dotted in overrides:
                kwargs[f.name] = _coerce(overrides[dotted], kind, f"flag -c {dotted}")
                sources[dotted] = "flag"
            elif env_key in environ:
                kwargs[f.name] = _coerce(environ[env_key], kind, f"environment variable {env_key}")
                sources[dotted] = f"env {env_key}"
            elif f.name in file_values.get(section, {}):
                kwargs[f.name] = _coerce(file_values[section][f.name], kind, f"{settings_path} [{section}] {f.name}")
                sources[dotted] = SETTINGS_FILE
            else:
                sources[dotted] = "default"
        sections[section] = cls(**kwargs)
    return Settings(root=root, sources=sources, **sections)


def _check_environment(environ: Mapping[str, str]) -> None:
    for name in environ:
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].partition("__")
            _field_type(f"{section.lower()}.{key.lower()}", f"environment variable {name}")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_settings_file(path: Path, values: Mapping[str, Any]) -> None:
    """Write ``{"section.key": value}`` as ``lakeport.toml`` (only the values given; the rest stay default)."""
    by_section: dict[str, dict[str, Any]] = {}
    for dotted, value in values.items():
        kind = _field_type(dotted, "lakeport.toml")
        section, _, key = dotted.partition(".")
        by_section.setdefault(section, {})[key] = _coerce(value, kind, f"setting {dotted}")
    lines = ["# lakeport lake settings. Every setting and its default: `lakeport config show`.", ""]
    for section in SECTIONS:
        if section not in by_section:
            continue
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in by_section[section].items())
        lines.append("")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)
