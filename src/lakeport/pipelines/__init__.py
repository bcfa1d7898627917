"""Pipelines: the services wired together (crawler → job → query → notify, trigger rules, alarms, dashboards):
the reference Spotify pipeline from ``examples/spotify/``, and ``pipeline new`` for any folder of data files."""

from lakeport.pipelines.reference import (
    REFERENCE,
    InstalledPipeline,
    install_reference_dashboard,
    install_reference_pipeline,
)
from lakeport.pipelines.run import PipelineRun, run_pipeline
from lakeport.pipelines.scaffold import Pipeline, PipelineTable, list_pipelines, load_pipeline, new_pipeline

__all__ = [
    "REFERENCE",
    "InstalledPipeline",
    "Pipeline",
    "PipelineRun",
    "PipelineTable",
    "install_reference_dashboard",
    "install_reference_pipeline",
    "list_pipelines",
    "load_pipeline",
    "new_pipeline",
    "run_pipeline",
]
