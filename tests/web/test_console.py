"""The web console in a real browser against a real ``lakeport serve``: sign in, browse the catalog, run a query,
run the Spotify pipeline and watch its graph turn green, be refused without permission, and walk every link.

Screenshots of the main pages land in docs/images/console-<page>.png (shown in docs/console.md).
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import FAST_PIPELINE, Console, Served, Tab

# One server and one browser for the module: under ``pytest -n … --dist loadgroup`` its tests stay on one worker.
pytestmark = pytest.mark.xdist_group("console")

DENIED_LOAD = "status of 403"
# The execution has ended, or its first state is green in the graph.
LIVE_OR_DONE = """() => {
  const status = document.querySelector('#exec-summary')?.dataset.status;
  const first = document.querySelector('#graph rect[data-state="StartGlueJob"]');
  return (status && status !== 'RUNNING') || (first && first.dataset.status === 'succeeded');
}"""


def _executions(served: Served) -> int:
    answer = httpx.get(
        f"{served.url}/api/v1/queries", params={"limit": 1000}, auth=(served.admin.id, served.admin.secret)
    )
    answer.raise_for_status()
    return len(answer.json()["QueryExecutions"])


def test_signing_in_opens_the_home_page(tab: Tab, served: Served) -> None:
    tab.goto("/")
    expect(tab.page).to_have_url(re.compile(r"/login\?next=%2F$"))
    tab.page.fill("#key", served.admin.id)
    tab.page.fill("#secret", "not-the-secret")
    tab.page.click("button[type=submit]")
    expect(tab.page.locator("#error")).to_contain_text("InvalidClientTokenId")
    tab.page.fill("#secret", served.admin.secret)
    tab.page.click("button[type=submit]")
    expect(tab.page).to_have_url(served.url + "/")
    expect(tab.page.locator("#who")).to_have_text("ada")
    expect(tab.page.locator("#machines")).to_contain_text(FAST_PIPELINE)
    expect(tab.page.locator("#crawlers")).to_contain_text("spotify-staging")
    assert not tab.console.unexpected("status of 401"), tab.console.errors  # only the refused sign-in


def test_the_highlighter_and_the_job_graph_layout(tab: Tab, served: Served) -> None:
    # The console's own drawing code, run in the browser on tricky input (no server data involved).
    tab.login(served.admin)
    tab.goto("/query")
    kinds = tab.page.evaluate(
        """async () => {
        const { tokens } = await import('/static/sql.js');
        const sql = "SELECT count(*) AS \\"n\\", 'it''s' -- note\\nFROM t WHERE x >= 1.5e3 /* done */";
        return tokens(sql).filter((t) => t.kind !== 'space').map((t) => [t.kind, t.text]);
    }"""
    )
    assert kinds == [
        ["keyword", "SELECT"],
        ["function", "count"],
        ["op", "("],
        ["op", "*"],
        ["op", ")"],
        ["keyword", "AS"],
        ["name", '"n"'],
        ["op", ","],
        ["string", "'it''s'"],
        ["comment", "-- note"],
        ["keyword", "FROM"],
        ["ident", "t"],
        ["keyword", "WHERE"],
        ["ident", "x"],
        ["op", ">="],
        ["number", "1.5e3"],
        ["comment", "/* done */"],
    ]
    rows = tab.page.evaluate(
        """async () => {
        const { drawDag } = await import('/static/dag.js');
        const holder = document.createElement('div');
        document.body.append(holder);
        const nodes = [
          { id: 'sink', type: 'sink', input: 'joined' },
          { id: 'a', type: 'source' },
          { id: 'joined', type: 'join', inputs: ['a', 'b'] },
          { id: 'b', type: 'source' },
        ];
        drawDag(holder, nodes, () => {});
        const ys = {};
        for (const g of holder.querySelectorAll('g.node')) ys[g.dataset.node] = Number(g.getAttribute('transform').split(' ')[1].replace(')', ''));
        return { ys, edges: holder.querySelectorAll('path.edge').length };
    }"""
    )
    ys = rows["ys"]
    assert ys["a"] == ys["b"] < ys["joined"] < ys["sink"]  # layered by the longest path from a source
    assert rows["edges"] == 3
    assert not tab.console.errors


def test_browsing_the_catalog_to_a_table_shows_its_columns(tab: Tab, served: Served) -> None:
    tab.login(served.admin)
    tab.goto("/catalog")
    tab.page.click("#databases >> text=landing")
    expect(tab.page.locator("#tables-title")).to_have_text("Tables in landing")
    tab.shot("catalog")
    tab.page.click("#tables >> text=charts")
    expect(tab.page).to_have_url(served.url + "/catalog/landing/charts")
    columns = tab.page.locator("#columns table")
    for name in ("rank", "artist", "streams"):
        expect(columns.locator("td", has_text=re.compile(f"^{name}$"))).to_have_count(1)
    expect(tab.page.locator("#summary dd").first).to_have_text("s3://lakeport/landing/charts/")
    expect(tab.page.locator("#versions")).to_contain_text("Version")
    expect(tab.page.locator("#diff .added")).to_contain_text(["column rank bigint", "column artist string"])
    tab.shot("table")
    assert not tab.console.errors


def test_the_storage_browser_walks_prefixes_and_previews_a_csv(tab: Tab, served: Served) -> None:
    tab.login(served.admin)
    tab.goto("/storage")
    tab.page.click("#objects >> text=landing/")
    tab.page.click("#objects >> text=charts/")
    expect(tab.page.locator("#where")).to_have_text("lakeport / landing / charts")
    tab.page.click("#objects >> text=week-01.csv")
    preview = tab.page.locator("#preview table")
    expect(preview.locator("thead")).to_contain_text("artist")
    expect(preview.locator("tbody tr")).to_have_count(20)
    expect(preview.locator("tbody tr").first).to_contain_text("Artist 01")
    download = tab.page.locator("#objects a", has_text="Download")
    status = tab.page.request.get(served.url + (download.get_attribute("href") or "")).status
    assert status == 200
    tab.shot("storage")
    assert not tab.console.errors


def test_a_query_typed_in_the_editor_runs_and_shows_its_rows(tab: Tab, served: Served) -> None:
    tab.login(served.admin)
    tab.goto("/query")
    tab.page.select_option("#database", "landing")
    expect(tab.page.locator("#tree")).to_contain_text("charts")
    editor = tab.page.locator("#sql")
    editor.click()
    tab.page.keyboard.press("Control+A")
    tab.page.keyboard.type("SELECT artist, streams FROM landing.cha")
    tab.page.keyboard.press("Control+Space")
    menu = tab.page.locator("#complete")
    expect(menu).to_be_visible()
    expect(menu.locator("li.active")).to_have_text("charts")
    tab.page.keyboard.press("Enter")
    tab.page.keyboard.type(" c WHERE c.")
    expect(menu).to_contain_text("streams")  # the alias' columns, completed after the dot
    tab.page.keyboard.press("Escape")
    tab.page.keyboard.type("streams > 0 ORDER BY streams DESC LIMIT 5 -- the top five")
    expect(editor).to_have_value(
        "SELECT artist, streams FROM landing.charts c WHERE c.streams > 0 ORDER BY streams DESC LIMIT 5 -- the top five"
    )
    highlighted = tab.page.locator("#highlight")
    expect(highlighted.locator(".tok-keyword", has_text="SELECT")).to_have_count(1)
    expect(highlighted.locator(".tok-number", has_text="5")).to_have_count(1)
    expect(highlighted.locator(".tok-comment")).to_have_text("-- the top five")
    tab.page.keyboard.press("Control+Enter")
    expect(tab.page.locator("#state")).to_contain_text("SUCCEEDED")
    rows = tab.page.locator("#results table tbody tr")
    expect(rows).to_have_count(5)
    expect(tab.page.locator("#results thead")).to_contain_text("streams")
    expect(rows.first).to_contain_text("Artist 01")
    expect(tab.page.locator("#state")).to_contain_text("SUCCEEDED")
    expect(tab.page.locator("#stats")).to_contain_text("scanned")
    expect(tab.page.locator("#download")).to_be_visible()
    expect(tab.page.locator("#history")).to_contain_text("landing.charts")
    tab.page.fill("#save-name", "top five")
    tab.page.click("#save-form button")
    expect(tab.page.locator("#saved")).to_contain_text("top five")
    tab.shot("query")
    assert not tab.console.errors


def test_the_spotify_pipeline_turns_green_in_the_execution_graph(tab: Tab, served: Served) -> None:
    tab.login(served.admin)
    tab.goto(f"/states/{FAST_PIPELINE}")
    expect(tab.page.locator("#graph svg")).to_be_visible()
    tab.page.fill("#exec-name", "from-the-console")
    tab.page.click("#start button[type=submit]")
    summary = tab.page.locator("#exec-summary")
    expect(tab.page.locator("#exec-title")).to_have_text("Execution from-the-console")
    graph = tab.page.locator("#graph")
    # Live: the first state turns green while the execution still runs (the job, then the crawler and its polls).
    tab.page.wait_for_function(LIVE_OR_DONE, timeout=60_000)
    assert summary.get_attribute("data-status") == "RUNNING", summary.inner_text()
    expect(graph.locator('rect[data-state="StartGlueJob"]')).to_have_attribute("data-status", "succeeded")
    expect(summary).not_to_have_attribute("data-status", "RUNNING", timeout=60_000)
    assert summary.get_attribute("data-status") == "SUCCEEDED", summary.inner_text()
    for state in ("StartGlueCrawler", "CheckCrawlerStatus", "RunTutorialQuery", "NotifySuccess", "PipelineSucceeded"):
        expect(graph.locator(f'rect[data-state="{state}"]')).to_have_attribute("data-status", "succeeded")
    expect(graph.locator('rect[data-state="NotifyFailure"]')).to_have_attribute("data-status", "not reached")
    expect(tab.page.locator("#history")).to_contain_text("ExecutionSucceeded")
    tab.shot("states")
    tab.goto("/jobs/spotify")
    expect(tab.page.locator("#runs")).to_contain_text("SUCCEEDED")
    expect(tab.page.locator("#run")).to_contain_text("rows_written")  # the newest run's metrics
    expect(tab.page.locator("#run")).to_contain_text("Log (")  # and its log, from the logs API
    expect(tab.page.locator("#dag g.node")).to_have_count(11)
    expect(tab.page.locator("#preview table")).to_be_visible(timeout=30_000)
    tab.shot("job")
    assert not tab.console.errors


def test_a_user_without_permission_sees_access_denied_and_nothing_changes(tab: Tab, served: Served) -> None:
    before = _executions(served)
    tab.login(served.restricted)
    tab.goto("/query")
    editor = tab.page.locator("#sql")
    editor.fill("SELECT COUNT(*) FROM landing.charts")
    tab.page.click("#run")
    error = tab.page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Access denied")
    expect(error).to_contain_text("athena:StartQueryExecution")
    expect(tab.page.locator("#results table")).to_have_count(0)
    tab.shot("denied")
    assert _executions(served) == before
    # The refused call is the only thing the browser complains about (Chromium logs every 4xx load).
    assert not tab.console.unexpected(DENIED_LOAD), tab.console.errors


SHOTS = {
    "/": "home",
    "/crawlers": "crawlers",
    "/notifications": "notifications",
    "/monitoring": "monitoring",
    "/iam": "iam",
    "/audit": "audit",
}
TABS = 4  # pages loaded at once while crawling


def test_every_link_from_the_navigation_works_without_console_errors(tab: Tab, served: Served) -> None:
    tab.login(served.admin)
    pages = [tab.page] + [tab.page.context.new_page() for _ in range(TABS - 1)]
    consoles = [tab.console] + [Console(page) for page in pages[1:]]
    host = urlparse(served.url).netloc
    seen: set[str] = set()
    queue = ["/"]
    api_links: set[str] = set()
    rendered: dict[str, int] = {}
    while queue:
        batch: list[str] = []
        while queue and len(batch) < TABS:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            kind = "/".join(path.split("/")[:2]) + f"/{path.count('/')}"  # /catalog/3 for /catalog/db/table
            rendered[kind] = rendered.get(kind, 0) + 1
            if rendered[kind] > 2:  # a third page of one kind: the same shell and scripts, its status will do
                status = tab.page.request.get(served.url + path).status
                assert status < 400, f"{path}: HTTP {status}"
                continue
            batch.append(path)
        # Load the batch's pages side by side, then check each once the network is quiet.
        loading = pages[: len(batch)]
        responses = [
            page.goto(served.url + path, wait_until="commit") for page, path in zip(loading, batch, strict=True)
        ]
        for page, path, response in zip(loading, batch, responses, strict=True):
            assert response is not None
            assert response.status < 400, f"{path}: HTTP {response.status}"
            page.wait_for_load_state("networkidle")
            assert not page.locator("#error").is_visible(), f"{path}: {page.locator('#error').inner_text()}"
            failed = page.locator(".error-line")
            assert not failed.count(), f"{path}: {failed.all_inner_texts()}"
            if path in SHOTS:
                Tab(page, tab.console, tab.url).shot(SHOTS[path])
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                url = urlparse(urldefrag(href)[0])
                if url.netloc != host or not url.path:
                    continue
                target = url.path + (f"?{url.query}" if url.query else "")
                if url.path.startswith("/api/"):
                    api_links.add(target)
                elif target not in seen:
                    queue.append(target)
    assert {"/", "/storage", "/catalog", "/crawlers", "/jobs", "/query", "/states", "/iam", "/audit"} <= seen
    assert any(p.startswith("/catalog/") for p in seen)
    assert f"/states/{FAST_PIPELINE}" in seen
    for target in api_links:
        status = tab.page.request.get(served.url + target).status
        assert status < 400, f"{target}: HTTP {status}"
    errors = [e for console in consoles for e in console.errors]
    assert not errors, errors
