"""Triggers (EventBridge's role): rules on object events, bus events and schedules, schedules (EventBridge
Scheduler's), and the dispatcher that starts their targets (state machines, Glue jobs). See docs/triggers.md."""

from lakeport.triggers.model import Delivery, Rule
from lakeport.triggers.rules import Triggers
from lakeport.triggers.schedule_expressions import ScheduleExpression, parse_schedule
from lakeport.triggers.scheduler import PassReport, Scheduler, scheduler_for

__all__ = [
    "Delivery",
    "PassReport",
    "Rule",
    "ScheduleExpression",
    "Scheduler",
    "Triggers",
    "parse_schedule",
    "scheduler_for",
]
