"""Pipelines: the services wired together (job → crawler → query → notify, alarms) from files in a folder."""

from lakeport.pipelines.reference import (
    REFERENCE,
    InstalledPipeline,
    install_reference_dashboard,
    install_reference_pipeline,
)

__all__ = ["REFERENCE", "InstalledPipeline", "install_reference_dashboard", "install_reference_pipeline"]
