"""The state machine of a pipeline made by ``lakeport pipeline new`` (Amazon States Language, as a dict).

crawl staging → wait for the crawler → run the ETL job (``.sync``) → count each warehouse table's rows with an
Athena query (``.sync``) → publish the success to the pipeline's topic. Every task's failure is caught,
published to the same topic with its error and cause, and ends the execution FAILED. Starting the crawler or
the job while a previous execution still runs them is retried (the trigger rule can start executions close
together).
"""

from __future__ import annotations

from typing import Any

_CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": "NotifyFailure"}]


def _busy_retry(error: str) -> list[dict[str, Any]]:
    return [
        {"ErrorEquals": [error], "IntervalSeconds": 5, "MaxAttempts": 12, "BackoffRate": 1.5, "MaxDelaySeconds": 60}
    ]


def pipeline_machine(
    *, name: str, crawler: str, job: str, topic_arn: str, count_query: str, database: str
) -> dict[str, Any]:
    def notify(status: str, message: dict[str, Any], subject: str) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": topic_arn,
                "Subject": subject,
                "Message": {"pipeline": name, "status": status, "execution.$": "$$.Execution.Id", **message},
                "MessageAttributes": {"status": {"DataType": "String", "StringValue": status}},
            },
        }

    return {
        "Comment": f"The {name} pipeline (lakeport pipeline new): crawl staging -> ETL job -> row counts -> SNS",
        "StartAt": "StartCrawler",
        "States": {
            "StartCrawler": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                "Parameters": {"Name": crawler},
                "ResultPath": None,
                "Retry": _busy_retry("Glue.CrawlerRunningException"),
                "Next": "WaitForCrawler",
                "Catch": _CATCH,
            },
            "WaitForCrawler": {"Type": "Wait", "Seconds": 1, "Next": "GetCrawler"},
            "GetCrawler": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "Parameters": {"Name": crawler},
                "ResultSelector": {"State.$": "$.Crawler.State", "LastCrawl.$": "$.Crawler.LastCrawl"},
                "ResultPath": "$.Crawler",
                "Next": "CrawlerDone",
                "Catch": _CATCH,
            },
            "CrawlerDone": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.Crawler.State", "StringEquals": "READY"},
                            {"Variable": "$.Crawler.LastCrawl.Status", "StringEquals": "SUCCEEDED"},
                        ],
                        "Next": "RunJob",
                    },
                    {"Variable": "$.Crawler.State", "StringEquals": "READY", "Next": "CrawlerFailed"},
                ],
                "Default": "WaitForCrawler",
            },
            "CrawlerFailed": {
                "Type": "Pass",
                "Parameters": {"Error": "Crawler.Failed", "Cause.$": "$.Crawler.LastCrawl.ErrorMessage"},
                "ResultPath": "$.Failure",
                "Next": "NotifyFailure",
            },
            "RunJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": job},
                "ResultSelector": {"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
                "ResultPath": "$.JobRun",
                "Retry": _busy_retry("Glue.ConcurrentRunsExceededException"),
                "Next": "CountRows",
                "Catch": _CATCH,
            },
            "CountRows": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                "Parameters": {
                    "QueryString": count_query,
                    "QueryExecutionContext": {"Database": database},
                    "WorkGroup": "primary",
                },
                "ResultSelector": {"QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"},
                "ResultPath": "$.Query",
                "Next": "NotifySuccess",
                "Catch": _CATCH,
            },
            "NotifySuccess": notify(
                "SUCCEEDED",
                {"jobRunId.$": "$.JobRun.JobRunId", "queryExecutionId.$": "$.Query.QueryExecutionId"},
                f"{name} pipeline succeeded",
            )
            | {"ResultSelector": {"MessageId.$": "$.MessageId"}, "ResultPath": "$.Notification", "Next": "Succeeded"},
            "Succeeded": {"Type": "Succeed"},
            "NotifyFailure": notify(
                "FAILED", {"error.$": "$.Failure.Error", "cause.$": "$.Failure.Cause"}, f"{name} pipeline failed"
            )
            | {"ResultPath": None, "Next": "Failed"},
            "Failed": {"Type": "Fail", "ErrorPath": "$.Failure.Error", "CausePath": "$.Failure.Cause"},
        },
    }
