"""The console's browser tests: a real ``lakeport serve`` on a free loopback port over a real lake, driven by
Debian's Chromium through Playwright (one server and one browser per module).

The lake holds a tiny Spotify sample (scale 0.005) in staging, the reference job, crawler and alarms, the topic the
pipeline publishes to, a small weekly chart (``landing.charts``, 20 rows, catalogued by a crawl), the reference state
machine and a copy of it that waits 1 s instead of 30 s per crawler poll, an administrator ``ada`` and a restricted
user ``rex`` (reads only: no ``athena:StartQueryExecution``). Every page a test opens collects the browser's console
errors; a test fails on any it did not expect.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from lakeport import Lake
from lakeport.crawler.definition import CrawlerDefinition
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.etl import JobDefinition
from tests.support.serve import serving
from tests.web.browser import chromium_path

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "examples" / "spotify" / "pipeline.asl.json"
JOB_FILE = REPO / "examples" / "spotify" / "job.yaml"
ALARMS = REPO / "examples" / "spotify" / "alarms.json"
IMAGES = REPO / "docs" / "images"
FAST_PIPELINE = "spotify-pipeline-fast"
VIEWPORT = {"width": 1280, "height": 800}
expect.set_options(timeout=15_000)  # a busy two-core machine: queries and pages take their time

READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["glue:Get*", "glue:Search*", "athena:Get*", "athena:List*", "states:List*", "states:Describe*"],
            "Resource": "*",
        }
    ],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Key:
    id: str
    secret: str


@dataclass
class Served:
    root: Path
    url: str
    admin: Key
    restricted: Key
    process: subprocess.Popen[bytes] = field(repr=False)


def _user(lake: Lake, name: str, policy: dict[str, Any]) -> Key:
    lake.iam.create_user(name)
    lake.iam.put_user_policy(name, "console", policy)
    made = lake.iam.create_access_key(name)
    return Key(made.key.id, made.secret)


def prepare(root: Path) -> tuple[Key, Key]:
    """The lake every browser test of a module uses: see the module docstring."""
    with Lake.init(root) as lake:
        generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=0), "staging/spotify/")
        lake.jobs.create_job(JobDefinition.from_file(JOB_FILE))
        lake.crawlers.create_crawler(
            CrawlerDefinition(name="spotify-staging", targets=("s3://lakeport/staging/spotify/",), database="staging")
        )
        chart = "rank,artist,streams\n" + "".join(f"{i},Artist {i:02d},{1000 - 37 * i}\n" for i in range(1, 21))
        lake.storage.put_object("lakeport", "landing/charts/week-01.csv", io.BytesIO(chart.encode()))
        lake.crawlers.create_crawler(
            CrawlerDefinition(name="charts", targets=("s3://lakeport/landing/charts/",), database="landing")
        )
        lake.crawlers.start_crawler("charts", wait=True)
        definition = json.loads(PIPELINE.read_text())
        lake.states.create_state_machine("spotify-pipeline", json.dumps(definition))
        definition["States"]["WaitForCrawler"]["Seconds"] = 1
        lake.states.create_state_machine(FAST_PIPELINE, json.dumps(definition))
        topic = lake.notify.create_topic("spotify-pipeline-events")
        lake.notify.subscribe(topic.arn, "file", "events/pipeline.jsonl")
        lake.alarms.put_metric_alarms_from(json.loads(ALARMS.read_text()))
        return _user(lake, "ada", EVERYTHING), _user(lake, "rex", READ_ONLY)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("console") / "lake"
    admin, restricted = prepare(root)
    with serving(root) as (url, process):
        yield Served(root, url, admin, restricted, process)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
    yield chromium
    chromium.close()


class Console:
    """The browser console's errors (and uncaught page errors) of one page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.errors.append(f"{message.text} ({where})")

    def unexpected(self, *allowed: str) -> list[str]:
        """The errors that mention none of ``allowed``."""
        return [e for e in self.errors if not any(a in e for a in allowed)]


@dataclass
class Tab:
    page: Page
    console: Console
    url: str

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)

    def login(self, key: Key) -> None:
        """Start a console session the way the login page does (POST /api/v1/login sets the cookie)."""
        answer = self.page.request.post(
            f"{self.url}/api/v1/login", data={"accessKeyId": key.id, "secretAccessKey": key.secret}
        )
        assert answer.ok, answer.text()

    def shot(self, name: str) -> None:
        """Take a screenshot of the viewport (1280×800). It is saved as docs/images/console-<name>.png only with
        ``LAKEPORT_SCREENSHOTS=1`` (``make screenshots``), so that test runs leave the docs alone; otherwise it
        is taken and dropped (the page still has to render)."""
        image = self.page.screenshot()
        assert image[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("LAKEPORT_SCREENSHOTS") == "1":
            IMAGES.mkdir(parents=True, exist_ok=True)
            (IMAGES / f"console-{name}.png").write_bytes(image)


@pytest.fixture
def tab(browser: Browser, served: Served) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    opened = Tab(page, Console(page), served.url)
    yield opened
    context.close()


# ---- the dashboards' browser tests (tests/web/test_dashboards.py): a lake with spotify.tracks and the dashboard

DASHBOARD_VIEWER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "quicksight:ListDashboards"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["quicksight:DescribeDashboard", "quicksight:QueryDashboard"],
            "Resource": "arn:aws:quicksight:*:*:dashboard/spotify",
        },
    ],
}
DASHBOARD_DESCRIBE_ONLY = {  # may open the dashboard, may not see its data (no quicksight:QueryDashboard)
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sts:GetCallerIdentity", "quicksight:ListDashboards", "quicksight:DescribeDashboard"],
            "Resource": "*",
        }
    ],
}


@dataclass
class DashboardsServed:
    """A served lake with the Spotify insights dashboard: ``admin`` (every action, every row), ``viewer`` (may
    view the dashboard; a row rule shows them only ``genres``) and ``blind`` (no quicksight:QueryDashboard)."""

    root: Path
    url: str
    admin: Key
    viewer: Key
    blind: Key
    genres: list[str]
    process: subprocess.Popen[bytes] = field(repr=False)


def prepare_dashboards(root: Path) -> tuple[Key, Key, Key, list[str]]:
    """Into the lake at ``root`` (initialized): the Spotify sample (scale 0.005), the ETL job run once (it writes
    ``spotify.tracks``; no crawler or state machine needed), the reference dashboard and its datasets, and a row
    rule on ``spotify-tracks``."""
    from lakeport.dashboards import load_document
    from lakeport.pipelines.reference import REFERENCE, install_reference_dashboard

    with Lake.open(root) as lake:
        generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=0), "staging/spotify/")
        lake.jobs.create_job(JobDefinition.from_file(JOB_FILE))
        run = lake.jobs.start_job_run("spotify", wait=True)
        assert run.state == "SUCCEEDED", run
        assert install_reference_dashboard(lake)[:2] == ["Overview", "Audio features"]
        # the viewer's genres: the two with the most tracks (each has a few rows at this scale)
        execution = lake.queries.start_query_execution(
            "SELECT coalesce(genre_0, '(no genre)') AS g FROM spotify.tracks GROUP BY 1 ORDER BY count(*) DESC, 1 "
            "LIMIT 2",
            wait=True,
        )
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        genres = [str(row[0]) for row in lake.queries.get_query_rows(execution.id)[1]]
        documents = load_document(REFERENCE / "datasets.yaml")[0]["datasets"]
        tracks = dict(next(d for d in documents if d["name"] == "spotify-tracks"))
        tracks["row_level_security"] = [{"user": "ada"}, {"user": "vic", "values": {"genre": genres}}]
        lake.dashboards.datasets.update_data_set(tracks)
        admin = _user(lake, "ada", EVERYTHING)
        viewer = _user(lake, "vic", DASHBOARD_VIEWER)
        blind = _user(lake, "nod", DASHBOARD_DESCRIBE_ONLY)
        return admin, viewer, blind, genres


@pytest.fixture(scope="module")
def dashboards_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardsServed]:
    root = tmp_path_factory.mktemp("dashboards") / "lake"
    Lake.init(root).close()
    # the server starts (mostly imports, one core) while the lake is filled beside it (the other core)
    with ThreadPoolExecutor(max_workers=1) as pool:
        prepared = pool.submit(prepare_dashboards, root)
        with serving(root) as (url, process):
            admin, viewer, blind, genres = prepared.result()
            yield DashboardsServed(root, url, admin, viewer, blind, genres, process)


@pytest.fixture
def dashboard_tab(browser: Browser, dashboards_served: DashboardsServed) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    opened = Tab(page, Console(page), dashboards_served.url)
    yield opened
    context.close()
