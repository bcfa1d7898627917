"""``lakeport iam`` and ``lakeport audit`` as a user runs them, the credentials mode, and secret hygiene: an access
key's secret appears in its one create output and the credentials file, and nowhere else.

``lakeport init`` and the credentials mode (keys in the environment or the lake's credentials file, the exit code,
the audit events a process writes as it exits) run as real processes; the other commands run in this process
(``main(argv)``, what the console script calls), their output captured at the file descriptors, each one closing
the lakes it opened as its process's exit would."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.context import CLIState
from lakeport.cli.main import main
from lakeport.errors import AccessDenied
from tests.conftest import REPO, run_cli

ANALYST = REPO / "examples" / "spotify" / "iam" / "analyst.json"
PRIMARY = "arn:aws:athena:us-east-1:000000000000:workgroup/primary"

Lakeport = Callable[..., tuple[int, str, str]]


@pytest.fixture
def lakeport(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Lakeport]:
    """``lakeport ARGS`` in this process: ``(exit code, stdout, stderr)``. The lakes a command opens (the iam
    commands leave theirs to the process's exit) are closed when it returns: its buffered audit events are
    written and its database handles released, so each call starts from the lake on disk like a new process."""
    opened: list[Lake] = []
    open_lake = CLIState.open_lake

    def tracked(self: CLIState) -> Lake:
        lake = open_lake(self)
        opened.append(lake)
        return lake

    monkeypatch.setattr(CLIState, "open_lake", tracked)

    def run(*argv: str, check: bool = True) -> tuple[int, str, str]:
        capfd.readouterr()
        try:
            code = main(list(argv))
        finally:
            while opened:
                opened.pop().close()
        out, err = capfd.readouterr()
        if check:
            assert code == 0, f"lakeport {' '.join(argv)} failed ({code}):\n{err}"
        return code, out, err

    yield run
    while opened:
        opened.pop().close()


def test_iam_commands_credentials_audit_and_secret_hygiene(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lakeport: Lakeport
) -> None:
    caplog.set_level(logging.DEBUG)
    lake = tmp_path / "lake"
    outputs: list[bytes] = []
    init = run_cli("init", str(lake))
    outputs += [init.stdout, init.stderr]
    credentials = lake / ".lakeport" / "credentials"
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    admin_secret = credentials.read_text().split("aws_secret_access_key = ")[1].strip()
    assert len(admin_secret) == 40

    def cli(*args: str, check: bool = True) -> tuple[int, str, str]:
        """In this process (the commands' behaviour and output)."""
        code, out, err = lakeport("--lake", str(lake), *args, check=check)
        outputs.extend((out.encode(), err.encode()))
        return code, out, err

    def process(*args: str, env: dict[str, str] | None = None, check: bool = True) -> tuple[int, str, str]:
        """A real ``lakeport`` process (its environment, its exit code, what it writes as it exits)."""
        proc = run_cli(*args, lake=lake, env=env, check=check)
        outputs.extend((proc.stdout, proc.stderr))
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    cli("iam", "create-user", "--user-name", "ann", "--tag", "team=data")
    _, created, _ = lakeport("--lake", str(lake), "iam", "create-access-key", "--user-name", "ann", "--output", "json")
    key = json.loads(created)["AccessKey"]
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    assert key_id.startswith("LKIA")
    assert len(secret) == 40
    cli("iam", "create-policy", "--policy-name", "analyst", "--policy-document", f"file://{ANALYST}")
    inline = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}'
    )
    cli("iam", "put-user-policy", "--user-name", "ann", "--policy-name", "no-deletes", "--policy-document", inline)
    cli("iam", "attach-user-policy", "--user-name", "ann", "--policy-arn", "arn:aws:iam::000000000000:policy/analyst")
    _, out, _ = cli("iam", "simulate", "--principal", "ann", "--action", "athena:StartQueryExecution",
                    "--resource", PRIMARY, "-o", "json")  # fmt: skip
    decided = json.loads(out)
    assert (decided["Decision"], decided["Statement"]) == ("Allow", "RunQueries")
    assert decided["Policy"] == "arn:aws:iam::000000000000:policy/analyst"
    _, out, _ = cli("iam", "simulate", "--principal", "ann", "--action", "s3:DeleteObject", "--resource", "*")
    assert "ExplicitDeny" in out
    assert "user/ann/no-deletes" in out
    code, _, err = cli("iam", "create-policy", "--policy-name", "bad", "--policy-document",
                       '{"Version": "2012-10-17", "Statement": [{"Sid": "X", "Effect": "Alow"}]}', check=False)  # fmt: skip
    assert code == 1
    assert "statement X" in err

    # credentials mode: the CLI is whoever the key says
    strict = ["-c", "iam.require_credentials=true"]
    as_ann = {"LAKEPORT_ACCESS_KEY_ID": key_id, "LAKEPORT_SECRET_ACCESS_KEY": secret}
    code, _, err = process(*strict, "iam", "list-users", env=as_ann, check=False)
    assert code == 1
    assert "user/ann is not authorized to perform: iam:ListUsers" in err
    assert len(err.strip().splitlines()) <= 2  # one line, and its hint
    code, _, err = process(*strict, "iam", "list-users", env={**as_ann, "LAKEPORT_SECRET_ACCESS_KEY": "x" * 40},
                           check=False)  # fmt: skip
    assert code == 1
    assert f"access key {key_id}" in err
    assert "not accepted" in err
    assert "hint" in err
    _, out, _ = process(*strict, "iam", "list-users", "-o", "json")  # the lake's credentials file: the administrator
    assert [u["UserName"] for u in json.loads(out)["Users"]] == ["admin", "ann"]
    _, out, _ = cli("iam", "list-access-keys", "--user-name", "ann", "-o", "json")
    listed = json.loads(out)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key_id]
    assert listed[0]["LastUsedDate"]

    # the audit trail holds ann's decisions (written when her process exited)
    _, out, _ = cli("audit", "--principal", "ann", "--decision", "Deny", "-o", "json")
    events = json.loads(out)["Events"]
    assert [(e["action"], e["decision"]) for e in events] == [("iam:ListUsers", "ImplicitDeny")]
    _, out, _ = cli("audit", "--since", "1h")
    assert "iam:ListUsers" in out

    cli("iam", "update-access-key", "--access-key-id", key_id, "--status", "Inactive")
    with Lake.open(lake) as opened:  # in this process too, with its logs captured
        with pytest.raises(AccessDenied):
            opened.iam.authenticate(key_id, secret)
        opened.iam.update_access_key(key_id, "Active")
        assert opened.iam.authenticate(key_id, secret).name == "ann"
        with pytest.raises(AccessDenied) as info:
            opened.iam.authenticate(key_id, secret[::-1])
        outputs.append(info.value.one_line().encode())

    # the secrets: nowhere but the one create output and the credentials file
    for path in lake.rglob("*"):
        if path.is_file() and path != credentials:
            data = path.read_bytes()
            assert secret.encode() not in data, path
            assert admin_secret.encode() not in data, path
    for text in [*outputs, caplog.text.encode()]:
        assert secret.encode() not in text
        assert admin_secret.encode() not in text
    assert (lake / "lakeport.db").stat().st_size > 0


def test_every_iam_command_answers_json(tmp_path: Path, lakeport: Lakeport) -> None:
    lake = tmp_path / "lake"
    lakeport("init", str(lake))

    def _json(*args: str) -> dict[str, Any]:
        _, out, _ = lakeport("--lake", str(lake), *args, "--output", "json")
        return json.loads(out)  # type: ignore[no-any-return]

    assert _json("iam", "create-group", "--group-name", "analysts")["Group"]["GroupName"] == "analysts"
    assert _json("iam", "create-user", "--user-name", "bob")["User"]["UserName"] == "bob"
    assert _json("iam", "add-user-to-group", "--group-name", "analysts", "--user-name", "bob")["ok"]
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    role = _json("iam", "create-role", "--role-name", "etl", "--assume-role-policy-document", trust)
    assert role["Role"]["Arn"] == "arn:aws:iam::000000000000:role/etl"
    etl = REPO / "examples" / "spotify" / "iam" / "etl-role.json"
    assert _json("iam", "put-role-policy", "--role-name", "etl", "--policy-name", "etl",
                 "--policy-document", f"file://{etl}")["ok"]  # fmt: skip
    assert _json("iam", "create-policy", "--policy-name", "a", "--policy-document", f"file://{ANALYST}")
    assert _json("iam", "attach-group-policy", "--group-name", "analysts", "--policy-arn", "a")["ok"]
    policies = _json("iam", "list-policies")["Policies"]
    assert [p["AttachmentCount"] for p in policies] == [1]
    assert _json("iam", "detach-group-policy", "--group-name", "analysts", "--policy-arn", "a")["ok"]
    found = _json("iam", "validate-policy", "--policy-document", f"file://{ANALYST}")
    assert found["valid"] is True
    users = _json("iam", "list-users")["Users"]
    assert [u["UserName"] for u in users] == ["admin", "bob"]


def test_roles_groups_inline_and_managed_policies_can_be_read_and_deleted(tmp_path: Path, lakeport: Lakeport) -> None:
    lake = Lake.init(tmp_path / "lake")
    root = lake.root
    lake.close()
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'

    def iam(*args: str) -> str:
        return lakeport("--lake", str(root), "iam", *args)[1]

    iam("create-role", "--role-name", "etl", "--assume-role-policy-document", trust)
    iam("put-role-policy", "--role-name", "etl", "--policy-name", "read", "--policy-document", doc)
    got = json.loads(iam("get-role-policy", "--role-name", "etl", "--policy-name", "read", "-o", "json"))
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    role = json.loads(iam("get-role", "--role-name", "etl", "-o", "json"))
    assert role["InlinePolicies"] == ["read"]
    iam("delete-role-policy", "--role-name", "etl", "--policy-name", "read")
    iam("delete-role", "--role-name", "etl")
    iam("create-group", "--group-name", "analysts")
    iam("delete-group", "--group-name", "analysts")
    iam("create-policy", "--policy-name", "p", "--policy-document", doc)
    iam("delete-policy", "--policy-arn", "p")
    with Lake.open(root) as check:
        assert check.iam.list_roles() == []
        assert check.iam.list_groups() == []
        assert [p.name for p in check.iam.list_policies()] == []
