"""ETL jobs (Glue jobs' role): declarative DAGs and Python scripts on DuckDB, writing Iceberg warehouse tables."""

from lakeport.etl.bad_records import BadRecords
from lakeport.etl.definition import JobDefinition
from lakeport.etl.jobs import ConcurrentRunsExceeded, Job, JobNotFound, JobRun, Jobs
from lakeport.etl.runner import JobContext

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
