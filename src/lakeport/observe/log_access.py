"""CloudWatch Logs for users: the same store as :class:`LogStore`, every call authorized as the caller first.

Services write their own logs through ``LogStore.put`` unauthorized (they are the service's logs, not the
caller's); people and programs read and administer them through this facade (``lake.cloudwatch_logs``, the CLI's
``lakeport logs``), which asks IAM with CloudWatch Logs' action names and ARNs:

====================  ======================================================================
logs:CreateLogGroup   ``arn:aws:logs:REGION:ACCOUNT:log-group:NAME``
logs:DeleteLogGroup   the group
logs:PutRetentionPolicy, logs:DeleteRetentionPolicy   the group
logs:DescribeLogGroups  ``…:log-group:*`` (as AWS: listing is not per group)
logs:DescribeLogStreams, logs:FilterLogEvents  the group
logs:GetLogEvents     ``…:log-group:NAME:log-stream:STREAM``
logs:CreateLogStream, logs:PutLogEvents, logs:DeleteLogStream   the stream
====================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lakeport.observe.log_shapes import LogEvent, LogGroup, LogStream

if TYPE_CHECKING:
    from lakeport.iam import IAM, Principal
    from lakeport.observe.logs import LogStore


class CloudWatchLogs:
    """CloudWatch Logs' API over a :class:`LogStore`, acting as one principal."""

    def __init__(self, store: LogStore, iam: IAM, principal: Principal) -> None:
        self.store = store
        self.iam = iam
        self.principal = principal

    def _authorize(self, action: str, group: str | None = None, stream: str | None = None) -> None:
        resource = self.store.group_arn("*" if group is None else group)
        if stream is not None:
            resource = f"{resource}:log-stream:{stream}"
        self.iam.authorize(self.principal, f"logs:{action}", resource)

    def create_log_group(self, name: str, retention_days: int | None = None) -> LogGroup:
        self._authorize("CreateLogGroup", name)
        return self.store.create_log_group(name, retention_days)

    def delete_log_group(self, name: str) -> None:
        self._authorize("DeleteLogGroup", name)
        self.store.delete_log_group(name)

    def create_log_stream(self, group: str, stream: str) -> LogStream:
        self._authorize("CreateLogStream", group, stream)
        return self.store.create_log_stream(group, stream)

    def delete_log_stream(self, group: str, stream: str) -> None:
        self._authorize("DeleteLogStream", group, stream)
        self.store.delete_log_stream(group, stream)

    def put_retention_policy(self, group: str, days: int) -> LogGroup:
        self._authorize("PutRetentionPolicy", group)
        return self.store.put_retention_policy(group, days)

    def delete_retention_policy(self, group: str) -> LogGroup:
        self._authorize("DeleteRetentionPolicy", group)
        return self.store.delete_retention_policy(group)

    def describe_log_groups(
        self, prefix: str | None = None, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[LogGroup], str | None]:
        self._authorize("DescribeLogGroups")
        return self.store.describe_log_groups(prefix, limit=limit, next_token=next_token)

    def describe_log_streams(
        self,
        group: str,
        prefix: str | None = None,
        *,
        order_by: str = "LogStreamName",
        descending: bool = False,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[LogStream], str | None]:
        self._authorize("DescribeLogStreams", group)
        return self.store.describe_log_streams(
            group, prefix, order_by=order_by, descending=descending, limit=limit, next_token=next_token
        )

    def put_log_events(self, group: str, stream: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        self._authorize("PutLogEvents", group, stream)
        return self.store.put_log_events(group, stream, events)

    def get_log_events(self, group: str, stream: str, **options: Any) -> dict[str, Any]:
        """GetLogEvents (options: start_time, end_time, limit, start_from_head, next_token)."""
        self._authorize("GetLogEvents", group, stream)
        return self.store.get_log_events(group, stream, **options)

    def filter_log_events(self, group: str, **options: Any) -> dict[str, Any]:
        """FilterLogEvents (options: stream_names, stream_prefix, filter_pattern, start_time, end_time, limit,
        next_token)."""
        self._authorize("FilterLogEvents", group)
        return self.store.filter_log_events(group, **options)

    def scan(self, group: str, **options: Any) -> Iterator[LogEvent]:
        """Every matching event in time order, streamed (options as filter_log_events, without paging); needs
        logs:FilterLogEvents."""
        self._authorize("FilterLogEvents", group)
        return self.store.scan(group, **options)

    def last_event_id(self) -> int:
        return self.store.last_event_id()

    def follow(
        self,
        group: str,
        *,
        after_id: int,
        stream_names: Iterable[str] | None = None,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        limit: int = 1000,
    ) -> tuple[list[LogEvent], int]:
        """New events after ``after_id`` (what ``tail --follow`` polls); needs logs:FilterLogEvents."""
        self._authorize("FilterLogEvents", group)
        return self.store.follow(
            group,
            after_id=after_id,
            stream_names=stream_names,
            stream_prefix=stream_prefix,
            filter_pattern=filter_pattern,
            limit=limit,
        )
