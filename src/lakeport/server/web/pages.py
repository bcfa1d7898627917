"""The console's pages: one HTML shell per page, rendered with Jinja2; the data arrives by ``fetch`` from the API.

A page asked for without a console session (or an access key) redirects to ``/login?next=…``, so the browser
never shows a half-drawn page that then fails. The pages are left out of the OpenAPI document: they are not API
routes and need no IAM action of their own (each API call the page makes is authorized as usual).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lakeport import __version__
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


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return _page(request, "home.html", "/", "Home")


@router.get("/storage", response_class=HTMLResponse)
def storage(request: Request) -> Response:
    return _page(request, "storage.html", "/storage", "Storage")


@router.get("/catalog", response_class=HTMLResponse)
def catalog(request: Request) -> Response:
    return _page(request, "catalog.html", "/catalog", "Catalog")


@router.get("/catalog/{database}/{table}", response_class=HTMLResponse)
def table(request: Request, database: str, table: str) -> Response:
    return _page(request, "table.html", "/catalog", f"{database}.{table}", database=database, table=table)


@router.get("/crawlers", response_class=HTMLResponse)
def crawlers(request: Request) -> Response:
    return _page(request, "crawlers.html", "/crawlers", "Crawlers")


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request) -> Response:
    return _page(request, "jobs.html", "/jobs", "Jobs")


@router.get("/jobs/{name}", response_class=HTMLResponse)
def job(request: Request, name: str) -> Response:
    return _page(request, "job.html", "/jobs", f"Job {name}", job=name)


@router.get("/query", response_class=HTMLResponse)
def query(request: Request) -> Response:
    return _page(request, "query.html", "/query", "Query editor")


@router.get("/states", response_class=HTMLResponse)
def states(request: Request) -> Response:
    return _page(request, "states.html", "/states", "State machines")


@router.get("/states/{machine}", response_class=HTMLResponse)
def machine(request: Request, machine: str) -> Response:
    return _page(request, "machine.html", "/states", f"State machine {machine}", machine=machine)


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request) -> Response:
    return _page(request, "notifications.html", "/notifications", "Notifications")


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring(request: Request) -> Response:
    return _page(request, "monitoring.html", "/monitoring", "Monitoring")


@router.get("/iam", response_class=HTMLResponse)
def iam(request: Request) -> Response:
    return _page(request, "iam.html", "/iam", "IAM")


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    return _page(request, "audit.html", "/audit", "Audit log")
