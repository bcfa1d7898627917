"""What routes receive: the lake acting as the caller, and pages of long lists."""

from __future__ import annotations

import base64
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from lakeport.errors import InvalidInput

if TYPE_CHECKING:
    from lakeport.lake import Lake

T = TypeVar("T")
_VIEWS_LOCK = threading.Lock()


async def caller_lake(request: Request) -> Lake:
    """The lake's services acting as the authenticated caller (one view per principal, kept for reuse).

    On the event loop when the caller's credentials are remembered (a dictionary lookup); a secret not checked
    yet (scrypt) or a view not made yet go to the thread pool, so that the loop never waits for them."""
    app = request.app
    principal = app.state.auth.remembered(request)
    if principal is None:
        principal = await run_in_threadpool(app.state.auth.principal, request)
    views: dict[str, Any] = app.state.views
    view = views.get(principal.arn)
    if view is not None:
        return view  # type: ignore[no-any-return]
    return await run_in_threadpool(_view_of, app, principal)


def _view_of(app: Any, principal: Any) -> Lake:
    views: dict[str, Any] = app.state.views
    with _VIEWS_LOCK:
        view = views.get(principal.arn)
        if view is None:
            view = views[principal.arn] = app.state.lake.as_principal(principal)
    return view  # type: ignore[no-any-return]


CallerLake = Annotated["Lake", Depends(caller_lake)]


class Page:
    """``?limit=&next_token=`` over a list: tokens are opaque offsets."""

    def __init__(self, limit: int = 100, next_token: str | None = None) -> None:
        self.limit = limit
        self.offset = _offset(next_token)

    def of(self, items: Sequence[T], key: str) -> dict[str, Any]:
        """``{key: items of this page, "nextToken": … or None}``."""
        chosen = list(items[self.offset : self.offset + self.limit])
        more = self.offset + self.limit < len(items)
        token = base64.urlsafe_b64encode(str(self.offset + self.limit).encode()).decode() if more else None
        return {key: chosen, "nextToken": token}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise InvalidInput("the nextToken is not one this API gave", code="InvalidToken") from None
    if value < 0:
        raise InvalidInput("the nextToken is not one this API gave", code="InvalidToken")
    return value


async def _page(
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many items")] = 100,
    next_token: Annotated[str | None, Query(description="the nextToken of the previous page")] = None,
) -> Page:
    """The page asked for (on the event loop: it is arithmetic, not worth a trip to the thread pool)."""
    return Page(limit, next_token)


Paging = Annotated[Page, Depends(_page)]


def action(name: str, resource: str = "") -> dict[str, Any]:
    """A route's ``openapi_extra``: the IAM action it needs (``glue:GetTables``) and the resource pattern it acts on.

    The enforcement test reads these from the OpenAPI document; a route without one fails it."""
    return {"x-iam-action": name, "x-iam-resource": resource}
