"""docs/tutorial.md cannot rot: every command it shows runs, in order, as a user would run it.

The tutorial's convention (stated at its top): a command is a line of a ```console block starting with ``$ ``
(a trailing ``\\`` continues it on the next line); other lines are sample output. ``# not run by the test`` at
the end skips a command (servers that run until Ctrl-C); ``# fails: TEXT`` says the command must exit with an
error whose output contains TEXT.

The commands run in one ``bash`` session — ``cd``, ``export`` and ``$(…)`` carry over as in a terminal — started
in a scratch copy of the checkout (only ``examples/``), with ``.venv/bin`` first on ``PATH``, no ``LAKEPORT_*``
(or AWS credential) variables, and ``TMPDIR`` inside the test's folder, so the tutorial's ``mktemp -d`` lands
there too. Each command's exit status and output are kept apart, so a failure names the command and its line.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TUTORIAL = REPO / "docs" / "tutorial.md"
CLI_REFERENCE = REPO / "docs" / "cli.md"
SKIP = re.compile(r"\s+#\s*not run by the test\b.*$")
FAILS = re.compile(r"\s+#\s*fails:\s*(?P<text>.+?)\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<path>[^)\s]+)\)")

# What key commands must print (a command is found by the start of its text; each must be in the tutorial).
EXPECTED: dict[str, tuple[str, ...]] = {
    "lakeport init spotify-lake": ("lake ready at",),
    "lakeport iam simulate --principal analyst --action athena:StartQueryExecution": ("allowed (Allow)",),
    "lakeport iam simulate --principal analyst --action s3:PutObject": ("denied (ImplicitDeny)",),
    "lakeport s3 ls s3://lakeport/staging/spotify/": ("spotify-albums_data_2023.csv", "spotify_tracks_data_2023.csv"),
    "lakeport jobs start spotify": ("SUCCEEDED", "spotify.tracks: snapshot"),
    "lakeport s3 ls --recursive s3://lakeport/warehouse/": (".parquet",),
    "lakeport crawler start spotify-staging": ("SUCCEEDED", "5 created"),
    "lakeport catalog tables spotify": ("ICEBERG", "spotify_tracks_data_2023_csv"),
    'lakeport query "SELECT artist_name, COUNT(track_id)': ("artist_name", "total_tracks", "10 rows"),
    "lakeport sql -d spotify": ("album_type", "single"),
    "lakeport -c iam.require_credentials=true query": ("tracks", "1 rows"),
    "lakeport audit --principal analyst": ("s3:PutObject", "ImplicitDeny"),
    "lakeport data-sets create": ("spotify-tracks", "spotify-artists"),
    "lakeport dashboards data spotify": ("artist_name", "followers"),
    "lakeport dashboards export spotify": ("wrote spotify-dashboard.html",),
    "lakeport sfn start spotify-pipeline": ("SUCCEEDED",),
    "tail -n 1 notifications/pipeline.jsonl": ("Spotify pipeline succeeded",),
    "lakeport rules describe spotify-new-staging-files": ("ENABLED", "spotify-pipeline"),
    "lakeport sfn executions spotify-pipeline": ("first-run", "SUCCEEDED"),
    "lakeport logs tail /lakeport/jobs/spotify": ("spotify.tracks",),
    "lakeport metrics get ExecutionsSucceeded": ("Sum",),
    "lakeport alarms list": ("spotify-job-failed",),
    "lakeport sns outbox": ("Spotify pipeline succeeded", "ALARM"),
}


@dataclass(frozen=True)
class Command:
    text: str  # as typed: continuation lines joined with their backslash-newlines, the marker comment removed
    line: int  # where it starts in docs/tutorial.md
    skip: bool
    fails: str | None  # the text its error must contain, when it must fail


def tutorial_commands(markdown: str) -> list[Command]:
    """The ``$ `` lines of the ```console blocks, in order, continuations joined."""
    commands: list[Command] = []
    lines = markdown.splitlines()
    in_console = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_console = not in_console and line.strip() == "```console"
            i += 1
            continue
        if in_console and line.startswith("$ "):
            start = i
            parts = [line[2:]]
            while parts[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                parts.append(lines[i])
            text = "\n".join(parts)
            fails = FAILS.search(text)
            skip = SKIP.search(text) is not None
            text = SKIP.sub("", FAILS.sub("", text))
            commands.append(Command(text, start + 1, skip, fails.group("text") if fails else None))
        i += 1
    return commands


def script_for(commands: list[Command], transcript: Path) -> str:
    """One bash script: each command's output to its own files, its status recorded; stop at the first surprise."""
    out = ["set -o pipefail"]
    for n, command in enumerate(commands):
        base = shlex.quote(str(transcript / f"{n:03d}"))
        out.append("started=$(date +%s%N)")
        out.append(f"{{\n{command.text}\n}} > {base}.out 2> {base}.err < /dev/null")
        out.append(f"status=$?; echo $status > {base}.rc; echo $(( ($(date +%s%N) - started) / 1000000 )) > {base}.ms")
        if command.fails is None:
            out.append("[ $status -eq 0 ] || exit 90")
        else:
            out.append("[ $status -ne 0 ] || exit 91")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def commands() -> list[Command]:
    return tutorial_commands(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_has_commands_and_the_expected_outputs_name_them(commands: list[Command]) -> None:
    assert len([c for c in commands if not c.skip]) >= 30
    for prefix in EXPECTED:
        assert any(c.text.startswith(prefix) and not c.skip for c in commands), f"no command starts with {prefix!r}"


def test_skipped_commands_exist_in_the_cli_reference(commands: list[Command]) -> None:
    """Commands the test does not run are still real: ``lakeport X [Y]`` has its section in docs/cli.md."""
    reference = CLI_REFERENCE.read_text(encoding="utf-8")
    for command in commands:
        if not command.skip or not command.text.startswith("lakeport "):
            continue
        words = [w for w in shlex.split(command.text, comments=True)[1:3] if not w.startswith("-")]
        assert words, command
        heading = " ".join(["lakeport", *words])
        assert f"## `{heading}`" in reference or f"## `lakeport {words[0]}`" in reference, command


def test_every_image_the_tutorial_shows_exists() -> None:
    images = [m.group("path") for m in IMAGE.finditer(TUTORIAL.read_text(encoding="utf-8"))]
    assert len(images) >= 10
    for image in images:
        assert (TUTORIAL.parent / image).is_file(), f"docs/tutorial.md shows {image}, which does not exist"


@pytest.mark.slow
def test_the_tutorial_runs_end_to_end(commands: list[Command], tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "examples", checkout / "examples")
    scratch = tmp_path / "tmp"
    transcript = tmp_path / "transcript"
    scratch.mkdir()
    transcript.mkdir()
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "lakeport").is_file(), f"no lakeport script beside {sys.executable}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAKEPORT_", "AWS_")) and k not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(scratch), COLUMNS="160")
    ran = [c for c in commands if not c.skip]
    script = tmp_path / "tutorial.sh"
    script.write_text(script_for(ran, transcript), encoding="utf-8")

    started = time.monotonic()
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", str(script)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started

    for n, command in enumerate(ran):
        base = transcript / f"{n:03d}"
        where = f"docs/tutorial.md:{command.line}: $ {command.text}"
        assert (base.with_suffix(".rc")).exists(), f"the session stopped before {where}\n{proc.stderr}"
        status = int(base.with_suffix(".rc").read_text())
        output = base.with_suffix(".out").read_text() + base.with_suffix(".err").read_text()
        if command.fails is None:
            assert status == 0, f"{where}\nexited {status}:\n{output}"
        else:
            assert status != 0, f"{where}\nshould have failed, but exited 0:\n{output}"
            assert command.fails in " ".join(output.split()), f"{where}\nfailed otherwise:\n{output}"
        for prefix, texts in EXPECTED.items():
            if command.text.startswith(prefix):
                for text in texts:
                    assert text in output, f"{where}\ndid not print {text!r}:\n{output}"
    assert proc.returncode == 0, proc.stderr
    slowest = sorted(((int((transcript / f"{n:03d}.ms").read_text()), c.text) for n, c in enumerate(ran)), reverse=True)
    print(f"the tutorial's {len(ran)} commands ran in {seconds:.1f} s; the slowest (ms):")
    for ms, text in slowest[:10]:
        print(f"  {ms:6d}  {text.splitlines()[0]}")
