"""Worker processes for long work: ``python -m lakeport.worker crawl|job|execution LAKE NAME RUN ARN``.

A worker opens the lake, acts as the principal that started the work and carries out a run that is already
recorded as RUNNING; the run's record (state, summary, error, log stream) is the only output. For a state
machine execution, NAME is the execution's ARN and RUN the runner it takes the execution over from.
"""

from __future__ import annotations

import sys

from lakeport.iam import Principal
from lakeport.lake import Lake


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[0] not in ("crawl", "job", "execution"):
        print("usage: python -m lakeport.worker crawl|job|execution LAKE NAME RUN_ID PRINCIPAL_ARN", file=sys.stderr)
        return 2
    kind, root, name, run_id, arn = argv
    with Lake.open(root) as lake:
        acting = lake.as_principal(Principal(arn=arn, name=arn.rsplit("/", 1)[-1]))
        if kind == "execution":
            execution = acting.states.run_claimed(name, run_id)
            return 0 if execution.status == "SUCCEEDED" else 1
        if kind == "crawl":
            crawlers = acting.crawlers
            crawlers.execute_run(crawlers.get_crawler(name).definition, run_id)
        else:
            run = acting.jobs.execute_run(name, run_id)
            return 0 if run.state == "SUCCEEDED" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
