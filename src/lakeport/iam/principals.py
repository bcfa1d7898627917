"""Users, groups and roles (IAM's CreateUser, CreateGroup, AddUserToGroup, CreateRole …)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Row

from lakeport.errors import DeleteConflict, NoSuchEntity
from lakeport.iam.schema import (
    iam_access_keys,
    iam_attachments,
    iam_group_members,
    iam_groups,
    iam_inline_policies,
    iam_roles,
    iam_users,
)
from lakeport.iam.store import Store, check_entity_name, check_path, new_id
from lakeport.metadata.times import iso, now, utc


@dataclass(frozen=True)
class User:
    name: str
    user_id: str
    arn: str
    path: str
    created: datetime
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "UserName": self.name,
            "UserId": self.user_id,
            "Arn": self.arn,
            "Path": self.path,
            "CreateDate": iso(self.created),
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }


@dataclass(frozen=True)
class Group:
    name: str
    group_id: str
    arn: str
    path: str
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "GroupName": self.name,
            "GroupId": self.group_id,
            "Arn": self.arn,
            "Path": self.path,
            "CreateDate": iso(self.created),
        }


@dataclass(frozen=True)
class Role:
    name: str
    role_id: str
    arn: str
    path: str
    trust_policy: str
    created: datetime
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "RoleName": self.name,
            "RoleId": self.role_id,
            "Arn": self.arn,
            "Path": self.path,
            "AssumeRolePolicyDocument": json.loads(self.trust_policy),
            "Description": self.description,
            "CreateDate": iso(self.created),
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }


def _user(row: Row[Any]) -> User:
    return User(row.name, row.user_id, row.arn, row.path, utc(row.created_at), dict(row.tags or {}))


def _group(row: Row[Any]) -> Group:
    return Group(row.name, row.group_id, row.arn, row.path, utc(row.created_at))


def _role(row: Row[Any]) -> Role:
    return Role(
        row.name, row.role_id, row.arn, row.path, row.trust_policy, utc(row.created_at), row.description,
        dict(row.tags or {}),
    )  # fmt: skip


def _exists(conn: Connection, table: Any, name: str, kind: str) -> None:
    if conn.execute(select(table.c.name).where(table.c.name == name)).first() is None:
        raise NoSuchEntity(f"the {kind} with name {name} cannot be found", hint=f"list them: lakeport iam list-{kind}s")


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (tags or {}).items()}


class Principals(Store):
    """CreateUser/GetUser/ListUsers/DeleteUser, groups and their members, roles."""

    # ---- users

    def create_user(self, name: str, *, path: str = "/", tags: Mapping[str, str] | None = None) -> User:
        check_entity_name("user", name)
        check_path(path)
        self._check("CreateUser", self.arn("user", name, path))
        row = {
            "name": name,
            "user_id": new_id("AIDA"),
            "arn": self.arn("user", name, path),
            "path": path,
            "tags": _tags(tags),
            "created_at": now(),
        }
        self._write(lambda c: c.execute(iam_users.insert().values(**row)), exists=f"user {name} already exists")
        return self._load_user(name)

    def get_user(self, name: str) -> User:
        self._check("GetUser", self.entity_arn("user", name))
        return self._load_user(name)

    def _load_user(self, name: str) -> User:
        with self.db.read() as conn:
            row = conn.execute(select(iam_users).where(iam_users.c.name == name)).first()
        if row is None:
            raise NoSuchEntity(f"the user with name {name} cannot be found", hint="list them: lakeport iam list-users")
        return _user(row)

    def find_user(self, name: str) -> User | None:
        self._check("GetUser", self.entity_arn("user", name))
        with self.db.read() as conn:
            row = conn.execute(select(iam_users).where(iam_users.c.name == name)).first()
        return None if row is None else _user(row)

    def list_users(self, *, path_prefix: str = "/") -> list[User]:
        self._check("ListUsers", "*")
        with self.db.read() as conn:
            rows = conn.execute(
                select(iam_users).where(iam_users.c.path.startswith(path_prefix)).order_by(iam_users.c.name)
            ).all()
        return [_user(r) for r in rows]

    def delete_user(self, name: str) -> None:
        """As AWS: refused while the user has access keys, policies or group memberships."""
        self._check("DeleteUser", self.entity_arn("user", name))

        def work(conn: Connection) -> None:
            _exists(conn, iam_users, name, "user")
            left = []
            for what, table, where in (
                ("access keys", iam_access_keys, iam_access_keys.c.user_name == name),
                ("group memberships", iam_group_members, iam_group_members.c.user_name == name),
                ("attached policies", iam_attachments, _of(iam_attachments, "user", name)),
                ("inline policies", iam_inline_policies, _of(iam_inline_policies, "user", name)),
            ):
                count = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
                if count:
                    left.append(f"{count} {what}")
            if left:
                raise DeleteConflict(
                    f"cannot delete user {name}: it still has {', '.join(left)}",
                    hint="delete its access keys, detach and delete its policies and remove it from groups first",
                )
            conn.execute(delete(iam_users).where(iam_users.c.name == name))

        self._write(work)

    # ---- groups

    def create_group(self, name: str, *, path: str = "/") -> Group:
        check_entity_name("group", name, 128)
        check_path(path)
        self._check("CreateGroup", self.arn("group", name, path))
        row = {"name": name, "group_id": new_id("AGPA"), "arn": self.arn("group", name, path), "path": path}
        self._write(
            lambda c: c.execute(iam_groups.insert().values(**row, created_at=now())),
            exists=f"group {name} already exists",
        )
        return self._load_group(name)

    def get_group(self, name: str) -> Group:
        self._check("GetGroup", self.entity_arn("group", name))
        return self._load_group(name)

    def _load_group(self, name: str) -> Group:
        with self.db.read() as conn:
            row = conn.execute(select(iam_groups).where(iam_groups.c.name == name)).first()
        if row is None:
            raise NoSuchEntity(
                f"the group with name {name} cannot be found", hint="list them: lakeport iam list-groups"
            )
        return _group(row)

    def list_groups(self) -> list[Group]:
        self._check("ListGroups", "*")
        with self.db.read() as conn:
            return [_group(r) for r in conn.execute(select(iam_groups).order_by(iam_groups.c.name)).all()]

    def delete_group(self, name: str) -> None:
        self._check("DeleteGroup", self.entity_arn("group", name))

        def work(conn: Connection) -> None:
            _exists(conn, iam_groups, name, "group")
            for what, table in (("attached policies", iam_attachments), ("inline policies", iam_inline_policies)):
                if conn.execute(select(func.count()).select_from(table).where(_of(table, "group", name))).scalar_one():
                    raise DeleteConflict(f"cannot delete group {name}: it still has {what}", hint="remove them first")
            conn.execute(delete(iam_group_members).where(iam_group_members.c.group_name == name))
            conn.execute(delete(iam_groups).where(iam_groups.c.name == name))

        self._write(work)

    def add_user_to_group(self, group: str, user: str) -> None:
        self._check("AddUserToGroup", self.entity_arn("group", group))

        def work(conn: Connection) -> None:
            _exists(conn, iam_groups, group, "group")
            _exists(conn, iam_users, user, "user")
            member = (iam_group_members.c.group_name == group) & (iam_group_members.c.user_name == user)
            if conn.execute(select(iam_group_members).where(member)).first() is None:
                conn.execute(iam_group_members.insert().values(group_name=group, user_name=user))

        self._write(work)

    def remove_user_from_group(self, group: str, user: str) -> None:
        self._check("RemoveUserFromGroup", self.entity_arn("group", group))

        def work(conn: Connection) -> None:
            member = (iam_group_members.c.group_name == group) & (iam_group_members.c.user_name == user)
            if conn.execute(delete(iam_group_members).where(member)).rowcount == 0:
                raise NoSuchEntity(f"user {user} is not a member of group {group}")

        self._write(work)

    def groups_for_user(self, user: str) -> list[str]:
        self._check("ListGroupsForUser", self.entity_arn("user", user))
        with self.db.read() as conn:
            return list(
                conn.execute(
                    select(iam_group_members.c.group_name)
                    .where(iam_group_members.c.user_name == user)
                    .order_by(iam_group_members.c.group_name)
                ).scalars()
            )

    def group_members(self, group: str) -> list[str]:
        self._check("GetGroup", self.entity_arn("group", group))
        with self.db.read() as conn:
            _exists(conn, iam_groups, group, "group")
            return list(
                conn.execute(
                    select(iam_group_members.c.user_name)
                    .where(iam_group_members.c.group_name == group)
                    .order_by(iam_group_members.c.user_name)
                ).scalars()
            )

    # ---- roles

    def create_role(
        self,
        name: str,
        trust_policy: str | Mapping[str, Any],
        *,
        path: str = "/",
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Role:
        """A role whose trust policy (AssumeRolePolicyDocument) says who may assume it."""
        from lakeport.iam.trust import check_trust_policy

        check_entity_name("role", name)
        check_path(path)
        self._check("CreateRole", self.arn("role", name, path))
        document = check_trust_policy(trust_policy, name=f"trust policy of role {name}")
        row = {
            "name": name,
            "role_id": new_id("AROA"),
            "arn": self.arn("role", name, path),
            "path": path,
            "trust_policy": document,
            "description": description,
            "tags": _tags(tags),
            "created_at": now(),
        }
        self._write(lambda c: c.execute(iam_roles.insert().values(**row)), exists=f"role {name} already exists")
        return self._load_role(name)

    def get_role(self, name: str) -> Role:
        self._check("GetRole", self.entity_arn("role", name))
        return self._load_role(name)

    def _load_role(self, name: str) -> Role:
        with self.db.read() as conn:
            row = conn.execute(select(iam_roles).where(iam_roles.c.name == name)).first()
        if row is None:
            raise NoSuchEntity(f"the role with name {name} cannot be found", hint="list them: lakeport iam list-roles")
        return _role(row)

    def list_roles(self) -> list[Role]:
        self._check("ListRoles", "*")
        with self.db.read() as conn:
            return [_role(r) for r in conn.execute(select(iam_roles).order_by(iam_roles.c.name)).all()]

    def update_assume_role_policy(self, name: str, trust_policy: str | Mapping[str, Any]) -> None:
        from lakeport.iam.trust import check_trust_policy

        document = check_trust_policy(trust_policy, name=f"trust policy of role {name}")
        self._check("UpdateAssumeRolePolicy", self.entity_arn("role", name))

        def work(conn: Connection) -> None:
            _exists(conn, iam_roles, name, "role")
            conn.execute(iam_roles.update().where(iam_roles.c.name == name).values(trust_policy=document))

        self._write(work)

    def delete_role(self, name: str) -> None:
        self._check("DeleteRole", self.entity_arn("role", name))

        def work(conn: Connection) -> None:
            _exists(conn, iam_roles, name, "role")
            for what, table in (("attached policies", iam_attachments), ("inline policies", iam_inline_policies)):
                if conn.execute(select(func.count()).select_from(table).where(_of(table, "role", name))).scalar_one():
                    raise DeleteConflict(f"cannot delete role {name}: it still has {what}", hint="remove them first")
            conn.execute(delete(iam_roles).where(iam_roles.c.name == name))

        self._write(work)


def _of(table: Any, kind: str, name: str) -> Any:
    return (table.c.principal_type == kind) & (table.c.principal_name == name)
