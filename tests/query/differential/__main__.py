"""Reproduce generated queries: ``python -m tests.query.differential SEED [SEED …] [--tlp] [--run]``.

Builds the test data in a temporary folder (as the test session does), prints each seed's Athena SQL and the
oracle's DuckDB SQL, and with ``--run`` checks it as the tests do and prints what differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.query.differential.queries import QueryGenerator
from tests.query.differential.render import ATHENA, ORACLE
from tests.query.differential.runners import Checker
from tests.query.differential.world import build_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.query.differential", description=__doc__)
    parser.add_argument("seeds", nargs="+", type=int)
    parser.add_argument("--tlp", action="store_true", help="the seeds are TLP cases (Q and its predicate)")
    parser.add_argument("--run", action="store_true", help="check them against the oracle too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakeport-differential-") as tmp:
        world = build_world(Path(tmp))
        checker = Checker(world)
        try:
            for seed in args.seeds:
                generator = QueryGenerator(world.stats, world.sizes, seed)
                if args.tlp:
                    case = generator.tlp()
                    print(f"-- seed {seed}: Q\n{ATHENA.query(case.query)}\n-- p\n{ATHENA.expr(case.predicate)}")
                    print(f"-- oracle\n{ORACLE.query(case.query)}\n-- p\n{ORACLE.expr(case.predicate)}\n")
                    if args.run:
                        checker.check_tlp(case, f"TLP seed {seed}")
                    continue
                query = generator.query()
                print(f"-- seed {seed}\n{ATHENA.query(query)}\n-- oracle\n{ORACLE.query(query)}\n")
                if args.run:
                    checker.check(query, f"seed {seed}")
        finally:
            checker.close()
            world.close()
    for failure in checker.failures:
        print(failure, end="\n\n")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
