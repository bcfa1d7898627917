"""``/api/v1/dashboards`` and ``/api/v1/data-sets``: QuickSight's dashboards (as code, with their data as Plotly
figures) and datasets (with SPICE ingestions). Routes call ``lake.dashboards`` and ``lake.dashboards.datasets``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from lakeport.errors import InvalidInput
from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"])
datasets_router = APIRouter(prefix="/api/v1/data-sets", tags=["data-sets"])
DASHBOARD = "arn:aws:quicksight:{region}:{account}:dashboard/{name}"
DATASET = "arn:aws:quicksight:{region}:{account}:dataset/{name}"
INGESTION = "arn:aws:quicksight:{region}:{account}:dataset/{name}/ingestion/{id}"
DRILL_LIMIT = 100
MAX_ROWS = 10_000

DASHBOARD_EXAMPLE = {
    "name": "music",
    "title": "Music",
    "theme": "midnight",
    "filters": [{"name": "years", "field": "release_year", "type": "range", "control": "slider"}],
    "sheets": [
        {
            "name": "Overview",
            "visuals": [
                {"id": "tracks", "kind": "kpi", "dataset": "tracks", "measures": ["count(*)"]},
                {"id": "by-type", "kind": "bar", "dataset": "tracks", "dimensions": ["album_type"],
                 "measures": ["count(*)"]},
            ],
        }
    ],
}  # fmt: skip
DATASET_EXAMPLE = {
    "name": "tracks",
    "source": "music.tracks",
    "import_mode": "DIRECT_QUERY",
    "calculated_fields": {"duration_min": "duration_sec / 60"},
}
DocumentBody = Annotated[
    dict[str, Any],
    Body(
        description='the dashboard document as JSON, or {"Document": "<YAML or JSON text>"} (docs/dashboards.md)',
        examples=[DASHBOARD_EXAMPLE],
        min_length=1,
    ),
]
DataSetBody = Annotated[
    dict[str, Any],
    Body(description="the dataset definition as JSON (docs/dashboards.md, Datasets)", examples=[DATASET_EXAMPLE]),
]


class SheetData(BaseModel):
    Sheet: str | None = Field(None, description="the sheet (default: the first)")
    Filters: dict[str, Any] = Field(default_factory=dict, description="filter name → value (default: its default)")
    Parameters: dict[str, Any] = Field(default_factory=dict, description="parameter name → value")


class DrillDown(BaseModel):
    Sheet: str = Field(description="the visual's sheet")
    Visual: str = Field(description="the visual's id")
    Point: dict[str, Any] = Field(description="dimension name → the value clicked (a bar, slice or cell)")
    Filters: dict[str, Any] = Field(default_factory=dict, description="filter name → value")
    Parameters: dict[str, Any] = Field(default_factory=dict, description="parameter name → value")
    Limit: int = Field(DRILL_LIMIT, ge=1, le=MAX_ROWS, description="at most this many rows")


def _document(body: Mapping[str, Any]) -> Mapping[str, Any] | str:
    """The dashboard document of a request: ``{"Document": text}`` or the document itself."""
    text = body.get("Document")
    if set(body) == {"Document"} and isinstance(text, str):
        return text
    return body


# ---- dashboards


@router.get("", openapi_extra=action("quicksight:ListDashboards", DASHBOARD))
def list_dashboards(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Dashboards by name (ListDashboards)."""
    return page.of([d.summary() for d in lake.dashboards.list_dashboards()], "DashboardSummaryList")


@router.post("", openapi_extra=action("quicksight:CreateDashboard", DASHBOARD))
def create_dashboard(lake: CallerLake, document: DocumentBody) -> dict[str, Any]:
    """Create a dashboard from its definition, checked against its datasets' columns (CreateDashboard)."""
    return {"Dashboard": lake.dashboards.create_dashboard(_document(document)).to_dict()}


@router.post("/validate", openapi_extra=action("quicksight:DescribeDataSet", DATASET))
def validate_dashboard(lake: CallerLake, document: DocumentBody) -> dict[str, Any]:
    """Check a definition without storing it: every error at once, each naming its sheet, visual and field."""
    try:
        lake.dashboards.validate_dashboard(_document(document))
    except InvalidInput as exc:  # DefinitionError lists every error; a syntax error is one
        return {"Valid": False, "Errors": list(getattr(exc, "errors", None) or [exc.message])}
    return {"Valid": True, "Errors": []}


@router.get("/{name}", openapi_extra=action("quicksight:DescribeDashboard", DASHBOARD))
def describe_dashboard(lake: CallerLake, name: str) -> dict[str, Any]:
    """One dashboard with its definition (DescribeDashboard)."""
    return {"Dashboard": lake.dashboards.describe_dashboard(name).to_dict()}


@router.put("/{name}", openapi_extra=action("quicksight:UpdateDashboard", DASHBOARD))
def update_dashboard(lake: CallerLake, name: str, document: DocumentBody) -> dict[str, Any]:
    """Replace a dashboard's definition: a new version (UpdateDashboard)."""
    return {"Dashboard": lake.dashboards.update_dashboard(_document(document), name=name).to_dict()}


@router.delete("/{name}", openapi_extra=action("quicksight:DeleteDashboard", DASHBOARD))
def delete_dashboard(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a dashboard; its datasets stay (DeleteDashboard)."""
    lake.dashboards.delete_dashboard(name)
    return {}


@router.post("/{name}/data", openapi_extra=action("quicksight:QueryDashboard", DASHBOARD))
def dashboard_data(lake: CallerLake, name: str, body: SheetData) -> dict[str, Any]:
    """Every visual of a sheet for this viewer, with its rows and its Plotly figure; a visual that failed carries
    its error instead, and the others still show."""
    return lake.dashboards.sheet_figures(name, body.Sheet, filters=body.Filters, parameters=body.Parameters)


@router.post("/{name}/drill-down", openapi_extra=action("quicksight:QueryDashboard", DASHBOARD))
def drill_down(lake: CallerLake, name: str, body: DrillDown) -> dict[str, Any]:
    """The rows behind one point of a visual (its dimensions' values as filters), the columns this viewer may see."""
    found = lake.dashboards.drill_down(
        name, body.Sheet, body.Visual, body.Point, filters=body.Filters, parameters=body.Parameters, limit=body.Limit
    )
    return found.to_dict()


@router.get("/{name}/filters/{filter}/values", openapi_extra=action("quicksight:QueryDashboard", DASHBOARD))
def filter_values(lake: CallerLake, name: str, filter: str) -> dict[str, Any]:
    """What a filter's control offers this viewer: distinct values, or a range's minimum and maximum."""
    return lake.dashboards.filter_values(name, filter)


# ---- datasets


@datasets_router.get("", openapi_extra=action("quicksight:ListDataSets", DATASET))
def list_data_sets(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Datasets by name (ListDataSets)."""
    return page.of([d.to_dict() for d in lake.dashboards.datasets.list_data_sets()], "DataSetSummaries")


@datasets_router.post("", openapi_extra=action("quicksight:CreateDataSet", DATASET))
def create_data_set(lake: CallerLake, definition: DataSetBody) -> dict[str, Any]:
    """Create a dataset; its columns are read as the caller, a SPICE dataset is ingested at once (CreateDataSet)."""
    return {"DataSet": lake.dashboards.datasets.create_data_set(definition).to_dict()}


@datasets_router.get("/{name}", openapi_extra=action("quicksight:DescribeDataSet", DATASET))
def describe_data_set(lake: CallerLake, name: str) -> dict[str, Any]:
    """One dataset with its definition and columns (DescribeDataSet)."""
    return {"DataSet": lake.dashboards.datasets.describe_data_set(name).to_dict()}


@datasets_router.put("/{name}", openapi_extra=action("quicksight:UpdateDataSet", DATASET))
def update_data_set(lake: CallerLake, name: str, definition: DataSetBody) -> dict[str, Any]:
    """Replace a dataset's definition; a SPICE dataset is ingested again (UpdateDataSet)."""
    return {"DataSet": lake.dashboards.datasets.update_data_set({**definition, "name": name}).to_dict()}


@datasets_router.delete("/{name}", openapi_extra=action("quicksight:DeleteDataSet", DATASET))
def delete_data_set(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a dataset, its SPICE snapshot and its ingestions (DeleteDataSet)."""
    lake.dashboards.datasets.delete_data_set(name)
    return {}


@datasets_router.post("/{name}/ingestions", openapi_extra=action("quicksight:CreateIngestion", DATASET))
def create_ingestion(lake: CallerLake, name: str) -> dict[str, Any]:
    """Refresh a SPICE dataset's snapshot now, to its end (CreateIngestion)."""
    return {"Ingestion": lake.dashboards.datasets.create_ingestion(name).to_dict()}


@datasets_router.get("/{name}/ingestions", openapi_extra=action("quicksight:ListIngestions", DATASET))
def list_ingestions(lake: CallerLake, name: str, page: Paging) -> dict[str, Any]:
    """The dataset's refresh history, newest first (ListIngestions)."""
    found = lake.dashboards.datasets.list_ingestions(name, limit=page.offset + page.limit + 1)
    return page.of([i.to_dict() for i in found], "Ingestions")


@datasets_router.get("/{name}/ingestions/{id}", openapi_extra=action("quicksight:DescribeIngestion", INGESTION))
def describe_ingestion(lake: CallerLake, name: str, id: str) -> dict[str, Any]:
    """One ingestion: status, rows, bytes, time, error (DescribeIngestion)."""
    return {"Ingestion": lake.dashboards.datasets.describe_ingestion(name, id).to_dict()}
