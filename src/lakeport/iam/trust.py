"""Role trust policies: who may call ``sts:AssumeRole`` on a role (IAM users, roles, the account, AWS services)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from lakeport.iam.policy import Policy, Statement, parse_policy
from lakeport.iam.principal import ASSUMED_ROLE, SERVICE, Principal

ASSUME_ROLE = "sts:AssumeRole"
PASS_ROLE = "iam:PassRole"
GLUE_SERVICE = "glue.amazonaws.com"


def role_name_of(value: str) -> str:
    """A role's name from its name, ``role/<name>`` or its ARN (``arn:aws:iam::<account>:role/<path><name>``)."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value.removeprefix("role/")


def check_trust_policy(document: str | Mapping[str, Any], *, name: str) -> str:
    """The trust policy as stored (JSON text); MalformedPolicyDocument when it is not one."""
    parse_policy(document, name=name, kind="trust")
    return document if isinstance(document, str) else json.dumps(document, indent=2)


def _role_arn_of_session(principal: Principal, account_id: str) -> str | None:
    if principal.kind != ASSUMED_ROLE:
        return None
    return f"arn:aws:iam::{account_id}:role/{principal.name}"


def _names(principal: Principal, account_id: str, values: tuple[str, ...], ptype: str) -> tuple[bool, bool]:
    """(matches, matched only through the whole account) for one principal type's values."""
    if ptype == "Service":
        return (principal.kind == SERVICE and principal.arn in values), False
    if ptype != "AWS":
        return False, False
    if "*" in values:
        return True, True
    if principal.kind == SERVICE:
        return False, False
    own = {principal.arn}
    role = _role_arn_of_session(principal, account_id)
    if role is not None:
        own.add(role)
    if own & set(values):
        return True, False
    in_account = principal.arn.split(":")[4:5] == [account_id]
    whole_account = in_account and bool({account_id, f"arn:aws:iam::{account_id}:root"} & set(values))
    return whole_account, whole_account


def principal_matches(statement: Statement, principal: Principal, account_id: str) -> tuple[bool, bool]:
    """Does the statement's Principal (or NotPrincipal) cover ``principal``; and only via the account root?"""
    if statement.principal is not None:
        results = [_names(principal, account_id, ids, t) for t, ids in statement.principal.items()]
        matched = [r for r in results if r[0]]
        return bool(matched), bool(matched) and all(r[1] for r in matched)
    if statement.not_principal is not None:
        results = [_names(principal, account_id, ids, t) for t, ids in statement.not_principal.items()]
        return not any(r[0] for r in results), False
    return False, False


def trusted_statements(trust: Policy, principal: Principal, account_id: str) -> tuple[Policy, bool]:
    """The trust policy cut down to the statements naming ``principal`` (Resource ``*`` when none is given), and
    whether every Allow among them names it only through the account (so its identity policy must allow too)."""
    kept: list[Statement] = []
    via_account = True
    for statement in trust.statements:
        matched, account_only = principal_matches(statement, principal, account_id)
        if not matched:
            continue
        if statement.effect == "Allow" and not account_only:
            via_account = False
        if statement.resources is None and statement.not_resources is None:
            statement = dataclasses.replace(statement, resources=("*",))
        kept.append(dataclasses.replace(statement, principal=None, not_principal=None))
    return dataclasses.replace(trust, statements=tuple(kept)), via_account
