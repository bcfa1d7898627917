"""Dashboards exported as one file: a self-contained HTML page (Plotly's bundled plotly.js, every sheet's data
and a small renderer inlined: it opens from ``file://`` with the network off), or that page rendered by a headless
Chromium as a PNG (full page) or a PDF.

The data is fetched as the caller, like a viewer's (``quicksight:QueryDashboard``, their row and column rules
applied), so an export holds only what its maker may see. Files are written atomically (a temporary file, then
a rename).
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.dashboards.figures import plotly_js_path, theme_layout
from lakeport.errors import InvalidInput, LakeportError
from lakeport.metadata.times import now

if TYPE_CHECKING:
    from lakeport.dashboards.service import Dashboards

FORMATS = ("html", "png", "pdf")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "png": "image/png", "pdf": "application/pdf"}
RENDER_TIMEOUT_MS = 120_000
VIEWPORT = {"png": (1400, 900), "pdf": (1100, 800)}


class ExportFailed(LakeportError):
    default_code = "ExportFailed"


def export_dashboard(
    dashboards: Dashboards,
    name: str,
    fmt: str,
    out: Path,
    *,
    filters: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    sheet: str | None = None,
) -> Path:
    """Write dashboard ``name`` (every sheet, or ``sheet``) to ``out`` as ``fmt`` (html, png or pdf)."""
    check_format(name, fmt)
    document = export_document(dashboards, name, filters=filters, parameters=parameters, sheet=sheet)
    return write_export(document, fmt, out)


def check_format(name: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"dashboard {name}: export format {fmt!r} is not one of {', '.join(FORMATS)}",
                           hint="--format html, png or pdf")  # fmt: skip


def write_export(document: Mapping[str, Any], fmt: str, out: Path) -> Path:
    """Write an export document (``export_document``) to ``out`` as html, png or pdf, atomically."""
    name = str(document["Dashboard"])
    check_format(name, fmt)
    page = page_html(str(document["Title"]), document)
    out = Path(out).expanduser()
    if fmt == "html":
        with _atomic(out) as temporary:
            temporary.write_text(page, encoding="utf-8")
        return out
    with tempfile.TemporaryDirectory(prefix="lakeport-export-") as folder:
        source = Path(folder) / "dashboard.html"
        source.write_text(page, encoding="utf-8")
        with _atomic(out) as temporary:
            render(source, temporary, fmt, what=f"dashboard {name}")
    return out


def export_document(
    dashboards: Dashboards,
    name: str,
    *,
    filters: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    sheet: str | None = None,
) -> dict[str, Any]:
    """What an export shows: the title, theme, filters and parameters applied, and every sheet's visuals with
    their figures, fetched for the caller (``quicksight:QueryDashboard``, their row rules applied)."""
    dashboards._authorize("QueryDashboard", name)
    definition = dashboards._definition(name)
    sheets = [definition.sheet(sheet)] if sheet is not None else list(definition.sheets)
    payloads = [dashboards.sheet_figures(name, s.name, filters=filters, parameters=parameters) for s in sheets]
    return {
        "Dashboard": name,
        "Title": definition.title,
        "Theme": definition.theme,
        "ThemeLayout": theme_layout(definition.theme),
        "Filters": dict(filters or {}),
        "Parameters": dashboards._parameters(definition, parameters),
        "MadeAt": now().strftime("%Y-%m-%d %H:%M:%S UTC"),
        "MadeBy": dashboards.principal.arn,
        "Sheets": payloads,
    }


def export_html(
    dashboards: Dashboards,
    name: str,
    *,
    filters: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    sheet: str | None = None,
) -> str:
    """The self-contained HTML page of a dashboard, its data fetched for the caller."""
    document = export_document(dashboards, name, filters=filters, parameters=parameters, sheet=sheet)
    return page_html(str(document["Title"]), document)


def page_html(title: str, document: Mapping[str, Any]) -> str:
    layout = document.get("ThemeLayout") or {}
    background = str(layout.get("paper_bgcolor") or "#ffffff")
    card = str(layout.get("plot_bgcolor") or background)
    font = layout.get("font") if isinstance(layout.get("font"), Mapping) else {}
    color = str((font or {}).get("color") or "#222222")
    return _TEMPLATE.format(
        title=html.escape(title),
        background=html.escape(background),
        card=html.escape(card),
        color=html.escape(color),
        plotly=_script_safe(plotly_js()),
        data=script_json(document),
        renderer=_RENDERER,
    )


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element (``</`` cannot close it)."""
    return json.dumps(value, ensure_ascii=False, default=str).replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _script_safe(code: str) -> str:
    return code.replace("</script", "<\\/script")


def plotly_js() -> str:
    """plotly.js as bundled in the installed ``plotly`` package (no CDN)."""
    path = plotly_js_path()
    if path is None:
        raise ExportFailed(
            "cannot read plotly.js: the plotly package is not installed", hint="pip install 'plotly>=5.20'"
        )
    return path.read_text(encoding="utf-8")


def render(source: Path, out: Path, fmt: str, *, what: str) -> None:
    """Open ``source`` (an exported HTML page) in a headless Chromium and write it as a PNG or PDF.

    Playwright's sync API runs in a thread of its own, so a caller with an asyncio loop (the server, a notebook)
    can export too."""
    from lakeport.dashboards.browser import chromium_path, require_playwright

    require_playwright()
    executable = chromium_path()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakeport-export") as pool:
        pool.submit(_render, executable, source, out, fmt, what).result()


def _render(executable: str, source: Path, out: Path, fmt: str, what: str) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    width, height = VIEWPORT[fmt]
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=executable, headless=True)
            try:
                context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
                page = context.new_page()
                page.goto(source.resolve().as_uri())
                page.wait_for_function("window.__lakeportRendered === true", timeout=RENDER_TIMEOUT_MS)
                failure = page.evaluate("window.__lakeportError || null")
                if failure:
                    raise ExportFailed(f"{what}: the page did not draw: {failure}")
                if fmt == "png":
                    picture = page.screenshot(type="png", full_page=True)
                else:
                    page.emulate_media(media="screen")
                    picture = page.pdf(print_background=True, landscape=True, format="A4")
                out.write_bytes(picture)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportFailed(
            f"{what}: Chromium ({executable}) could not render the {fmt.upper()}: {first}",
            hint="check the browser runs: chromium --headless --version (or set LAKEPORT_CHROMIUM)",
        ) from None


@contextmanager
def _atomic(out: Path) -> Iterator[Path]:
    """A temporary path next to ``out``, renamed to ``out`` when the block succeeds (removed when it fails)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        yield temporary
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


_RENDERER = r"""
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("lakeport-data").textContent);
  var root = document.getElementById("lakeport-root");
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function pairs(values) {
    var keys = Object.keys(values || {});
    if (!keys.length) return "defaults";
    return keys.map(function (k) { return k + " = " + JSON.stringify(values[k]); }).join("; ");
  }
  document.getElementById("lakeport-filters").textContent =
    "Filters: " + pairs(doc.Filters) + ". Parameters: " + pairs(doc.Parameters) + ".";
  document.getElementById("lakeport-made").textContent = "Made " + doc.MadeAt + " for " + doc.MadeBy + ".";
  var pending = [];
  doc.Sheets.forEach(function (sheet) {
    var section = el("section", "sheet");
    section.appendChild(el("h2", null, sheet.Sheet));
    var grid = el("div", "grid");
    section.appendChild(grid);
    root.appendChild(section);
    (sheet.Visuals || []).forEach(function (visual) {
      var card = el("div", "card");
      card.setAttribute("data-visual", visual.Visual);
      card.appendChild(el("h3", null, visual.Title || visual.Visual));
      grid.appendChild(card);
      if (visual.Error) {
        card.className = "card error";
        card.appendChild(el("p", "message", visual.Error.message));
        if (visual.Error.hint) card.appendChild(el("p", "hint", visual.Error.hint));
        return;
      }
      if (visual.Kind === "table" || visual.Kind === "pivot") card.className = "card wide";
      var plot = el("div", "plot");
      card.appendChild(plot);
      var figure = visual.Figure || {data: [], layout: {}};
      var layout = Object.assign({}, figure.layout || {});
      delete layout.title;  // the card's heading names the visual
      layout.margin = Object.assign({}, layout.margin || {}, {t: 24});
      if (!layout.height) layout.height = visual.Kind === "kpi" ? 180 : 340;
      layout.autosize = true;
      pending.push(Plotly.newPlot(plot, figure.data || [], layout,
        {displayModeBar: false, responsive: true, staticPlot: true}));
    });
  });
  Promise.all(pending).then(function () {
    window.__lakeportRendered = true;
  }, function (error) {
    window.__lakeportError = String(error && error.message || error);
    window.__lakeportRendered = true;
  });
})();
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lakeport">
<title>{title}</title>
<style>
  body {{ margin: 0; padding: 24px; background: {background}; color: {color};
         font-family: "Open Sans", "Helvetica Neue", Arial, sans-serif; }}
  header h1 {{ margin: 0 0 4px; font-size: 26px; }}
  header p {{ margin: 2px 0; opacity: 0.75; font-size: 13px; }}
  .sheet h2 {{ margin: 28px 0 12px; font-size: 20px; border-bottom: 1px solid rgba(127,127,127,0.4);
              padding-bottom: 6px; }}
  .grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }}
  .card {{ background: {card}; border: 1px solid rgba(127,127,127,0.3); border-radius: 6px; padding: 10px;
           break-inside: avoid; page-break-inside: avoid; min-width: 0; }}
  .card.wide {{ grid-column: 1 / -1; }}
  .card h3 {{ margin: 0 0 6px; font-size: 15px; font-weight: 600; }}
  .card.error {{ border-color: #d9534f; }}
  .card.error .message {{ color: #d9534f; white-space: pre-wrap; }}
  .card .hint {{ opacity: 0.75; font-size: 13px; }}
</style>
<script>{plotly}</script>
</head>
<body>
<header>
  <h1>{title}</h1>
  <p id="lakeport-filters"></p>
  <p id="lakeport-made"></p>
</header>
<main id="lakeport-root"></main>
<script type="application/json" id="lakeport-data">{data}</script>
<script>{renderer}</script>
</body>
</html>
"""
