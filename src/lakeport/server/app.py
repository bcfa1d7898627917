"""The FastAPI application: built over one open :class:`~lakeport.lake.Lake`; routes call services only.

Every error leaves as the one JSON shape :meth:`LakeportError.to_dict` gives, with the error's HTTP status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from lakeport import __version__
from lakeport.errors import LakeportError

if TYPE_CHECKING:
    from lakeport.lake import Lake

API = "/api/v1"


def create_app(lake: Lake, *, background: dict[str, Any] | None = None) -> FastAPI:
    """The application for ``lake``; ``background`` is what :class:`~lakeport.server.runtime.Server` runs beside
    it (shown by the health route)."""
    app = FastAPI(
        title="lakeport",
        version=__version__,
        description="The AWS analytics pipeline on one laptop: the HTTP API of every lakeport service.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
    )
    app.state.lake = lake
    status = background if background is not None else {}

    @app.exception_handler(LakeportError)
    async def lakeport_error(request: Request, exc: LakeportError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "AccessDenied"}
        body = _error(
            code.get(exc.status_code, f"Http{exc.status_code}"), f"{request.method} {request.url.path}: {exc.detail}"
        )
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        body = _error("ValidationException", f"{request.method} {request.url.path}: {problems}")
        return JSONResponse(body, status_code=400)

    @app.get(f"{API}/health", tags=["server"])
    def health() -> dict[str, Any]:
        """Whether the server is up, which lake it serves, and what runs in the background."""
        return {"status": "ok", "version": __version__, "lake": str(lake.root), "background": dict(status)}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["server"])
    def metrics() -> str:
        """Every lakeport metric in Prometheus' text format (for a Prometheus scraper)."""
        render = getattr(getattr(lake, "metrics", None), "prometheus_text", None)
        return render() if callable(render) else ""

    return app


def _error(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    """The error shape of :meth:`LakeportError.to_dict`, for errors the web framework raises."""
    return {"error": {"code": code, "message": message, "hint": hint, "type": code, "retryable": False}}
