"""A real PostgreSQL server on loopback for the tests, started and stopped by the tests themselves.

:func:`postgres_server` runs ``initdb`` on a fresh temporary folder, starts ``postgres`` on a free port of
127.0.0.1 (and a unix socket inside that folder, never the system's), creates a database and yields its
SQLAlchemy URL. On exit it stops the server and deletes the folder. Durability is switched off (``fsync``,
``synchronous_commit``, ``full_page_writes``): the data is thrown away anyway, and tests run faster.

initdb and postgres refuse to run as root, so when the tests run as root the server runs as the
``postgres`` system user (on a folder owned by it). Missing binaries are installed by
:func:`tests.support.system_deps.ensure_postgres` (apt-get, when root); if that is impossible the tests fail
with a clear error, they are never skipped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url

from tests.support.system_deps import SERVER_USER, SystemDepsError, ensure_postgres, ensure_server_user

SUPERUSER = "postgres"
DEFAULT_DATABASE = "lakeport_test"
START_TIMEOUT_S = 60
START_ATTEMPTS = 5
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}


class PostgresServerError(RuntimeError):
    """The test PostgreSQL server could not be set up."""


@dataclass(frozen=True)
class _RunAs:
    """Who runs initdb/pg_ctl: the current user, or (when root) the ``postgres`` system user."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_current_user(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        try:
            ensure_server_user()
            entry = pwd.getpwnam(SERVER_USER)
        except (SystemDepsError, KeyError) as exc:
            raise PostgresServerError(
                f"running as root, and no '{SERVER_USER}' user to run PostgreSQL as: {exc}"
            ) from exc
        return cls(entry.pw_uid, entry.pw_gid)

    def chown(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, cmd: Sequence[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # PGDATA, PGPORT… must not leak in
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        as_user: dict[str, Any] = {}
        if self.uid is not None:
            env.update(HOME=str(cwd), USER=SERVER_USER, LOGNAME=SERVER_USER)
            as_user = {"user": self.uid, "group": self.gid, "extra_groups": []}
        return subprocess.run(
            list(cmd),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            **as_user,
        )


def _temp_parent() -> str | None:
    """A folder for the server's files that the server user can reach (every parent searchable by others)."""
    base = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() != 0:
        return str(base)
    for folder in (base, *base.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return "/tmp"  # TMPDIR is private to root: the postgres user could not enter it
    return str(base)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _fail(what: str, result: subprocess.CompletedProcess[str], log: Path | None = None) -> PostgresServerError:
    parts = [f"{what} failed (exit {result.returncode}): {shlex.join(result.args)}"]
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text and text.strip():
            parts.append(f"--- {name}\n{text.strip()}")
    if log is not None:
        parts.append(f"--- server log {log}\n{_tail(log)}")
    return PostgresServerError("\n".join(parts))


def server_url(port: int, database: str) -> str:
    """The SQLAlchemy URL of ``database`` on the test server (trust authentication: no password)."""
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"


def _admin_connect(url: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection to the server's ``postgres`` database (CREATE/DROP DATABASE cannot run in a transaction)."""
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        dbname="postgres",
        autocommit=True,
        connect_timeout=30,
    )


def create_database(url: str, name: str) -> str:
    """Create database ``name`` on the server of ``url``; return its URL."""
    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, name: str) -> None:
    """Drop database ``name``, disconnecting whoever is still connected to it."""
    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, uniquely named, empty database on the server of ``url``, dropped on exit."""
    name = f"lakeport_t_{uuid.uuid4().hex[:16]}"
    db_url = create_database(url, name)
    try:
        yield db_url
    finally:
        drop_database(url, name)


def _start(bindir: Path, run_as: _RunAs, datadir: Path, sockdir: Path, log: Path) -> int:
    """Start the server on a free port (retrying when another process grabs the port first); return the port."""
    settings = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in SERVER_SETTINGS.items())
    for _attempt in range(START_ATTEMPTS):
        port = _free_port()
        options = f"-p {port} -h 127.0.0.1 -k {shlex.quote(str(sockdir))} -F {settings}"
        cmd = [str(bindir / "pg_ctl"), "start", "-D", str(datadir), "-l", str(log), "-w", "-t", str(START_TIMEOUT_S)]
        result = run_as.run([*cmd, "-s", "-o", options], cwd=datadir.parent, timeout=START_TIMEOUT_S + 30)
        if result.returncode == 0:
            return port
        log_text = _tail(log, 200)
        if "could not bind" in log_text or "Address already in use" in log_text:
            _stop(bindir, run_as, datadir)  # in case it half-started; then try another port
            log.write_text("")
            continue
        raise _fail("starting PostgreSQL (pg_ctl start)", result, log)
    raise PostgresServerError(f"PostgreSQL could not bind a free port on 127.0.0.1 in {START_ATTEMPTS} attempts")


def _stop(bindir: Path, run_as: _RunAs, datadir: Path) -> None:
    if not (datadir / "postmaster.pid").exists():
        return
    for mode in ("fast", "immediate"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            cmd = [str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", mode, "-w", "-t", "30", "-s"]
            if run_as.run(cmd, cwd=datadir.parent, timeout=60).returncode == 0:
                return
        if not (datadir / "postmaster.pid").exists():
            return


@contextlib.contextmanager
def postgres_server(database: str = DEFAULT_DATABASE) -> Iterator[str]:
    """Run a throw-away PostgreSQL server on 127.0.0.1; yield the URL ``postgresql://postgres@127.0.0.1:PORT/database``."""
    try:
        bindir, _status = ensure_postgres()
    except SystemDepsError as exc:
        raise PostgresServerError(f"cannot start the test PostgreSQL server: {exc}") from exc
    run_as = _RunAs.for_current_user()
    base = Path(tempfile.mkdtemp(prefix="lakeport-pg-", dir=_temp_parent()))
    datadir, sockdir, log = base / "data", base / "sock", base / "postgres.log"
    try:
        sockdir.mkdir()
        log.touch()
        for path in (base, sockdir, log):
            run_as.chown(path)
        initdb = [str(bindir / "initdb"), "-D", str(datadir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
        result = run_as.run([*initdb, "--no-locale", "--no-sync"], cwd=base, timeout=120)
        if result.returncode != 0:
            raise _fail("initdb", result)
        port = _start(bindir, run_as, datadir, sockdir, log)
        yield create_database(server_url(port, "postgres"), database)
    finally:
        _stop(bindir, run_as, datadir)
        shutil.rmtree(base, ignore_errors=True)
