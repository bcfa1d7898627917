"""Access-key credentials for front ends: the lake's credentials file (INI, like ``~/.aws/credentials``) and the
environment (``LAKEPORT_ACCESS_KEY_ID``/``LAKEPORT_SECRET_ACCESS_KEY``, then ``AWS_ACCESS_KEY_ID``/
``AWS_SECRET_ACCESS_KEY``)."""

from __future__ import annotations

import configparser
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakeport.errors import AccessDenied

if TYPE_CHECKING:
    from lakeport.iam.iam import IAM

CREDENTIALS_FILE = Path(".lakeport") / "credentials"
PROFILE = "default"
ENV_PAIRS = (
    ("LAKEPORT_ACCESS_KEY_ID", "LAKEPORT_SECRET_ACCESS_KEY"),
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    source: str

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='****', source={self.source!r})"


def credentials_path(lake_root: Path) -> Path:
    return lake_root / CREDENTIALS_FILE


def write_credentials_file(path: Path, access_key_id: str, secret_access_key: str) -> None:
    """Write ``[default]`` credentials to ``path``, readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parser = configparser.ConfigParser()
    parser[PROFILE] = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
    text = io.StringIO()
    parser.write(text)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        os.write(fd, text.getvalue().encode())
    finally:
        os.close(fd)


def read_credentials_file(path: Path) -> Credentials | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    parser.read(path)
    if not parser.has_section(PROFILE):
        return None
    section = parser[PROFILE]
    key, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    if not key or not secret:
        return None
    return Credentials(key.strip(), secret.strip(), str(path))


def find_credentials(lake_root: Path, environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the environment, else the lake's credentials file; AccessDenied with a hint if neither."""
    environ = os.environ if environ is None else environ
    for key_var, secret_var in ENV_PAIRS:
        key, secret = environ.get(key_var), environ.get(secret_var)
        if key and secret:
            return Credentials(key, secret, f"${key_var}")
    found = read_credentials_file(credentials_path(lake_root))
    if found is None:
        raise AccessDenied(
            "iam.require_credentials is on and no credentials were found",
            hint=f"set {ENV_PAIRS[0][0]} and {ENV_PAIRS[0][1]}, or keep a key in {credentials_path(lake_root)}",
            code="MissingAuthenticationToken",
        )
    return found


def ensure_admin_credentials(iam: IAM, lake_root: Path) -> Path | None:
    """Give the administrator an access key in the lake's credentials file, unless the file exists already.

    Returns the file's path when it was written now (the secret is in that file and nowhere else)."""
    path = credentials_path(lake_root)
    if path.exists():
        return None
    iam.ensure_user(iam.admin.name)
    created = iam.create_access_key(iam.admin.name)
    write_credentials_file(path, created.key.id, created.secret)
    return path
