"""The query service (Athena's role): Athena/Trino SQL over the catalog's tables, run on DuckDB."""
