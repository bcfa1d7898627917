"""Observability (CloudWatch's role): log groups, streams and events; metrics and alarms come later."""

from lakeport.observe.logs import LogEvent, LogStore

__all__ = ["LogEvent", "LogStore"]
