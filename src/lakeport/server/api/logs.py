"""``/api/v1/logs``: CloudWatch Logs — log groups, streams, a stream's events and filtered events of a group.

Log group names hold slashes (``/lakeport/jobs/copy``), so groups and streams travel as query parameters. Reads
are paged as CloudWatch pages them (``next_token`` → ``nextToken``, ``nextForwardToken``/``nextBackwardToken``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, action

router = APIRouter(prefix="/api/v1/logs", tags=["logs"])
GROUP = "arn:aws:logs:{region}:{account}:log-group:{group}"
STREAM = "arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"

Group = Annotated[str, Query(min_length=1, description="the log group's name")]
Token = Annotated[str | None, Query(description="the previous page's token")]
Millis = Annotated[int | None, Query(description="epoch milliseconds")]


class CreateGroup(BaseModel):
    logGroupName: str = Field(description="the group's name")
    retentionInDays: int | None = Field(None, description="days events are kept (CloudWatch's values)")


class Retention(BaseModel):
    retentionInDays: int = Field(description="days events are kept (1, 3, 5, 7, 14, 30, …)")


@router.get("/groups", openapi_extra=action("logs:DescribeLogGroups", "arn:aws:logs:{region}:{account}:log-group:*"))
def describe_log_groups(
    lake: CallerLake,
    prefix: Annotated[str | None, Query(description="names starting with this")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 50,
    next_token: Token = None,
) -> dict[str, Any]:
    """Log groups with their retention and stored bytes (DescribeLogGroups)."""
    groups, token = lake.cloudwatch_logs.describe_log_groups(prefix, limit=limit, next_token=next_token)
    return {"logGroups": [g.to_dict() for g in groups], "nextToken": token}


@router.post("/groups", openapi_extra=action("logs:CreateLogGroup", GROUP))
def create_log_group(lake: CallerLake, body: CreateGroup) -> dict[str, Any]:
    """Create a log group (CreateLogGroup)."""
    return lake.cloudwatch_logs.create_log_group(body.logGroupName, body.retentionInDays).to_dict()


@router.delete("/groups", openapi_extra=action("logs:DeleteLogGroup", GROUP))
def delete_log_group(lake: CallerLake, group: Group) -> dict[str, Any]:
    """Delete a log group and its events (DeleteLogGroup)."""
    lake.cloudwatch_logs.delete_log_group(group)
    return {}


@router.put("/groups/retention", openapi_extra=action("logs:PutRetentionPolicy", GROUP))
def put_retention_policy(lake: CallerLake, group: Group, body: Retention) -> dict[str, Any]:
    """Keep the group's events this many days (PutRetentionPolicy)."""
    return lake.cloudwatch_logs.put_retention_policy(group, body.retentionInDays).to_dict()


@router.get("/streams", openapi_extra=action("logs:DescribeLogStreams", GROUP))
def describe_log_streams(
    lake: CallerLake,
    group: Group,
    prefix: Annotated[str | None, Query(description="stream names starting with this")] = None,
    order_by: Annotated[str, Query(pattern="^(LogStreamName|LastEventTime)$")] = "LogStreamName",
    descending: bool = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 50,
    next_token: Token = None,
) -> dict[str, Any]:
    """A group's streams (DescribeLogStreams)."""
    streams, token = lake.cloudwatch_logs.describe_log_streams(
        group, prefix, order_by=order_by, descending=descending, limit=limit, next_token=next_token
    )
    return {"logStreams": [s.to_dict() for s in streams], "nextToken": token}


@router.get("/events", openapi_extra=action("logs:GetLogEvents", STREAM))
def get_log_events(
    lake: CallerLake,
    group: Group,
    stream: Annotated[str, Query(min_length=1, description="the log stream's name")],
    start_time: Millis = None,
    end_time: Millis = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    start_from_head: bool = False,
    next_token: Token = None,
) -> dict[str, Any]:
    """A stream's events, oldest first, from its end unless ``start_from_head`` (GetLogEvents)."""
    return lake.cloudwatch_logs.get_log_events(
        group,
        stream,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        start_from_head=start_from_head,
        next_token=next_token,
    )


@router.get("/events/filter", openapi_extra=action("logs:FilterLogEvents", GROUP))
def filter_log_events(
    lake: CallerLake,
    group: Group,
    pattern: Annotated[str | None, Query(description="a CloudWatch filter pattern")] = None,
    stream: Annotated[list[str] | None, Query(description="only these streams (repeat for more)")] = None,
    stream_prefix: Annotated[str | None, Query(description="only streams starting with this")] = None,
    start_time: Millis = None,
    end_time: Millis = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    next_token: Token = None,
) -> dict[str, Any]:
    """The group's events that match a filter pattern, in time order (FilterLogEvents)."""
    return lake.cloudwatch_logs.filter_log_events(
        group,
        stream_names=stream,
        stream_prefix=stream_prefix,
        filter_pattern=pattern,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        next_token=next_token,
    )
