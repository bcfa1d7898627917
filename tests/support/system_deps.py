"""Make sure the system packages the tests need are present; ``make test`` runs this before pytest.

Run as ``python tests/support/system_deps.py``. It prints one line per component (found or installed) and
exits non-zero, saying why, when something is missing and cannot be installed. When everything is present
it only looks at the file system (no package manager call), so it is quick and safe to run every time.

Components:

* PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``): the tests start a real PostgreSQL
  server (see ``tests/support/postgres.py``). Missing binaries are installed with apt-get when running as
  root on a Debian-like system.
* The ``postgres`` system user, when running as root: ``initdb`` refuses to run as root, so the test
  server runs as that user.
* Chromium (Debian's ``chromium`` package), which the console's browser tests drive with Playwright (never a
  downloaded browser). Installed with apt-get when missing.

This file is also imported by ``tests/support/postgres.py``, so it uses nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_MAJOR = "15"
"""The PostgreSQL major version the tests are written against (any installed version is accepted)."""

PG_PACKAGES = (f"postgresql-{PG_MAJOR}", "postgresql")
"""apt packages to try, in order, when the server binaries are missing."""

PG_TOOLS = ("initdb", "pg_ctl", "postgres")
PG_BINDIR_ENV = "PG_BINDIR"
"""Set to a folder holding initdb, pg_ctl and postgres to use those binaries instead of searching."""

SERVER_USER = "postgres"
APT_TIMEOUT_S = 900


class SystemDepsError(RuntimeError):
    """A system package the tests need is missing and could not be installed."""


def _is_pg_bindir(folder: Path) -> bool:
    return all(os.access(folder / tool, os.X_OK) and (folder / tool).is_file() for tool in PG_TOOLS)


def _version_key(folder: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/16/bin`` → (16,): newest first when sorting in reverse."""
    return tuple(int(part) for part in re.findall(r"\d+", folder.parent.name)) or (0,)


def _candidate_bindirs() -> Iterator[Path]:
    explicit = os.environ.get(PG_BINDIR_ENV)
    if explicit:
        yield Path(explicit)
        return  # an explicit choice is never silently replaced by another installation
    yield Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            yield Path(out.stdout.strip())
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for tool in PG_TOOLS:
        found = shutil.which(tool)
        if found:
            yield Path(found).resolve().parent


def find_pg_bindir() -> Path | None:
    """The folder holding the PostgreSQL server binaries, PostgreSQL 15 preferred; None when there are none."""
    for folder in _candidate_bindirs():
        if folder.is_dir() and _is_pg_bindir(folder):
            return folder
    return None


def pg_version(bindir: Path) -> str:
    """``postgres --version`` → ``"15.18"`` (or the raw output when it has an unexpected shape)."""
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=30)
    text = (out.stdout or out.stderr).strip()
    match = re.search(r"(\d+(?:\.\d+)*)", text)
    return match.group(1) if match else text


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """Serialise installs between concurrent callers (pytest-xdist workers), which would fight over apt's lock."""
    lock_path = Path(tempfile.gettempdir()) / "lakeport-system-deps.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S, check=False
    )


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _install_postgres() -> None:
    if os.geteuid() != 0:
        raise SystemDepsError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, and installing them needs root.\n"
            f"  Install them, e.g. `sudo apt-get install -y postgresql-{PG_MAJOR}` (Debian/Ubuntu) or "
            f"`brew install postgresql@{PG_MAJOR}` (macOS),\n"
            f"  or set {PG_BINDIR_ENV} to the folder that holds them."
        )
    if shutil.which("apt-get") is None:
        raise SystemDepsError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, and this system has no apt-get.\n"
            f"  Install PostgreSQL {PG_MAJOR} with the system's package manager, "
            f"or set {PG_BINDIR_ENV} to the folder that holds initdb, pg_ctl and postgres."
        )
    update = _apt("update")
    if update.returncode != 0:
        raise SystemDepsError(f"`apt-get update` failed ({update.returncode}):\n{_tail(update.stderr)}")
    errors: list[str] = []
    for package in PG_PACKAGES:
        result = _apt("install", "-y", "--no-install-recommends", package)
        if result.returncode == 0 and find_pg_bindir() is not None:
            return
        errors.append(f"`apt-get install {package}` failed ({result.returncode}):\n{_tail(result.stderr)}")
    raise SystemDepsError("could not install the PostgreSQL server:\n" + "\n".join(errors))


def ensure_postgres() -> tuple[Path, str]:
    """The PostgreSQL server binaries' folder and ``"found"`` or ``"installed"``; installs them when missing."""
    bindir = find_pg_bindir()
    if bindir is not None:
        return bindir, "found"
    explicit = os.environ.get(PG_BINDIR_ENV)
    if explicit:
        raise SystemDepsError(f"{PG_BINDIR_ENV}={explicit} does not hold the PostgreSQL server binaries {PG_TOOLS}")
    with _install_lock():
        bindir = find_pg_bindir()  # another process may have installed them while we waited
        if bindir is not None:
            return bindir, "found"
        _install_postgres()
    bindir = find_pg_bindir()
    if bindir is None:
        raise SystemDepsError("the PostgreSQL packages installed, but initdb, pg_ctl and postgres are still missing")
    return bindir, "installed"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_server_user() -> str:
    """When root, make sure the ``postgres`` user exists (initdb refuses root); ``"found"`` or ``"created"``."""
    if _user_exists(SERVER_USER):
        return "found"
    useradd = shutil.which("useradd")
    if useradd is None:
        raise SystemDepsError(f"no '{SERVER_USER}' user to run PostgreSQL as (initdb refuses root), and no useradd")
    cmd = [useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER]
    with _install_lock():
        if _user_exists(SERVER_USER):
            return "found"
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise SystemDepsError(f"could not create the '{SERVER_USER}' user:\n{_tail(result.stderr)}")
    return "created"


CHROMIUM_NAMES = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_chromium() -> tuple[str, str]:
    """Chromium's path and ``"found"`` or ``"installed"``; installs Debian's package when missing."""
    found = find_chromium()
    if found is not None:
        return found, "found"
    with _install_lock():
        found = find_chromium()
        if found is not None:
            return found, "found"
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise SystemDepsError(
                "chromium not found (the console's browser tests need it); install it, "
                "e.g. `sudo apt-get install -y chromium`, or set LAKEPORT_CHROMIUM to a Chromium binary"
            )
        _apt("update")
        result = _apt("install", "-y", "chromium")
        found = find_chromium()
        if result.returncode != 0 or found is None:
            raise SystemDepsError(f"`apt-get install chromium` failed ({result.returncode}):\n{_tail(result.stderr)}")
        return found, "installed"


def main() -> int:
    try:
        if not os.environ.get("LAKEPORT_CHROMIUM"):
            chromium, how = ensure_chromium()
            print(f"system deps: Chromium ({chromium}): {how}")
        bindir, status = ensure_postgres()
        print(f"system deps: PostgreSQL server {pg_version(bindir)} ({bindir}): {status}")
        if os.geteuid() == 0:
            print(f"system deps: '{SERVER_USER}' user to run PostgreSQL as (running as root): {ensure_server_user()}")
    except (SystemDepsError, OSError, subprocess.SubprocessError) as exc:
        print(f"system deps: ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
