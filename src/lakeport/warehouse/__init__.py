"""Warehouse tables (Apache Iceberg on Parquet): atomic commits, history, time travel, rollback, vacuum."""

from lakeport.warehouse.warehouse import CommitConflict, CommitResult, Snapshot, VacuumResult, Warehouse

__all__ = ["CommitConflict", "CommitResult", "Snapshot", "VacuumResult", "Warehouse"]
