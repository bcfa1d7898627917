"""State changes on the event bus, read as one principal: what a console's live view follows.

Opening a stream needs ``lakeport:StreamEvents`` on the default bus (``arn:aws:events:REGION:ACCOUNT:event-bus/
default``; EventBridge has no action for reading a bus, so lakeport names its own). Each event is then shown
only when the principal may read the thing it is about, with the action that reads it in the service itself:

=============================================  ==========================  ======================================
event                                          action                      resource
=============================================  ==========================  ======================================
Glue Job State Change                          ``glue:GetJobRun``          the job
Glue Crawler State Change                      ``glue:GetCrawler``         the crawler
Athena Query State Change                      ``athena:GetQueryExecution`` the workgroup
Step Functions Execution Status Change         ``states:DescribeExecution`` the execution
=============================================  ==========================  ======================================

Other events are not streamed. Each (action, resource) decision is made once and reused for ``recheck_seconds``,
so a busy stream does not fill the audit log, and a permission removed is honoured within that time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lakeport.errors import AccessDenied

if TYPE_CHECKING:
    from lakeport.iam import IAM, Principal
    from lakeport.observe.bus import BusEvent, EventBus

STREAM_ACTION = "lakeport:StreamEvents"


class EventStream:
    """The bus's state-change events that ``principal`` may see, read by position."""

    def __init__(
        self,
        bus: EventBus,
        iam: IAM,
        principal: Principal,
        *,
        region: str,
        account_id: str,
        recheck_seconds: float = 30.0,
    ) -> None:
        self.bus = bus
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.recheck_seconds = recheck_seconds
        self._decided: dict[tuple[str, str], tuple[bool, float]] = {}

    @property
    def bus_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:event-bus/default"

    def open(self, after: int | None = None) -> int:
        """Authorize the stream (AccessDenied otherwise); the position to read after: ``after`` when given (a
        client resuming), else the newest event's (a new client sees what happens from now on)."""
        self.iam.authorize(self.principal, STREAM_ACTION, self.bus_arn)
        return self.bus.latest_position() if after is None else max(0, after)

    def read(self, after: int, *, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """The events after position ``after`` that the principal may see, as EventBridge delivers them (each
        with its ``position``), and the position to read after next time (past hidden events too)."""
        events = self.bus.read(after=after, limit=limit)
        position = events[-1].position if events else after
        return position, [{**e.to_aws(), "position": e.position} for e in events if self._may_see(e)]

    def _may_see(self, event: BusEvent) -> bool:
        needed = self._permission(event)
        if needed is None:
            return False
        now = time.monotonic()
        known = self._decided.get(needed)
        if known is not None and known[1] > now:
            return known[0]
        try:
            self.iam.authorize(self.principal, *needed)
            allowed = True
        except AccessDenied:
            allowed = False
        self._decided[needed] = (allowed, now + self.recheck_seconds)
        return allowed

    def _permission(self, event: BusEvent) -> tuple[str, str] | None:
        """The (action, resource) that reads what ``event`` is about, or None for an event not streamed."""
        detail = event.detail
        glue = f"arn:aws:glue:{self.region}:{self.account_id}"
        kind = (event.source, event.detail_type)
        if kind == ("aws.glue", "Glue Job State Change") and detail.get("jobName"):
            return "glue:GetJobRun", f"{glue}:job/{detail['jobName']}"
        if kind == ("aws.glue", "Glue Crawler State Change") and detail.get("crawlerName"):
            return "glue:GetCrawler", f"{glue}:crawler/{detail['crawlerName']}"
        if kind == ("aws.athena", "Athena Query State Change"):
            workgroup = detail.get("workgroupName") or "primary"
            return "athena:GetQueryExecution", f"arn:aws:athena:{self.region}:{self.account_id}:workgroup/{workgroup}"
        if kind == ("aws.states", "Step Functions Execution Status Change") and detail.get("executionArn"):
            return "states:DescribeExecution", str(detail["executionArn"])
        return None
