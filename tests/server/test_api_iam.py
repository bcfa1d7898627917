"""``/api/v1/iam`` over a real lake: users, groups, a managed policy attached, an inline policy, an access key whose
secret is shown once and works, the simulator, the audit log; a user without IAM rights changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

IAM = "/api/v1/iam"
READ_CATALOG = _allow("glue:GetDatabases")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("iam") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_users_groups_policies_and_keys(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "root-ish", _allow("iam:*", "cloudtrail:LookupEvents"))
    assert (
        client.post(f"{IAM}/users", json={"UserName": "dana", "Tags": {"team": "data"}}, auth=auth).status_code == 200
    )
    assert client.get(f"{IAM}/users/dana", auth=auth).json()["User"]["Tags"] == [{"Key": "team", "Value": "data"}]
    assert "dana" in [u["UserName"] for u in client.get(f"{IAM}/users", auth=auth).json()["Users"]]
    assert client.post(f"{IAM}/groups", json={"GroupName": "analysts"}, auth=auth).status_code == 200
    assert client.put(f"{IAM}/groups/analysts/users/dana", auth=auth).status_code == 200
    assert client.get(f"{IAM}/groups/analysts", auth=auth).json()["UserNames"] == ["dana"]
    assert client.get(f"{IAM}/users/dana/groups", auth=auth).json()["GroupNames"] == ["analysts"]

    policy = client.post(
        f"{IAM}/policies", json={"PolicyName": "read-catalog", "PolicyDocument": READ_CATALOG}, auth=auth
    )
    assert policy.status_code == 200, policy.text
    assert client.put(f"{IAM}/groups/analysts/attached-policies/read-catalog", auth=auth).status_code == 200
    assert client.get(f"{IAM}/groups/analysts/attached-policies", auth=auth).json()["AttachedPolicies"]
    assert client.get(f"{IAM}/policies/read-catalog", auth=auth).json()["Policy"]["AttachmentCount"] == 1

    inline = client.put(
        f"{IAM}/users/dana/policies/queries", json={"PolicyDocument": _allow("athena:ListWorkGroups")}, auth=auth
    )
    assert inline.status_code == 200, inline.text
    assert client.get(f"{IAM}/users/dana/policies", auth=auth).json()["PolicyNames"] == ["queries"]
    assert "athena:ListWorkGroups" in str(client.get(f"{IAM}/users/dana/policies/queries", auth=auth).json())

    key = client.post(f"{IAM}/users/dana/access-keys", auth=auth).json()["AccessKey"]
    assert key["SecretAccessKey"]
    listed = client.get(f"{IAM}/users/dana/access-keys", auth=auth).json()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in listed[0]  # shown once, never again
    dana = (key["AccessKeyId"], key["SecretAccessKey"])
    assert client.get("/api/v1/catalog/databases", auth=dana).status_code == 200  # through the group's policy
    assert client.get("/api/v1/queries/workgroups", auth=dana).status_code == 200  # through the inline policy
    assert client.get(f"{IAM}/users", auth=dana).status_code == 403

    decision = client.post(
        f"{IAM}/simulate", json={"Principal": "dana", "Action": "glue:GetDatabases", "Resource": "*"}, auth=auth
    ).json()
    assert decision["Allowed"] is True
    assert decision["Policy"].endswith("policy/read-catalog")
    denied = client.post(f"{IAM}/simulate", json={"Principal": "dana", "Action": "s3:PutObject"}, auth=auth).json()
    assert denied["Decision"] == "ImplicitDeny"

    events = client.get(f"{IAM}/audit", params={"principal": "dana", "action": "iam:ListUsers"}, auth=auth).json()
    assert [(e["action"], e["decision"]) for e in events["Events"]] == [("iam:ListUsers", "ImplicitDeny")]
    assert client.get(f"{IAM}/audit", params={"limit": 1}, auth=auth).json()["nextToken"]

    assert client.delete(f"{IAM}/users/dana/policies/queries", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/groups/analysts/attached-policies/read-catalog", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/users/dana/access-keys/{key['AccessKeyId']}", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/groups/analysts/users/dana", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/groups/analysts", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/policies/read-catalog", auth=auth).status_code == 200
    assert client.delete(f"{IAM}/users/dana", auth=auth).status_code == 200
    assert client.get(f"{IAM}/users/dana", auth=auth).status_code == 404


def test_roles(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "role-admin", _allow("iam:*"))
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    created = client.post(
        f"{IAM}/roles", json={"RoleName": "crawler-role", "AssumeRolePolicyDocument": trust}, auth=auth
    )
    assert created.status_code == 200, created.text
    assert client.get(f"{IAM}/roles/crawler-role", auth=auth).json()["Role"]["AssumeRolePolicyDocument"] == trust
    assert "crawler-role" in [r["RoleName"] for r in client.get(f"{IAM}/roles", auth=auth).json()["Roles"]]
    assert client.delete(f"{IAM}/roles/crawler-role", auth=auth).status_code == 200


def test_a_user_without_iam_rights_changes_nothing(client: TestClient, lake: Lake) -> None:
    eve = _user(lake, "eve", _allow("iam:ListUsers"))
    denied = client.post(f"{IAM}/users/eve/access-keys", auth=eve)
    assert denied.status_code == 403
    assert "iam:CreateAccessKey" in denied.json()["error"]["message"]
    assert len(lake.iam.list_access_keys("eve")) == 1  # nothing changed
    escalate = client.put(f"{IAM}/users/eve/policies/all", json={"PolicyDocument": _allow("*")}, auth=eve)
    assert escalate.status_code == 403
    assert "iam:PutUserPolicy" in escalate.json()["error"]["message"]
    assert lake.iam.list_inline_policies("user", "eve") == ["inline"]
