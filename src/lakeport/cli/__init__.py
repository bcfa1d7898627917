"""The ``lakeport`` command line: one module per command group; each command parses, calls one service, renders."""
