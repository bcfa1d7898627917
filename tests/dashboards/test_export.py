"""Exports: the self-contained HTML page drawn by a real Chromium with the network off, PNG and PDF rendered by
it, row-level security in what an export holds, and ``lakeport dashboards export``."""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from lakeport import Lake
from lakeport.cli.main import main
from lakeport.dashboards.browser import BrowserMissing, chromium_path
from lakeport.dashboards.export import export_dashboard, script_json
from tests.dashboards.conftest import DASHBOARD, duck, tracks_table, write_table
from tests.dashboards.test_security import SECURED, VIEWER
from tests.dashboards.test_spotify_example import spotify  # noqa: F401  (the Spotify lake fixture)
from tests.web import browser as web_browser

ARN = "arn:aws:quicksight:us-east-1:000000000000"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=web_browser.chromium_path(), headless=True, args=["--no-sandbox"]
    )
    yield chromium
    chromium.close()


@pytest.fixture(autouse=True)
def _chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LAKEPORT_CHROMIUM", web_browser.chromium_path()
    )  # installed by apt when missing, never downloaded


def _visual_count(lake: Lake, name: str) -> int:
    return sum(len(s["visuals"]) for s in lake.dashboards.describe_dashboard(name).definition["sheets"])


def _inlined(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="lakeport-data">(.*?)</script>', page, re.S)
    assert found is not None
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def test_html_export_draws_every_visual_from_file_with_the_network_off(
    spotify: tuple[Lake, pa.Table],  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    lake, _ = spotify
    out = export_dashboard(lake.dashboards, "spotify", "html", tmp_path / "spotify.html",
                           filters={"years": [1990, 2023]}, parameters={"top_n": 5})  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "<script src" not in text
    assert "cdn" not in text.lower().split("<script>", 2)[-1][:2000]
    document = _inlined(text)
    assert [s["Sheet"] for s in document["Sheets"]] == ["Overview", "Audio features", "Details"]
    assert document["Filters"] == {"years": [1990, 2023]}
    assert document["Parameters"]["top_n"] == 5

    context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
    requested: list[str] = []

    def block(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    page = context.new_page()
    page.route("**/*", block)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(out.resolve().as_uri())
    page.wait_for_function("window.__lakeportRendered === true", timeout=60_000)
    expected = _visual_count(lake, "spotify")
    assert page.locator(".card").count() == expected
    assert page.locator(".card.error").count() == 0
    assert page.locator(".js-plotly-plot").count() == expected  # every visual drawn by Plotly
    assert page.locator(".js-plotly-plot .main-svg").count() >= expected
    assert page.locator("h2").all_inner_texts() == ["Overview", "Audio features", "Details"]
    assert page.locator("h1").inner_text() == "Spotify insights"
    assert "years = [1990,2023]" in page.locator("#lakeport-filters").inner_text()
    assert "Made " in page.locator("#lakeport-made").inner_text()
    assert requested == []
    assert errors == []
    context.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _distinct_colours(browser: Browser, data: bytes) -> int:
    """Distinct colours of a PNG, counted by Chromium on a canvas (a sample of every 7th pixel)."""
    page = browser.new_page()
    source = "data:image/png;base64," + base64.b64encode(data).decode()
    count: int = page.evaluate(
        """async (source) => {
            const image = new Image(); image.src = source; await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d"); context.drawImage(image, 0, 0);
            const pixels = context.getImageData(0, 0, image.width, image.height).data;
            const seen = new Set();
            for (let i = 0; i < pixels.length; i += 4 * 7) seen.add(pixels[i] << 16 | pixels[i + 1] << 8 | pixels[i + 2]);
            return seen.size;
        }""",
        source,
    )
    page.close()
    return count


def test_png_export_is_a_full_page_picture(music: tuple[Lake, pa.Table], browser: Browser, tmp_path: Path) -> None:
    lake, _ = music
    out = export_dashboard(lake.dashboards, "music", "png", tmp_path / "music.png")
    data = out.read_bytes()
    width, height = _png_size(data)
    assert width >= 800
    assert height >= 600
    assert height > 900  # full page: both sheets, longer than the window
    assert _distinct_colours(browser, data) > 50  # drawn, not blank
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary left


def test_pdf_export(music: tuple[Lake, pa.Table], tmp_path: Path) -> None:
    lake, _ = music
    out = export_dashboard(lake.dashboards, "music", "pdf", tmp_path / "deep" / "music.pdf", sheet="Overview")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages > 1 or len(data) > 20_000


def test_export_holds_only_the_rows_the_viewer_may_see(tmp_path: Path) -> None:
    lake = Lake.init(tmp_path / "lake")
    try:
        write_table(lake, tracks_table())
        lake.dashboards.datasets.create_data_set(SECURED)
        lake.dashboards.create_dashboard(DASHBOARD)
        for name in ("ann", "carl"):
            lake.iam.create_user(name)
            lake.iam.put_user_policy(name, "view", {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": VIEWER, "Resource": f"{ARN}:dashboard/music"}]})  # fmt: skip
        ann = lake.as_principal(lake.iam.resolve("ann")).dashboards
        page = export_dashboard(ann, "music", "html", tmp_path / "ann.html", sheet="Overview").read_text()
        visuals = {v["Visual"]: v for v in _inlined(page)["Sheets"][0]["Visuals"]}
        (pop,) = duck(tracks_table(), "SELECT count(*) FROM t WHERE genre = 'pop'")[0]
        assert visuals["kpis"]["Rows"][0][0] == pop
        assert [r[0] for r in visuals["genres"]["Rows"]] == ["pop"]
        assert "AccessDenied" in json.dumps(visuals["top-artists"])  # followers: a column ann may not see
        carl = lake.as_principal(lake.iam.resolve("carl")).dashboards
        page = export_dashboard(carl, "music", "html", tmp_path / "carl.html", sheet="Overview").read_text()
        carl_visuals = {v["Visual"]: v for v in _inlined(page)["Sheets"][0]["Visuals"]}
        assert carl_visuals["kpis"]["Rows"][0][0] == 0  # no rule names carl: no rows
    finally:
        lake.close()


def test_json_inside_the_page_cannot_close_its_script() -> None:
    text = script_json({"Title": "</script><script>alert(1)</script>", "Note": "<!-- x"})
    assert "</" not in text
    assert "<!--" not in text
    assert json.loads(text) == {"Title": "</script><script>alert(1)</script>", "Note": "<!-- x"}


def test_missing_browser_and_bad_format_are_one_line_errors(
    music: tuple[Lake, pa.Table], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, _ = music
    monkeypatch.delenv("LAKEPORT_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserMissing) as caught:
        chromium_path()
    assert "apt-get install chromium" in caught.value.one_line()
    monkeypatch.setenv("LAKEPORT_CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(BrowserMissing):
        export_dashboard(lake.dashboards, "music", "png", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(Exception, match="export format 'gif'"):
        export_dashboard(lake.dashboards, "music", "gif", tmp_path / "x.gif")


def test_cli_export(
    music: tuple[Lake, pa.Table], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, _ = music
    out = tmp_path / "music.html"
    capsys.readouterr()
    code = main(["--lake", str(lake.root), "dashboards", "export", "music", "--format", "html", "--to", str(out),
                 "--filter", 'genre=["pop"]', "--parameter", "top=3", "--sheet", "Overview"])  # fmt: skip
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert str(out) in printed.replace("\n", "")
    assert re.search(r"\([0-9.,]+ (bytes|KB|MB)\)", printed)
    document = _inlined(out.read_text())
    assert document["Filters"] == {"genre": ["pop"]}
    assert document["Parameters"]["top"] == 3
    assert [s["Sheet"] for s in document["Sheets"]] == ["Overview"]
    top = next(v for v in document["Sheets"][0]["Visuals"] if v["Visual"] == "top-artists")
    assert len(top["Rows"]) <= 3
    assert "Figure" in top
    png = tmp_path / "music.png"
    code = main(["--lake", str(lake.root), "--output", "json", "dashboards", "export", "music", "--format", "png",
                 "-t", str(png)])  # fmt: skip
    printed, err = capsys.readouterr()
    assert code == 0, err
    shown = json.loads(printed)
    assert shown["Path"] == str(png.resolve())
    assert shown["Size"] == png.stat().st_size
    assert _png_size(png.read_bytes())[0] >= 800
    # without --to: NAME.FORMAT in the current folder; the command's own --output is the format, as elsewhere
    monkeypatch.chdir(tmp_path)
    code = main(["--lake", str(lake.root), "dashboards", "export", "music", "--sheet", "Overview", "-o", "json"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    shown = json.loads(printed)
    assert shown["Path"] == str((tmp_path / "music.html").resolve())
    assert shown["Format"] == "html"
    assert (tmp_path / "music.html").stat().st_size == shown["Size"]
    code = main(["--lake", str(lake.root), "dashboards", "export", "music", "--format", "gif"])
    _, err = capsys.readouterr()
    assert code != 0
    assert "export format 'gif'" in err
