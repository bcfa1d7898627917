"""Observability (CloudWatch's role): log groups, streams and events; the event bus (EventBridge's default bus);
metrics and metric alarms."""

from lakeport.observe.alarms import Alarms, MetricAlarm
from lakeport.observe.bus import BusEvent, EventBus
from lakeport.observe.logs import LogEvent, LogStore
from lakeport.observe.metrics import Metrics

__all__ = ["Alarms", "BusEvent", "EventBus", "LogEvent", "LogStore", "MetricAlarm", "Metrics"]
