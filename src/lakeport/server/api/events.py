"""``/api/v1/events/stream``: progress for the console as server-sent events (``text/event-stream``).

The stream polls the event bus every ``POLL_SECONDS`` as the caller and sends each state change the caller may
see (job runs, crawls, queries, state-machine executions; see :mod:`lakeport.observe.event_stream`) as one SSE
message: ``id`` is the bus position (a reconnecting ``EventSource`` sends it back as ``Last-Event-ID`` and
resumes after it), ``event`` the EventBridge detail-type, ``data`` the event as EventBridge delivers it. A comment
line every ``KEEPALIVE_SECONDS`` keeps proxies from closing a quiet stream. A stream ends after ``timeout``
seconds (the browser's ``EventSource`` reconnects by itself), or when the client goes away.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from lakeport.observe.event_stream import STREAM_ACTION, EventStream
from lakeport.server.api.deps import CallerLake, action

router = APIRouter(prefix="/api/v1/events", tags=["events"])
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
MAX_POSITION = 2**62  # bus positions are SQLite integers


@router.get(
    "/stream",
    response_class=StreamingResponse,
    openapi_extra=action(STREAM_ACTION, "arn:aws:events:{region}:{account}:event-bus/default"),
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def stream(
    lake: CallerLake,
    request: Request,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="resume after this bus position (default: from now)")
    ] = None,
    timeout: Annotated[float, Query(gt=0, le=86400, description="end the stream after this many seconds")] = 300.0,
    last_event_id: Annotated[str | None, Header(description="sent by a reconnecting EventSource")] = None,
) -> StreamingResponse:
    """Job run, crawl, query and execution state changes, as they happen (server-sent events)."""
    iam = lake.settings.iam
    events = EventStream(lake.bus, lake.iam, lake.principal, region=iam.region, account_id=iam.account_id)
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() and len(last_event_id) < 19 else after
    start = await run_in_threadpool(events.open, resume)
    return StreamingResponse(
        _messages(events, request, start, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _messages(events: EventStream, request: Request, position: int, timeout: float) -> AsyncIterator[str]:
    end = time.monotonic() + timeout
    quiet_since = time.monotonic()
    yield f"retry: 2000\n: lakeport event stream from position {position}\n\n"
    while time.monotonic() < end:
        if await request.is_disconnected():
            return
        position, found = await run_in_threadpool(events.read, position)
        for event in found:
            data = json.dumps(event, separators=(",", ":"), default=str)
            yield f"id: {event['position']}\nevent: {event['detail-type']}\ndata: {data}\n\n"
            quiet_since = time.monotonic()
        if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, end - time.monotonic())))
