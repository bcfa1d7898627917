"""The console's pages: one HTML shell per page, rendered with Jinja2; the data arrives by ``fetch`` from the API.

A page asked for without a console session (or an access key) redirects to ``/login?next=…``, so the browser
never shows a half-drawn page that then fails. The pages are left out of the OpenAPI document: they are not API
routes and need no IAM action of their own (each API call the page makes is authorized as usual).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lakeport import __version__
from lakeport.dashboards.figures import plotly_js_path
from lakeport.errors import LakeportError

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

# The navigation bar: (path, label); every page is reachable from it.
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Home"),
    ("/storage", "Storage"),
    ("/catalog", "Catalog"),
    ("/crawlers", "Crawlers"),
    ("/jobs", "Jobs"),
    ("/query", "Query"),
    ("/dashboards", "Dashboards"),
    ("/states", "State machines"),
    ("/notifications", "Notifications"),
    ("/monitoring", "Monitoring"),
    ("/iam", "IAM"),
    ("/audit", "Audit"),
)


def _signed_in(request: Request) -> bool:
    try:
        request.app.state.auth.principal(request)
    except LakeportError:
        return False
    return True


def _page(request: Request, template: str, section: str, title: str, **data: Any) -> Response:
    if not _signed_in(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    context = {"nav": NAV, "section": section, "title": title, "version": __version__, "data": data}
    return templates.TemplateResponse(request, template, context)


@router.get("/login", response_class=HTMLResponse)
def login(request: Request) -> Response:
    context = {"nav": NAV, "section": "login", "title": "Sign in", "version": __version__, "data": {}}
    return templates.TemplateResponse(request, "login.html", context)


@router.get("/catalog/{database}/{table}", response_class=HTMLResponse)
def table(request: Request, database: str, table: str) -> Response:
    return _page(request, "table.html", "/catalog", f"{database}.{table}", database=database, table=table)


@router.get("/jobs/{name}", response_class=HTMLResponse)
def job(request: Request, name: str) -> Response:
    return _page(request, "job.html", "/jobs", f"Job {name}", job=name)


@router.get("/states/{machine}", response_class=HTMLResponse)
def machine(request: Request, machine: str) -> Response:
    return _page(request, "machine.html", "/states", f"State machine {machine}", machine=machine)


@router.get("/dashboards/{name}", response_class=HTMLResponse)
def dashboard(request: Request, name: str) -> Response:
    return _page(request, "dashboard.html", "/dashboards", f"Dashboard {name}", dashboard=name)


# Plotly's own bundled plotly.js, from the installed ``plotly`` package: the dashboards draw offline, no CDN.
VENDOR_CACHE = "public, max-age=604800, immutable"  # a week: the file changes only with the installed package


@router.get("/static/vendor/plotly.min.js")
def vendor_plotly() -> Response:
    path = plotly_js_path()
    if path is None:
        return PlainTextResponse(
            "plotly.min.js is not available: the Python package plotly is not installed (pip install plotly)",
            status_code=404,
        )
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": VENDOR_CACHE})


# Pages without parameters: (path, template, title); each is the section its path names.
SIMPLE_PAGES: tuple[tuple[str, str, str], ...] = (
    ("/", "home.html", "Home"),
    ("/storage", "storage.html", "Storage"),
    ("/catalog", "catalog.html", "Catalog"),
    ("/crawlers", "crawlers.html", "Crawlers"),
    ("/jobs", "jobs.html", "Jobs"),
    ("/query", "query.html", "Query editor"),
    ("/dashboards", "dashboards.html", "Dashboards"),
    ("/states", "states.html", "State machines"),
    ("/notifications", "notifications.html", "Notifications"),
    ("/monitoring", "monitoring.html", "Monitoring"),
    ("/iam", "iam.html", "IAM"),
    ("/audit", "audit.html", "Audit log"),
)


def _simple(path: str, template: str, title: str) -> Callable[[Request], Response]:
    def page(request: Request) -> Response:
        return _page(request, template, path, title)

    return page


for _path, _template, _title in SIMPLE_PAGES:
    router.add_api_route(_path, _simple(_path, _template, _title), methods=["GET"], response_class=HTMLResponse)
