"""ETL jobs (Glue jobs' role): declarative DAGs and Python scripts on DuckDB, writing Iceberg warehouse tables."""

from typing import TYPE_CHECKING, Any

from lakeport.etl.bad_records import BadRecords
from lakeport.etl.definition import JobDefinition
from lakeport.etl.jobs import ConcurrentRunsExceeded, Job, JobNotFound, JobRun, Jobs

if TYPE_CHECKING:
    from lakeport.etl.python_jobs import JobContext

__all__ = [
    "BadRecords",
    "ConcurrentRunsExceeded",
    "Job",
    "JobContext",
    "JobDefinition",
    "JobNotFound",
    "JobRun",
    "Jobs",
]


def __getattr__(name: str) -> Any:
    # the runner (DuckDB plans, Iceberg commits) loads when a run needs it, not with every CLI command
    if name == "JobContext":
        from lakeport.etl.python_jobs import JobContext

        return JobContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
