"""``lakeport iam`` and ``lakeport audit`` as a user runs them, the credentials mode, and secret hygiene: an access
key's secret appears in its one create output and the credentials file, and nowhere else."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from tests.conftest import REPO, run_cli

ANALYST = REPO / "examples" / "spotify" / "iam" / "analyst.json"
PRIMARY = "arn:aws:athena:us-east-1:000000000000:workgroup/primary"


def _json(*args: str, lake: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = run_cli(*args, "--output", "json", lake=lake, env=env)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_iam_commands_credentials_audit_and_secret_hygiene(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lake = tmp_path / "lake"
    outputs: list[bytes] = []
    init = run_cli("init", str(lake))
    outputs += [init.stdout, init.stderr]
    credentials = lake / ".lakeport" / "credentials"
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    admin_secret = credentials.read_text().split("aws_secret_access_key = ")[1].strip()
    assert len(admin_secret) == 40

    def cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> tuple[int, str, str]:
        proc = run_cli(*args, lake=lake, env=env, check=check)
        outputs.extend((proc.stdout, proc.stderr))
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    cli("iam", "create-user", "--user-name", "ann", "--tag", "team=data")
    created = run_cli("iam", "create-access-key", "--user-name", "ann", "--output", "json", lake=lake)
    key = json.loads(created.stdout)["AccessKey"]
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
    code, _, err = cli(*strict, "iam", "list-users", env=as_ann, check=False)
    assert code == 1
    assert "user/ann is not authorized to perform: iam:ListUsers" in err
    assert len(err.strip().splitlines()) <= 2  # one line, and its hint
    code, _, err = cli(*strict, "iam", "list-users", env={**as_ann, "LAKEPORT_SECRET_ACCESS_KEY": "x" * 40},
                       check=False)  # fmt: skip
    assert code == 1
    assert f"access key {key_id}" in err
    assert "not accepted" in err
    assert "hint" in err
    _, out, _ = cli(*strict, "iam", "list-users", "-o", "json")  # the lake's credentials file: the administrator
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


def test_every_iam_command_answers_json(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    assert _json("iam", "create-group", "--group-name", "analysts", lake=lake)["Group"]["GroupName"] == "analysts"
    assert _json("iam", "create-user", "--user-name", "bob", lake=lake)["User"]["UserName"] == "bob"
    assert _json("iam", "add-user-to-group", "--group-name", "analysts", "--user-name", "bob", lake=lake)["ok"]
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    role = _json("iam", "create-role", "--role-name", "etl", "--assume-role-policy-document", trust, lake=lake)
    assert role["Role"]["Arn"] == "arn:aws:iam::000000000000:role/etl"
    etl = REPO / "examples" / "spotify" / "iam" / "etl-role.json"
    assert _json("iam", "put-role-policy", "--role-name", "etl", "--policy-name", "etl",
                 "--policy-document", f"file://{etl}", lake=lake)["ok"]  # fmt: skip
    assert _json("iam", "create-policy", "--policy-name", "a", "--policy-document", f"file://{ANALYST}", lake=lake)
    assert _json("iam", "attach-group-policy", "--group-name", "analysts", "--policy-arn", "a", lake=lake)["ok"]
    policies = _json("iam", "list-policies", lake=lake)["Policies"]
    assert [p["AttachmentCount"] for p in policies] == [1]
    assert _json("iam", "detach-group-policy", "--group-name", "analysts", "--policy-arn", "a", lake=lake)["ok"]
    found = _json("iam", "validate-policy", "--policy-document", f"file://{ANALYST}", lake=lake)
    assert found["valid"] is True
    users = _json("iam", "list-users", lake=lake)["Users"]
    assert [u["UserName"] for u in users] == ["admin", "bob"]


def test_roles_groups_inline_and_managed_policies_can_be_read_and_deleted(tmp_path: Path) -> None:
    lake = Lake.init(tmp_path / "lake")
    root = lake.root
    lake.close()
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    run_cli("iam", "create-role", "--role-name", "etl", "--assume-role-policy-document", trust, lake=root)
    run_cli(
        "iam", "put-role-policy", "--role-name", "etl", "--policy-name", "read", "--policy-document", doc, lake=root
    )
    got = json.loads(
        run_cli("iam", "get-role-policy", "--role-name", "etl", "--policy-name", "read", "-o", "json", lake=root).stdout
    )
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    role = json.loads(run_cli("iam", "get-role", "--role-name", "etl", "-o", "json", lake=root).stdout)
    assert role["InlinePolicies"] == ["read"]
    run_cli("iam", "delete-role-policy", "--role-name", "etl", "--policy-name", "read", lake=root)
    run_cli("iam", "delete-role", "--role-name", "etl", lake=root)
    run_cli("iam", "create-group", "--group-name", "analysts", lake=root)
    run_cli("iam", "delete-group", "--group-name", "analysts", lake=root)
    run_cli("iam", "create-policy", "--policy-name", "p", "--policy-document", doc, lake=root)
    run_cli("iam", "delete-policy", "--policy-arn", "p", lake=root)
    with Lake.open(root) as check:
        assert check.iam.list_roles() == []
        assert check.iam.list_groups() == []
        assert [p.name for p in check.iam.list_policies()] == []
