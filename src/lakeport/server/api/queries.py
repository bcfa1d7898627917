"""``/api/v1/queries``: Athena's query executions — start, inspect, page through results, stop — its workgroups
and saved (named) queries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/queries", tags=["queries"])
WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"


class StartQuery(BaseModel):
    QueryString: str = Field(description="one Athena (Trino) SQL statement")
    Database: str = Field("default", description="the catalog database unqualified names refer to")
    WorkGroup: str = Field("primary", description="the workgroup to run in")
    ClientRequestToken: str | None = Field(None, description="makes the start idempotent")
    ExecutionParameters: list[str] | None = Field(None, description="SQL literals for the ? placeholders")


@router.post("", openapi_extra=action("athena:StartQueryExecution", WORKGROUP))
def start_query(lake: CallerLake, body: StartQuery) -> dict[str, Any]:
    """Start a query; it runs in the background (StartQueryExecution)."""
    execution = lake.queries.start_query_execution(
        body.QueryString,
        database=body.Database,
        workgroup=body.WorkGroup,
        client_request_token=body.ClientRequestToken,
        execution_parameters=body.ExecutionParameters,
    )
    return {"QueryExecutionId": execution.id}


@router.get("", openapi_extra=action("athena:ListQueryExecutions", WORKGROUP))
def list_queries(
    lake: CallerLake,
    page: Paging,
    workgroup: Annotated[str | None, Query(description="only this workgroup's")] = None,
) -> dict[str, Any]:
    """Recent query executions, newest first, with their details."""
    found = lake.queries.list_query_executions(limit=1000, workgroup=workgroup)
    return page.of([q.to_athena() for q in found], "QueryExecutions")


# ---- workgroups and saved (named) queries: declared before /{execution_id} so their paths win


class CreateNamedQuery(BaseModel):
    Name: str = Field(description="the saved query's name")
    QueryString: str = Field(description="its SQL")
    Database: str = Field("default", description="the database it runs in")
    Description: str | None = Field(None, description="what it is for")
    WorkGroup: str = Field("primary", description="the workgroup it belongs to")
    ClientRequestToken: str | None = Field(None, description="makes the create idempotent")


@router.get("/workgroups", openapi_extra=action("athena:ListWorkGroups", WORKGROUP))
def list_workgroups(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every workgroup (ListWorkGroups)."""
    return page.of([w.summary() for w in lake.queries.workgroups.list_work_groups()], "WorkGroups")


@router.get("/workgroups/{workgroup}", openapi_extra=action("athena:GetWorkGroup", WORKGROUP))
def get_workgroup(lake: CallerLake, workgroup: str) -> dict[str, Any]:
    """One workgroup with its configuration (GetWorkGroup)."""
    return {"WorkGroup": lake.queries.workgroups.get_work_group(workgroup).to_athena()}


@router.get("/named", openapi_extra=action("athena:ListNamedQueries", WORKGROUP))
def list_named_queries(
    lake: CallerLake,
    page: Paging,
    workgroup: Annotated[str, Query(description="the workgroup's saved queries")] = "primary",
) -> dict[str, Any]:
    """The ids of a workgroup's saved queries, oldest first (ListNamedQueries)."""
    return page.of(lake.queries.named_queries.list_named_queries(workgroup=workgroup), "NamedQueryIds")


@router.post("/named", openapi_extra=action("athena:CreateNamedQuery", WORKGROUP))
def create_named_query(lake: CallerLake, body: CreateNamedQuery) -> dict[str, Any]:
    """Save a query (CreateNamedQuery)."""
    named_id = lake.queries.named_queries.create_named_query(
        body.Name,
        body.QueryString,
        database=body.Database,
        description=body.Description,
        workgroup=body.WorkGroup,
        client_request_token=body.ClientRequestToken,
    )
    return {"NamedQueryId": named_id}


@router.get("/named/{named_query_id}", openapi_extra=action("athena:GetNamedQuery", WORKGROUP))
def get_named_query(lake: CallerLake, named_query_id: str) -> dict[str, Any]:
    """One saved query (GetNamedQuery)."""
    return {"NamedQuery": lake.queries.named_queries.get_named_query(named_query_id).to_athena()}


@router.delete("/named/{named_query_id}", openapi_extra=action("athena:DeleteNamedQuery", WORKGROUP))
def delete_named_query(lake: CallerLake, named_query_id: str) -> dict[str, Any]:
    """Delete a saved query (DeleteNamedQuery)."""
    lake.queries.named_queries.delete_named_query(named_query_id)
    return {}


# ---- query executions by id


@router.get("/{execution_id}", openapi_extra=action("athena:GetQueryExecution", WORKGROUP))
def get_query(lake: CallerLake, execution_id: str) -> dict[str, Any]:
    """One query execution: state, statistics, where its results are (GetQueryExecution)."""
    return {"QueryExecution": lake.queries.get_query_execution(execution_id).to_athena()}


@router.get("/{execution_id}/results", openapi_extra=action("athena:GetQueryResults", WORKGROUP))
def get_results(
    lake: CallerLake,
    execution_id: str,
    max_results: Annotated[int, Query(ge=1, le=1000, description="rows in this page")] = 1000,
    next_token: Annotated[str | None, Query(description="the NextToken of the previous page")] = None,
) -> dict[str, Any]:
    """A page of a succeeded query's rows, the header row first (GetQueryResults)."""
    return lake.queries.get_query_results(execution_id, max_results=max_results, next_token=next_token)


@router.post("/{execution_id}/stop", openapi_extra=action("athena:StopQueryExecution", WORKGROUP))
def stop_query(lake: CallerLake, execution_id: str) -> dict[str, Any]:
    """Cancel a queued or running query (StopQueryExecution)."""
    return {"QueryExecution": lake.queries.stop_query_execution(execution_id).to_athena()}
