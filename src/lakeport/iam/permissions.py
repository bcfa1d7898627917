"""Identity policies: managed policies (with versions), their attachments, and inline policies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from lakeport.errors import DeleteConflict, InvalidInput, LimitExceeded, NoSuchEntity
from lakeport.iam.policy import parse_policy
from lakeport.iam.schema import (
    iam_attachments,
    iam_group_members,
    iam_groups,
    iam_inline_policies,
    iam_policies,
    iam_policy_versions,
    iam_roles,
    iam_users,
)
from lakeport.iam.store import Store, check_entity_name, check_path, new_id
from lakeport.metadata.times import iso, now, utc

KINDS = {"user": iam_users, "group": iam_groups, "role": iam_roles}
MAX_VERSIONS = 5
MAX_ATTACHED = 10


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    policy_id: str
    arn: str
    path: str
    default_version: str
    document: str
    created: datetime
    updated: datetime
    description: str | None = None
    attachments: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "PolicyName": self.name,
            "PolicyId": self.policy_id,
            "Arn": self.arn,
            "Path": self.path,
            "DefaultVersionId": self.default_version,
            "AttachmentCount": self.attachments,
            "Description": self.description,
            "CreateDate": iso(self.created),
            "UpdateDate": iso(self.updated),
            "PolicyDocument": json.loads(self.document),
        }


def policy_text(document: str | Mapping[str, Any], name: str) -> str:
    """The document as stored (JSON text), after checking it parses: MalformedPolicyDocument otherwise."""
    parse_policy(document, name=name)
    return document if isinstance(document, str) else json.dumps(document, indent=2)


def _kind(kind: str) -> Any:
    if kind not in KINDS:
        raise InvalidInput(f"principal type {kind!r} is not one of user, group, role")
    return KINDS[kind]


def _require(conn: Connection, kind: str, name: str) -> None:
    table = _kind(kind)
    if conn.execute(select(table.c.name).where(table.c.name == name)).first() is None:
        raise NoSuchEntity(f"the {kind} with name {name} cannot be found", hint=f"list them: lakeport iam list-{kind}s")


class Permissions(Store):
    """CreatePolicy/GetPolicy/ListPolicies/DeletePolicy/CreatePolicyVersion, Attach*/Detach*, Put*/Get*/Delete*Policy."""

    def policy_name(self, name_or_arn: str) -> str:
        """A managed policy's name from its name or its ARN (``arn:aws:iam::<account>:policy/<path><name>``)."""
        if name_or_arn.startswith("arn:"):
            if ":policy/" not in name_or_arn:
                raise InvalidInput(f"{name_or_arn} is not a managed policy ARN")
            return name_or_arn.rsplit("/", 1)[1]
        return name_or_arn

    def _check_on(self, kind: str, principal_name: str, action: str) -> None:
        """``action`` with the kind filled in (``Attach{}Policy`` → ``AttachUserPolicy``) on that entity's ARN."""
        _kind(kind)
        self._check(action.format(kind.capitalize()), self.entity_arn(kind, principal_name))

    # ---- managed policies

    def create_policy(
        self, name: str, document: str | Mapping[str, Any], *, path: str = "/", description: str | None = None
    ) -> ManagedPolicy:
        check_entity_name("policy", name, 128)
        check_path(path)
        self._check("CreatePolicy", self.arn("policy", name, path))
        text = policy_text(document, name)
        created = now()

        def work(conn: Connection) -> None:
            conn.execute(
                iam_policies.insert().values(
                    name=name,
                    policy_id=new_id("ANPA"),
                    arn=self.arn("policy", name, path),
                    path=path,
                    description=description,
                    default_version="v1",
                    created_at=created,
                    updated_at=created,
                )
            )
            conn.execute(iam_policy_versions.insert().values(policy_name=name, version_id="v1", document=text,
                                                             created_at=created))  # fmt: skip

        self._write(work, exists=f"a policy called {name} already exists")
        return self._load_policy(name)

    def get_policy(self, name_or_arn: str) -> ManagedPolicy:
        name = self.policy_name(name_or_arn)
        self._check("GetPolicy", self.entity_arn("policy", name))
        return self._load_policy(name)

    def _load_policy(self, name: str) -> ManagedPolicy:
        with self.db.read() as conn:
            row = conn.execute(select(iam_policies).where(iam_policies.c.name == name)).first()
            if row is None:
                raise NoSuchEntity(
                    f"policy {self.arn('policy', name)} does not exist", hint="list them: lakeport iam list-policies"
                )
            document = conn.execute(
                select(iam_policy_versions.c.document).where(
                    (iam_policy_versions.c.policy_name == name)
                    & (iam_policy_versions.c.version_id == row.default_version)
                )
            ).scalar_one()
            count = conn.execute(
                select(func.count()).select_from(iam_attachments).where(iam_attachments.c.policy_name == name)
            ).scalar_one()
        return ManagedPolicy(
            row.name, row.policy_id, row.arn, row.path, row.default_version, document, utc(row.created_at),
            utc(row.updated_at), row.description, int(count),
        )  # fmt: skip

    def list_policies(self) -> list[ManagedPolicy]:
        self._check("ListPolicies", "*")
        with self.db.read() as conn:
            names = list(conn.execute(select(iam_policies.c.name).order_by(iam_policies.c.name)).scalars())
        return [self._load_policy(n) for n in names]

    def create_policy_version(
        self, name_or_arn: str, document: str | Mapping[str, Any], *, set_as_default: bool = True
    ) -> str:
        """A new version (v2, v3 …; at most five are kept, as AWS); returns its id."""
        name = self.policy_name(name_or_arn)
        self._check("CreatePolicyVersion", self.entity_arn("policy", name))
        text = policy_text(document, name)

        def work(conn: Connection) -> str:
            self._policy_row(conn, name)
            versions = list(
                conn.execute(
                    select(iam_policy_versions.c.version_id).where(iam_policy_versions.c.policy_name == name)
                ).scalars()
            )
            if len(versions) >= MAX_VERSIONS:
                raise LimitExceeded(
                    f"policy {name} already has {MAX_VERSIONS} versions", hint="delete a non-default version first"
                )
            version = f"v{max(int(v[1:]) for v in versions) + 1}"
            stamp = now()
            conn.execute(iam_policy_versions.insert().values(policy_name=name, version_id=version, document=text,
                                                             created_at=stamp))  # fmt: skip
            if set_as_default:
                conn.execute(
                    iam_policies.update()
                    .where(iam_policies.c.name == name)
                    .values(default_version=version, updated_at=stamp)
                )
            return version

        return self._write(work)

    def delete_policy(self, name_or_arn: str) -> None:
        name = self.policy_name(name_or_arn)
        self._check("DeletePolicy", self.entity_arn("policy", name))

        def work(conn: Connection) -> None:
            self._policy_row(conn, name)
            attached = conn.execute(
                select(func.count()).select_from(iam_attachments).where(iam_attachments.c.policy_name == name)
            ).scalar_one()
            if attached:
                raise DeleteConflict(
                    f"cannot delete policy {name}: it is attached to {attached} entities", hint="detach it first"
                )
            conn.execute(delete(iam_policy_versions).where(iam_policy_versions.c.policy_name == name))
            conn.execute(delete(iam_policies).where(iam_policies.c.name == name))

        self._write(work)

    def _policy_row(self, conn: Connection, name: str) -> None:
        if conn.execute(select(iam_policies.c.name).where(iam_policies.c.name == name)).first() is None:
            raise NoSuchEntity(f"policy {self.arn('policy', name)} does not exist")

    # ---- attachments

    def attach_policy(self, kind: str, principal_name: str, policy: str) -> None:
        """AttachUserPolicy / AttachGroupPolicy / AttachRolePolicy (``kind``: user, group, role)."""
        name = self.policy_name(policy)
        self._check_on(kind, principal_name, "Attach{}Policy")

        def work(conn: Connection) -> None:
            _require(conn, kind, principal_name)
            self._policy_row(conn, name)
            mine = (iam_attachments.c.principal_type == kind) & (iam_attachments.c.principal_name == principal_name)
            current = set(conn.execute(select(iam_attachments.c.policy_name).where(mine)).scalars())
            if name in current:
                return
            if len(current) >= MAX_ATTACHED:
                raise LimitExceeded(f"{kind} {principal_name} already has {MAX_ATTACHED} managed policies attached")
            conn.execute(iam_attachments.insert().values(principal_type=kind, principal_name=principal_name,
                                                         policy_name=name))  # fmt: skip

        self._write(work)

    def detach_policy(self, kind: str, principal_name: str, policy: str) -> None:
        name = self.policy_name(policy)
        self._check_on(kind, principal_name, "Detach{}Policy")

        def work(conn: Connection) -> None:
            _require(conn, kind, principal_name)
            gone = conn.execute(
                delete(iam_attachments).where(
                    (iam_attachments.c.principal_type == kind)
                    & (iam_attachments.c.principal_name == principal_name)
                    & (iam_attachments.c.policy_name == name)
                )
            ).rowcount
            if not gone:
                raise NoSuchEntity(f"policy {self.arn('policy', name)} is not attached to {kind} {principal_name}")

        self._write(work)

    def attached_policies(self, kind: str, principal_name: str) -> list[str]:
        self._check_on(kind, principal_name, "ListAttached{}Policies")
        with self.db.read() as conn:
            _require(conn, kind, principal_name)
            return list(
                conn.execute(
                    select(iam_attachments.c.policy_name)
                    .where(
                        (iam_attachments.c.principal_type == kind)
                        & (iam_attachments.c.principal_name == principal_name)
                    )
                    .order_by(iam_attachments.c.policy_name)
                ).scalars()
            )

    # ---- inline policies

    def put_inline_policy(
        self, kind: str, principal_name: str, policy_name: str, document: str | Mapping[str, Any]
    ) -> None:
        """PutUserPolicy / PutGroupPolicy / PutRolePolicy: create or replace."""
        check_entity_name("policy", policy_name, 128)
        self._check_on(kind, principal_name, "Put{}Policy")
        text = policy_text(document, policy_name)
        key = {"principal_type": kind, "principal_name": principal_name, "policy_name": policy_name}

        def work(conn: Connection) -> None:
            _require(conn, kind, principal_name)
            conn.execute(delete(iam_inline_policies).where(_inline(key)))
            conn.execute(iam_inline_policies.insert().values(**key, document=text))

        self._write(work)

    def get_inline_policy(self, kind: str, principal_name: str, policy_name: str) -> str:
        self._check_on(kind, principal_name, "Get{}Policy")
        key = {"principal_type": kind, "principal_name": principal_name, "policy_name": policy_name}
        with self.db.read() as conn:
            _require(conn, kind, principal_name)
            document = conn.execute(select(iam_inline_policies.c.document).where(_inline(key))).scalar()
        if document is None:
            raise NoSuchEntity(f"the {kind} policy with name {policy_name} cannot be found on {kind} {principal_name}")
        return str(document)

    def list_inline_policies(self, kind: str, principal_name: str) -> list[str]:
        self._check_on(kind, principal_name, "List{}Policies")
        with self.db.read() as conn:
            _require(conn, kind, principal_name)
            return list(
                conn.execute(
                    select(iam_inline_policies.c.policy_name)
                    .where(
                        (iam_inline_policies.c.principal_type == kind)
                        & (iam_inline_policies.c.principal_name == principal_name)
                    )
                    .order_by(iam_inline_policies.c.policy_name)
                ).scalars()
            )

    def delete_inline_policy(self, kind: str, principal_name: str, policy_name: str) -> None:
        self._check_on(kind, principal_name, "Delete{}Policy")
        key = {"principal_type": kind, "principal_name": principal_name, "policy_name": policy_name}

        def work(conn: Connection) -> None:
            _require(conn, kind, principal_name)
            if not conn.execute(delete(iam_inline_policies).where(_inline(key))).rowcount:
                raise NoSuchEntity(f"the {kind} policy with name {policy_name} cannot be found")

        self._write(work)

    # ---- what authorization reads

    def identity_documents(self, kind: str, name: str) -> list[tuple[str, str]]:
        """(label, document) of every identity policy of a user (its own and its groups') or a role, in one read.

        Labels are a managed policy's ARN, or ``user/<name>/<policy>`` (``group/…``, ``role/…``) for inline ones."""
        with self.db.read() as conn:
            owners = [(kind, name)]
            if kind == "user":
                groups = conn.execute(
                    select(iam_group_members.c.group_name).where(iam_group_members.c.user_name == name)
                ).scalars()
                owners += [("group", g) for g in groups]
            found: list[tuple[str, str]] = []
            for owner_kind, owner in owners:
                inline = conn.execute(
                    select(iam_inline_policies.c.policy_name, iam_inline_policies.c.document)
                    .where(
                        (iam_inline_policies.c.principal_type == owner_kind)
                        & (iam_inline_policies.c.principal_name == owner)
                    )
                    .order_by(iam_inline_policies.c.policy_name)
                ).all()
                found += [(f"{owner_kind}/{owner}/{r.policy_name}", r.document) for r in inline]
                managed = conn.execute(
                    select(iam_policies.c.arn, iam_policy_versions.c.document)
                    .join(iam_attachments, iam_attachments.c.policy_name == iam_policies.c.name)
                    .join(
                        iam_policy_versions,
                        (iam_policy_versions.c.policy_name == iam_policies.c.name)
                        & (iam_policy_versions.c.version_id == iam_policies.c.default_version),
                    )
                    .where(
                        (iam_attachments.c.principal_type == owner_kind) & (iam_attachments.c.principal_name == owner)
                    )
                    .order_by(iam_policies.c.name)
                ).all()
                found += [(r.arn, r.document) for r in managed]
        return found


def _inline(key: Mapping[str, str]) -> Any:
    return (
        (iam_inline_policies.c.principal_type == key["principal_type"])
        & (iam_inline_policies.c.principal_name == key["principal_name"])
        & (iam_inline_policies.c.policy_name == key["policy_name"])
    )
