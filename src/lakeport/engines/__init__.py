"""The compute engines behind the services (DuckDB embedded; PySpark for scale-out comes with its issue)."""
