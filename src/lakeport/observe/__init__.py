"""Observability (CloudWatch's role): log groups, streams and events; the event bus (EventBridge's default bus);
metrics and alarms come later."""

from lakeport.observe.bus import BusEvent, EventBus
from lakeport.observe.logs import LogEvent, LogStore

__all__ = ["BusEvent", "EventBus", "LogEvent", "LogStore"]
