"""What each service emits when a run ends: one call, one INSERT, never an error for the caller.

Namespaces, names and dimensions follow AWS where AWS has them:

- ``Glue`` job runs, dimensions ``JobName``, ``JobRunId`` (the run, and ``ALL`` for the job across runs, as Glue
  does) and ``Type`` (``count`` / ``gauge``): ``JobRunsSucceeded`` / ``JobRunsFailed`` (1 or 0 per run, both
  always: Sum is the number of such runs, SampleCount all runs, Average the rate), ``JobDuration``
  (Milliseconds), ``RowsRead``, ``RowsWritten``, ``BytesWritten`` (Bytes), ``RecordsQuarantined``.
- ``Glue`` crawls, dimension ``CrawlerName``: ``TablesCreated``, ``TablesUpdated``, ``TablesDeleted``,
  ``PartitionsAdded``, ``CrawlsSucceeded`` / ``CrawlsFailed`` (1 or 0 per crawl, both always).
- ``AWS/Athena``, dimensions ``WorkGroup``, ``QueryState``, ``QueryType``: ``EngineExecutionTime``,
  ``QueryQueueTime``, ``TotalExecutionTime`` (Milliseconds), ``ProcessedBytes`` (Bytes).
- ``AWS/States``, dimension ``StateMachineArn``: ``ExecutionsSucceeded`` / ``ExecutionsFailed`` /
  ``ExecutionsAborted`` / ``ExecutionsTimedOut`` (1 per execution), ``ExecutionTime`` (Milliseconds).
- ``AWS/SNS``, dimension ``TopicName``: ``NumberOfNotificationsDelivered`` / ``NumberOfNotificationsFailed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakeport.observe.metrics import dims, emit

if TYPE_CHECKING:
    from lakeport.metadata.database import MetadataDB

GLUE, ATHENA, STATES, SNS = "Glue", "AWS/Athena", "AWS/States", "AWS/SNS"
_EXECUTION_COUNTERS = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "ABORTED": "ExecutionsAborted",
    "TIMED_OUT": "ExecutionsTimedOut",
}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def emit_job_run(db: MetadataDB, *, job: str, run_id: str, state: str, metrics: Mapping[str, Any]) -> bool:
    """A Glue job run ended in ``state`` with the run record's ``metrics`` (empty for a failed run)."""
    try:
        succeeded = 1.0 if state == "SUCCEEDED" else 0.0
        gauges = [
            (
                "JobDuration",
                (_number(metrics.get("seconds")) or 0) * 1000 if "seconds" in metrics else None,
                "Milliseconds",
            ),
            ("RowsRead", _number(metrics.get("rows_read")), "Count"),
            ("RowsWritten", _number(metrics.get("rows_written")), "Count"),
            ("BytesWritten", _number(metrics.get("bytes_written")), "Bytes"),
            ("RecordsQuarantined", _number(metrics.get("rows_quarantined")), "Count"),
        ]
        data: list[dict[str, Any]] = []
        for run in (run_id, "ALL"):
            for counter, count in (("JobRunsSucceeded", succeeded), ("JobRunsFailed", 1.0 - succeeded)):
                data.append(
                    {
                        "MetricName": counter,
                        "Dimensions": dims(JobName=job, JobRunId=run, Type="count"),
                        "Value": count,
                        "Unit": "Count",
                    }
                )
            for name, value, unit in gauges:
                if value is not None:
                    data.append(
                        {
                            "MetricName": name,
                            "Dimensions": dims(JobName=job, JobRunId=run, Type="gauge"),
                            "Value": value,
                            "Unit": unit,
                        }
                    )
        return emit(db, GLUE, data)
    except Exception:  # never fails the run
        return False


def emit_crawl(db: MetadataDB, *, crawler: str, state: str, counters: Mapping[str, Any]) -> bool:
    """A crawl ended (``Succeeded``, ``Failed``, ``Cancelled``) with the crawl's counters."""
    try:
        dimensions = dims(CrawlerName=crawler)
        succeeded = 1.0 if state == "Succeeded" else 0.0
        data: list[dict[str, Any]] = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"}
            for name, value in (("CrawlsSucceeded", succeeded), ("CrawlsFailed", 1.0 - succeeded))
        ]
        for key, name in (
            ("tables_created", "TablesCreated"),
            ("tables_updated", "TablesUpdated"),
            ("tables_deleted", "TablesDeleted"),
            ("partitions_added", "PartitionsAdded"),
        ):
            value = _number(counters.get(key))
            if value is not None:
                data.append({"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"})
        return emit(db, GLUE, data)
    except Exception:
        return False


def emit_query(
    db: MetadataDB, *, workgroup: str, state: str, statement_type: str | None, statistics: Mapping[str, Any] | None
) -> bool:
    """An Athena query execution ended with its ``statistics`` (the QueryExecution's Statistics)."""
    try:
        stats = statistics or {}
        dimensions = dims(QueryState=state, QueryType=statement_type or "DML", WorkGroup=workgroup)
        data = []
        for key, name, unit in (
            ("EngineExecutionTimeInMillis", "EngineExecutionTime", "Milliseconds"),
            ("QueryQueueTimeInMillis", "QueryQueueTime", "Milliseconds"),
            ("TotalExecutionTimeInMillis", "TotalExecutionTime", "Milliseconds"),
            ("DataScannedInBytes", "ProcessedBytes", "Bytes"),
        ):
            value = _number(stats.get(key))
            if value is not None:
                data.append({"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit})
        return emit(db, ATHENA, data) if data else False
    except Exception:
        return False


def emit_execution(db: MetadataDB, described: Mapping[str, Any]) -> bool:
    """A state-machine execution ended: ``described`` is its DescribeExecution shape (status, dates, ARN)."""
    try:
        counter = _EXECUTION_COUNTERS.get(str(described.get("status")))
        if counter is None:
            return False
        dimensions = dims(StateMachineArn=described["stateMachineArn"])
        data: list[dict[str, Any]] = [{"MetricName": counter, "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"}]
        started, stopped = described.get("startDate"), described.get("stopDate")
        if started and stopped:
            millis = (_parse(stopped) - _parse(started)).total_seconds() * 1000
            data.append(
                {
                    "MetricName": "ExecutionTime",
                    "Dimensions": dimensions,
                    "Value": max(millis, 0.0),
                    "Unit": "Milliseconds",
                }
            )
        return emit(db, STATES, data)
    except Exception:
        return False


def emit_delivery(db: MetadataDB, *, topic: str, delivered: bool) -> bool:
    """One SNS delivery reached its end: delivered, or failed for good (after its retries)."""
    try:
        name = "NumberOfNotificationsDelivered" if delivered else "NumberOfNotificationsFailed"
        return emit(db, SNS, [{"MetricName": name, "Dimensions": dims(TopicName=topic), "Value": 1.0, "Unit": "Count"}])
    except Exception:
        return False


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
