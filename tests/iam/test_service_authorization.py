"""Every service operation is authorized: denied without a policy (naming the action and resource, changing nothing),
allowed with a least-privilege policy for exactly that action on that resource.

The table is ``tests/iam/authz_kit.OPERATIONS``; the catalog's operations are covered the same way by
``tests/catalog/test_catalog_access.py``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.iam import Principal
from tests.iam.authz_kit import (
    NOT_OPERATIONS,
    OPERATIONS,
    SERVICES,
    Operation,
    build_world,
    markdown_table,
    public_methods,
    state,
)


def _user(lake: Lake, name: str, grants: list[tuple[str, str]]) -> Lake:
    lake.iam.create_user(name)
    if grants:
        statements = [{"Effect": "Allow", "Action": action, "Resource": resource} for action, resource in grants]
        lake.iam.put_user_policy(name, "least", {"Version": "2012-10-17", "Statement": statements})
    return lake.as_principal(lake.iam.resolve(name))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_public_operation_has_an_authorization_case(local_lake: Lake, service: str) -> None:
    methods = public_methods(SERVICES[service](local_lake))
    covered = {op.method for op in OPERATIONS if op.service == service} | set(NOT_OPERATIONS[service])
    assert sorted(methods - covered) == [], f"add these {service} operations to tests/iam/authz_kit.py"
    assert sorted(covered - methods) == [], "entries for methods that do not exist"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.id)
def test_denied_without_permission_changing_nothing_and_allowed_with_exactly_that_permission(
    local_lake: Lake, tmp_path: Path, op: Operation
) -> None:
    """One world per operation: a user with no policy is denied (naming the action and resource, nothing
    changes); then a user whose only policy grants that action on that resource may call it."""
    world = build_world(local_lake, tmp_path, op.needs)
    before = state(local_lake)
    nobody = _user(local_lake, "nobody", [])
    with pytest.raises(AccessDenied) as info:
        op.call(nobody, world)
    message = info.value.message
    assert f"User: {nobody.principal.arn} is not authorized to perform: {op.action} on resource: {op.arn()}" in message
    after = state(local_lake)
    after["users"] = [u for u in after["users"] if u[0] != "nobody"]
    assert after == before

    allowed = _user(local_lake, "allowed", op.grants())
    with contextlib.suppress(*op.settles):  # authorized; the state (a finished run) may still say no
        op.call(allowed, world)


def test_the_denial_is_recorded_in_the_audit_trail(local_lake: Lake) -> None:
    nobody = _user(local_lake, "nobody", [])
    with pytest.raises(AccessDenied):
        nobody.iam.create_user("intruder")
    events = local_lake.iam.lookup_events(principal="nobody", action="iam:CreateUser")
    assert [(e.resource, e.decision) for e in events] == [("arn:aws:iam::000000000000:user/intruder", "ImplicitDeny")]
    assert local_lake.iam.find_user("intruder") is None


def test_an_iam_view_shares_the_policy_cache_and_sees_changes_at_once(local_lake: Lake) -> None:
    manager = _user(local_lake, "manager", [("iam:PutUserPolicy", "arn:aws:iam::000000000000:user/ann")])
    local_lake.iam.create_user("ann")
    ann = local_lake.iam.resolve("ann")
    assert not local_lake.iam.simulate(ann, "s3:GetObject", "*").allowed
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    manager.iam.put_user_policy("ann", "read", doc)
    local_lake.iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/k")  # no stale cache in the admin's IAM
    assert isinstance(manager.iam.caller, Principal)


def test_docs_list_every_operation_from_this_table() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "iam.md").read_text(encoding="utf-8")
    assert markdown_table() in docs, "regenerate docs/iam.md's table: python -m tests.iam.authz_kit"
