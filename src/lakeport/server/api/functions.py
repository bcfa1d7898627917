"""``/api/v1/functions``: local Python functions (Lambda's role) — register, inspect, delete, invoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/functions", tags=["functions"])
FUNCTION = "arn:aws:lambda:{region}:{account}:function:{name}"


class CreateFunction(BaseModel):
    FunctionName: str = Field(description="the function's name")
    Handler: str = Field(description="module:function (a module in the lake's functions/ folder, or installed)")
    Description: str = Field("", description="what it does")
    Timeout: int = Field(60, description="seconds an invocation may take")


@router.get("", openapi_extra=action("lambda:ListFunctions", "*"))
def list_functions(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every function (ListFunctions)."""
    return page.of([f.to_aws() for f in lake.functions.list_functions()], "Functions")


@router.post("", openapi_extra=action("lambda:CreateFunction", FUNCTION))
def create_function(lake: CallerLake, body: CreateFunction) -> dict[str, Any]:
    """Register a handler under a name; the handler is imported now to check it (CreateFunction)."""
    created = lake.functions.create_function(
        body.FunctionName, body.Handler, description=body.Description, timeout=body.Timeout
    )
    return created.to_aws()


@router.get("/{name}", openapi_extra=action("lambda:GetFunction", FUNCTION))
def get_function(lake: CallerLake, name: str) -> dict[str, Any]:
    """One function's configuration (GetFunction)."""
    return {"Configuration": lake.functions.get_function(name).to_aws()}


@router.delete("/{name}", openapi_extra=action("lambda:DeleteFunction", FUNCTION))
def delete_function(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a function (DeleteFunction)."""
    lake.functions.delete_function(name)
    return {}


@router.post("/{name}/invoke", openapi_extra=action("lambda:InvokeFunction", FUNCTION))
def invoke(
    lake: CallerLake, name: str, payload: Annotated[Any, Body(description="the event (any JSON)")] = None
) -> dict[str, Any]:
    """Call the function with the request's JSON body as its event and wait for its answer (Invoke): a failure
    of the handler is ``FunctionError`` with Lambda's error payload, not an HTTP error."""
    return lake.functions.invoke(name, payload).to_aws()
