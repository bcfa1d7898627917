"""Differential testing of the query service (tests/query/test_differential.py).

Seeded random queries over the Spotify and TPC-H tables (``world``: the data, the oracle's copy of it, column
samples; ``catalog``: the tables and their join keys) are built as a small typed AST (``nodes``) by the
generator (``queries`` → ``expressions``, ``predicates``, ``calls`` over ``scope``), rendered twice
(``render``: Athena SQL for lakeport, DuckDB SQL with Trino's meaning for the oracle), run on both sides
(``runners``) and compared as multisets of typed values (``compare``).
"""
