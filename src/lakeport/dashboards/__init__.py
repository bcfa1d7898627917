"""Dashboards (QuickSight's role): datasets (direct or SPICE, calculated fields, row- and column-level security),
dashboards as code, visuals answered by the query service."""

from lakeport.dashboards.dataset_definition import DataSetDefinition, parse_dataset, parse_datasets
from lakeport.dashboards.datasets import DataSets, ResourceNotFound
from lakeport.dashboards.definition import DashboardDefinition, DefinitionError, load_document, parse_dashboard
from lakeport.dashboards.model import Dashboard, DataSet, Ingestion, VisualData, VisualError
from lakeport.dashboards.service import Dashboards

__all__ = [
    "Dashboard",
    "DashboardDefinition",
    "Dashboards",
    "DataSet",
    "DataSetDefinition",
    "DataSets",
    "DefinitionError",
    "Ingestion",
    "ResourceNotFound",
    "VisualData",
    "VisualError",
    "load_document",
    "parse_dashboard",
    "parse_dataset",
    "parse_datasets",
]
