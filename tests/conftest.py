"""Fixtures shared by every test: lakes on both storage backends, a real S3 endpoint, a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from tests.support.postgres import fresh_database, postgres_server
from tests.support.s3server import ACCESS_KEY, SECRET_KEY, moto_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up the developer's lake or settings from the environment (``LAKEPORT_SCREENSHOTS``, which
    asks the console tests to save their screenshots, is no setting and stays)."""
    for name in list(os.environ):
        if name.startswith("LAKEPORT_") and name != "LAKEPORT_SCREENSHOTS":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def s3_settings(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "storage.url": "s3://",
        "storage.endpoint_url": endpoint,
        "storage.access_key_id": ACCESS_KEY,
        "storage.secret_access_key": SECRET_KEY,
        "storage.default_bucket": bucket,
        "storage.multipart_chunk_mb": "5",
    }


@pytest.fixture
def local_lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


@pytest.fixture
def s3_lake(tmp_path: Path, s3_endpoint: str) -> Iterator[Lake]:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    lake = Lake.init(tmp_path / "lake", values=s3_settings(s3_endpoint, bucket))
    yield lake
    lake.close()


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest) -> Lake:
    """The same lake on each storage backend: contract tests run once per backend."""
    fixture: Lake = request.getfixturevalue(f"{request.param}_lake")
    return fixture


def run_cli(
    *args: str,
    lake: Path | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``lakeport`` as a separate process, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "lakeport.cli.main"]
    if lake is not None:
        cmd += ["--lake", str(lake)]
    proc = subprocess.run([*cmd, *args], input=stdin, capture_output=True, env=full_env, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"lakeport {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return proc


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on loopback for the whole session: the URL of its (shared) database."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty, uniquely named database on the session's PostgreSQL server, dropped after the test."""
    with fresh_database(postgres_url) as url:
        yield url


# The longest files go first: pytest-xdist hands files out in collection order, so a long file collected last
# would leave the other workers idle at the end of the run.
LONG_FIRST = (  # by their total time in a full run (make test, 3 workers, each file on one worker)
    "tests/test_tutorial.py",
    "tests/iam/test_service_authorization.py",
    "tests/pipelines/test_pipeline_new.py",
    "tests/query/test_differential.py",
    "tests/storage/test_listing.py",
    "tests/warehouse/test_isolation.py",
    "tests/storage/test_streaming.py",
    "tests/cli/test_cli.py",
    "tests/storage/test_contract.py",
    "tests/cli/test_iam_cli.py",
    "tests/cli/test_sql_cmd.py",
    "tests/etl/test_worker_start.py",
    "tests/web/test_console.py",
    "tests/web/test_dashboards.py",
    "tests/test_demo.py",
    "tests/server/test_dashboards_api.py",
    "tests/dashboards/test_export.py",
    "tests/dashboards/test_figures.py",
    "tests/etl/test_crash_safety.py",
    "tests/metadata/test_concurrency.py",
    "tests/crawler/test_robustness.py",
    "tests/cli/test_states_cli.py",
    "tests/datasets/test_generator.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within each file (and of all other files) is kept
