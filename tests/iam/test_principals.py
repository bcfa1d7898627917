"""The principals store: users, groups, roles, managed and inline policies, attachments (IAM's API)."""

from __future__ import annotations

import json

import pytest

from lakeport import Lake
from lakeport.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from lakeport.iam import IAM

READ = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::lakeport/*"}]}  # fmt: skip
TRUST_GLUE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}  # fmt: skip


def test_init_registers_the_administrator(local_lake: Lake) -> None:
    admin = local_lake.iam.get_user("admin")
    assert admin.arn == "arn:aws:iam::000000000000:user/admin" == local_lake.iam.admin.arn
    assert admin.user_id.startswith("AIDA")
    assert len(admin.user_id) == 20


def test_users_create_get_list_delete(local_lake: Lake) -> None:
    iam = local_lake.iam
    ann = iam.create_user("ann", path="/analysts/", tags={"team": "data"})
    assert ann.arn == "arn:aws:iam::000000000000:user/analysts/ann"
    assert iam.get_user("ann").tags == {"team": "data"}
    assert [u.name for u in iam.list_users()] == ["admin", "ann"]
    assert [u.name for u in iam.list_users(path_prefix="/analysts/")] == ["ann"]
    with pytest.raises(EntityAlreadyExists):
        iam.create_user("ann")
    with pytest.raises(InvalidInput):
        iam.create_user("no spaces")
    iam.delete_user("ann")
    with pytest.raises(NoSuchEntity) as info:
        iam.get_user("ann")
    assert info.value.code == "NoSuchEntity"
    assert "ann" in info.value.message


def test_a_user_with_keys_policies_or_groups_cannot_be_deleted(local_lake: Lake) -> None:
    iam = local_lake.iam
    iam.create_user("ann")
    iam.create_group("analysts")
    iam.add_user_to_group("analysts", "ann")
    iam.put_user_policy("ann", "read", READ)
    key = iam.create_access_key("ann")
    with pytest.raises(DeleteConflict) as info:
        iam.delete_user("ann")
    assert "access keys" in info.value.message
    assert "inline policies" in info.value.message
    iam.delete_access_key(key.key.id)
    iam.delete_inline_policy("user", "ann", "read")
    iam.remove_user_from_group("analysts", "ann")
    iam.delete_user("ann")


def test_groups_and_membership(local_lake: Lake) -> None:
    iam = local_lake.iam
    iam.create_user("ann")
    iam.create_user("bob")
    iam.create_group("analysts")
    iam.add_user_to_group("analysts", "ann")
    iam.add_user_to_group("analysts", "ann")  # idempotent, as AWS
    iam.add_user_to_group("analysts", "bob")
    assert iam.group_members("analysts") == ["ann", "bob"]
    assert iam.groups_for_user("ann") == ["analysts"]
    with pytest.raises(NoSuchEntity):
        iam.add_user_to_group("nobody", "ann")
    with pytest.raises(NoSuchEntity):
        iam.add_user_to_group("analysts", "nobody")
    iam.delete_group("analysts")
    assert iam.groups_for_user("ann") == []


def test_roles_keep_their_trust_policy(local_lake: Lake) -> None:
    iam = local_lake.iam
    role = iam.create_role("etl", TRUST_GLUE, description="the Spotify job", tags={"team": "etl"})
    assert role.arn == "arn:aws:iam::000000000000:role/etl"
    assert role.to_dict()["AssumeRolePolicyDocument"] == TRUST_GLUE
    assert [r.name for r in iam.list_roles()] == ["etl"]
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    with pytest.raises(InvalidInput) as info:
        iam.create_role("broken", bad)
    assert info.value.code == "MalformedPolicyDocument"
    iam.delete_role("etl")
    with pytest.raises(NoSuchEntity):
        iam.get_role("etl")


def test_managed_policies_versions_and_attachments(local_lake: Lake) -> None:
    iam = local_lake.iam
    policy = iam.create_policy("read", READ, description="read the lake")
    assert policy.arn == "arn:aws:iam::000000000000:policy/read"
    assert policy.default_version == "v1"
    assert json.loads(policy.document) == READ
    with pytest.raises(EntityAlreadyExists):
        iam.create_policy("read", READ)
    iam.create_user("ann")
    iam.attach_user_policy("ann", policy.arn)
    iam.attach_user_policy("ann", "read")  # by name too; idempotent
    assert iam.attached_policies("user", "ann") == ["read"]
    assert iam.get_policy(policy.arn).attachments == 1
    with pytest.raises(DeleteConflict):
        iam.delete_policy("read")
    wider = {**READ, "Statement": [{**READ["Statement"][0], "Action": "s3:Get*"}]}  # type: ignore[dict-item]
    assert iam.create_policy_version("read", wider) == "v2"
    assert json.loads(iam.get_policy("read").document) == wider
    iam.detach_user_policy("ann", "read")
    with pytest.raises(NoSuchEntity):
        iam.detach_user_policy("ann", "read")
    iam.delete_policy("read")
    assert iam.list_policies() == []


def test_a_malformed_policy_is_refused_naming_statement_and_field(local_lake: Lake) -> None:
    iam = local_lake.iam
    bad = {"Version": "2012-10-17", "Statement": [{"Sid": "Oops", "Effect": "Alow", "Action": "s3:GetObject",
                                                   "Resource": "*"}]}  # fmt: skip
    with pytest.raises(InvalidInput) as info:
        iam.create_policy("bad", bad)
    assert info.value.code == "MalformedPolicyDocument"
    assert "Oops" in info.value.message
    assert "Effect" in info.value.message
    iam.create_user("ann")
    with pytest.raises(InvalidInput):
        iam.put_user_policy("ann", "bad", bad)
    assert iam.list_inline_policies("user", "ann") == []


def test_inline_policies_put_replace_get_delete(local_lake: Lake) -> None:
    iam = local_lake.iam
    iam.create_role("etl", TRUST_GLUE)
    iam.put_role_policy("etl", "read", READ)
    iam.put_role_policy("etl", "read", json.dumps(READ))  # replaces
    assert json.loads(iam.get_inline_policy("role", "etl", "read")) == READ
    assert iam.list_inline_policies("role", "etl") == ["read"]
    with pytest.raises(DeleteConflict):
        iam.delete_role("etl")
    iam.delete_inline_policy("role", "etl", "read")
    with pytest.raises(NoSuchEntity):
        iam.get_inline_policy("role", "etl", "read")


def test_limits_on_attached_policies(local_lake: Lake) -> None:
    iam = local_lake.iam
    iam.create_user("ann")
    for i in range(10):
        iam.create_policy(f"p{i}", READ)
        iam.attach_user_policy("ann", f"p{i}")
    iam.create_policy("p10", READ)
    with pytest.raises(LimitExceeded):
        iam.attach_user_policy("ann", "p10")


def test_the_store_is_shared_by_every_process_that_opens_the_lake(local_lake: Lake) -> None:
    local_lake.iam.create_user("ann")
    with Lake.open(local_lake.root) as other:
        assert other.iam.get_user("ann").arn.endswith(":user/ann")


def test_an_iam_without_a_database_still_decides_for_the_admin() -> None:
    iam = IAM("000000000000", "admin")
    iam.authorize(iam.admin, "s3:GetObject", "arn:aws:s3:::b/k")
    with pytest.raises(Exception, match="metadata database"):
        iam.create_user("ann")
