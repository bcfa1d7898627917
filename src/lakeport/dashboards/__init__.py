"""Dashboards (QuickSight's role): datasets (direct or SPICE, calculated fields, row- and column-level security),
dashboards as code, visuals answered by the query service, exports (HTML, PNG, PDF), scheduled reports and
refresh schedules."""

from lakeport.dashboards.browser import BrowserMissing
from lakeport.dashboards.dataset_definition import DataSetDefinition, parse_dataset, parse_datasets
from lakeport.dashboards.datasets import DataSets, ResourceNotFound
from lakeport.dashboards.definition import DashboardDefinition, DefinitionError, load_document, parse_dashboard
from lakeport.dashboards.export import ExportFailed, export_dashboard, export_document, export_html, write_export
from lakeport.dashboards.model import Dashboard, DataSet, Ingestion, VisualData, VisualError
from lakeport.dashboards.schedules import ReportSent, send_report
from lakeport.dashboards.service import Dashboards

__all__ = [
    "BrowserMissing",
    "Dashboard",
    "DashboardDefinition",
    "Dashboards",
    "DataSet",
    "DataSetDefinition",
    "DataSets",
    "DefinitionError",
    "ExportFailed",
    "Ingestion",
    "ReportSent",
    "ResourceNotFound",
    "VisualData",
    "VisualError",
    "export_dashboard",
    "export_document",
    "export_html",
    "load_document",
    "parse_dashboard",
    "parse_dataset",
    "parse_datasets",
    "send_report",
    "write_export",
]
