"""The FastAPI application: built over one open :class:`~lakeport.lake.Lake`; routes call services only.

Every error leaves as the one JSON shape :meth:`LakeportError.to_dict` gives, with the error's HTTP status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from lakeport import __version__
from lakeport.errors import LakeportError
from lakeport.server import web
from lakeport.server.api import (
    alarms,
    catalog,
    crawlers,
    dashboards,
    events,
    functions,
    iam,
    jobs,
    logs,
    notify,
    queries,
    states,
    storage,
    triggers,
)
from lakeport.server.api import metrics as metrics_api
from lakeport.server.api.auth import SESSION_COOKIE, SESSION_SECONDS, Authenticator
from lakeport.server.api.deps import CallerLake, action

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
        responses=ERRORS,
    )
    app.state.lake = lake
    app.state.auth = Authenticator(lake.iam)
    app.state.views = {}
    status = background if background is not None else {}
    services = (storage, catalog, crawlers, jobs, queries, states, triggers, notify, functions, iam)
    for module in (*services, logs, metrics_api, alarms, events):
        app.include_router(module.router)
    app.include_router(dashboards.router)
    app.include_router(dashboards.datasets_router)
    app.include_router(web.router)  # the web console: page shells over this API's JSON
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")

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

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # a bug, not bad input: still the one shape; Starlette re-raises it afterwards, so the server logs it
        body = _error(
            "InternalError",
            f"{request.method} {request.url.path}: an internal error ({type(exc).__name__})",
            "the server's log has the traceback",
        )
        return JSONResponse(body, status_code=500)

    _document_errors_as_answered(app)

    @app.post(f"{API}/login", tags=["server"], openapi_extra=action("public"))
    def login(body: Login) -> JSONResponse:
        """Start a console session with an access key; the session cookie is HTTP-only and same-site."""
        token = app.state.auth.login(body.accessKeyId, body.secretAccessKey)
        principal = app.state.auth.with_session(token)
        response = JSONResponse({"arn": principal.arn, "name": principal.name})
        response.set_cookie(
            SESSION_COOKIE, token, max_age=int(SESSION_SECONDS), httponly=True, samesite="strict", path="/"
        )
        return response

    @app.post(f"{API}/logout", tags=["server"], openapi_extra=action("public"))
    def logout(request: Request) -> JSONResponse:
        """End the console session."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            app.state.auth.logout(token)
        response = JSONResponse({})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get(f"{API}/whoami", tags=["server"], openapi_extra=action("sts:GetCallerIdentity"))
    def whoami(caller: CallerLake) -> dict[str, Any]:
        """Who the credentials belong to (STS GetCallerIdentity)."""
        principal = caller.principal
        return {"Arn": principal.arn, "UserId": principal.name, "Account": lake.settings.iam.account_id}

    @app.get(f"{API}/health", tags=["server"], openapi_extra=action("public"))
    def health() -> dict[str, Any]:
        """Whether the server is up, which lake it serves, and what runs in the background."""
        return {"status": "ok", "version": __version__, "lake": str(lake.root), "background": dict(status)}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["server"], openapi_extra=action("public"))
    def metrics() -> str:
        """Every lakeport metric in Prometheus' text format (for a Prometheus scraper)."""
        render = getattr(getattr(lake, "metrics", None), "prometheus_text", None)
        return render() if callable(render) else ""

    return app


class ErrorDetail(BaseModel):
    code: str = Field(description="an AWS-style error code (EntityNotFoundException)")
    message: str = Field(description="what went wrong, naming the thing at fault")
    hint: str | None = Field(description="what to do next, when there is something to say")
    type: str = Field(description="the lakeport error class (NotFound, InvalidInput, ...)")
    retryable: bool = Field(description="whether the same request may succeed later")


class ErrorBody(BaseModel):
    """The one error shape (:meth:`LakeportError.to_dict`)."""

    error: ErrorDetail


# every route may answer with these (in the one error shape); declared so the document says what the API does
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input (a request that breaks this document, too)"},
    401: {"model": ErrorBody, "description": "No credentials, or credentials that are not valid"},
    403: {"model": ErrorBody, "description": "The caller's policies do not allow the action"},
    404: {"model": ErrorBody, "description": "The named thing does not exist"},
    409: {"model": ErrorBody, "description": "The thing exists already, or is in a state that forbids this"},
}


def _document_errors_as_answered(app: FastAPI) -> None:
    """Drop FastAPI's 422 from the document: a request that fails validation gets 400 in the one error shape."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


class Login(BaseModel):
    accessKeyId: str = Field(description="an access key id (lakeport iam create-access-key)")
    secretAccessKey: str = Field(description="its secret")


def _error(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    """The error shape of :meth:`LakeportError.to_dict`, for errors the web framework raises."""
    return {"error": {"code": code, "message": message, "hint": hint, "type": code, "retryable": False}}
