"""``/api/v1/iam``: users, groups, roles, managed and inline policies, access keys, the policy simulator (IAM), and
the audit log of authorization decisions (CloudTrail's LookupEvents).

Attaching, detaching and inline policies have one route per kind of principal (users, groups, roles), each naming
its own IAM action (``iam:AttachUserPolicy``, ``iam:PutRolePolicy`` …), as AWS's API does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/iam", tags=["iam"])
USER = "arn:aws:iam::{account}:user/{name}"
GROUP = "arn:aws:iam::{account}:group/{name}"
ROLE = "arn:aws:iam::{account}:role/{name}"
POLICY = "arn:aws:iam::{account}:policy/{name}"
KINDS = {"users": ("user", USER), "groups": ("group", GROUP), "roles": ("role", ROLE)}

Document = dict[str, Any] | str


class CreateUser(BaseModel):
    UserName: str = Field(description="the user's name")
    Path: str = Field("/", description="the user's path, e.g. /analysts/")
    Tags: dict[str, str] | None = Field(None, description="tags (aws:PrincipalTag/… in conditions)")


class CreateGroup(BaseModel):
    GroupName: str = Field(description="the group's name")
    Path: str = Field("/", description="the group's path")


class CreateRole(BaseModel):
    RoleName: str = Field(description="the role's name")
    AssumeRolePolicyDocument: Document = Field(description="the trust policy: who may assume the role")
    Path: str = Field("/", description="the role's path")
    Description: str | None = Field(None, description="what it is for")
    Tags: dict[str, str] | None = Field(None, description="tags")


class CreatePolicy(BaseModel):
    PolicyName: str = Field(description="the policy's name")
    PolicyDocument: Document = Field(description="the policy (JSON)")
    Path: str = Field("/", description="the policy's path")
    Description: str | None = Field(None, description="what it grants")


class PolicyDocument(BaseModel):
    PolicyDocument: Document = Field(description="the inline policy (JSON)")


class KeyStatus(BaseModel):
    Status: str = Field(description="Active or Inactive")


class Simulate(BaseModel):
    Principal: str = Field(description="a user name, role/NAME, or a user or role ARN")
    Action: str = Field(description="the action, e.g. s3:GetObject")
    Resource: str = Field("*", description="the resource ARN")
    Context: dict[str, str | list[str]] | None = Field(None, description="condition keys and their values")


# ---- users


@router.get("/users", openapi_extra=action("iam:ListUsers", "*"))
def list_users(
    lake: CallerLake, page: Paging, path_prefix: Annotated[str, Query(description="only paths under this")] = "/"
) -> dict[str, Any]:
    """Every user (ListUsers)."""
    return page.of([u.to_dict() for u in lake.iam.list_users(path_prefix=path_prefix)], "Users")


@router.post("/users", openapi_extra=action("iam:CreateUser", USER))
def create_user(lake: CallerLake, body: CreateUser) -> dict[str, Any]:
    """Create a user (CreateUser)."""
    return {"User": lake.iam.create_user(body.UserName, path=body.Path, tags=body.Tags).to_dict()}


@router.get("/users/{name}", openapi_extra=action("iam:GetUser", USER))
def get_user(lake: CallerLake, name: str) -> dict[str, Any]:
    """One user (GetUser)."""
    return {"User": lake.iam.get_user(name).to_dict()}


@router.delete("/users/{name}", openapi_extra=action("iam:DeleteUser", USER))
def delete_user(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a user (DeleteUser)."""
    lake.iam.delete_user(name)
    return {}


@router.get("/users/{name}/groups", openapi_extra=action("iam:ListGroupsForUser", USER))
def groups_for_user(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
    """The groups a user belongs to (ListGroupsForUser)."""
    return page.of(lake.iam.groups_for_user(name), "GroupNames")


# ---- access keys


@router.get("/users/{name}/access-keys", openapi_extra=action("iam:ListAccessKeys", USER))
def list_access_keys(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
    """A user's access keys, never with their secrets (ListAccessKeys)."""
    return page.of([k.to_dict() for k in lake.iam.list_access_keys(name)], "AccessKeyMetadata")


@router.post("/users/{name}/access-keys", openapi_extra=action("iam:CreateAccessKey", USER))
def create_access_key(lake: CallerLake, name: str) -> dict[str, Any]:
    """A new access key: its secret is in this answer and nowhere else, ever (CreateAccessKey)."""
    return {"AccessKey": lake.iam.create_access_key(name).to_dict()}


@router.put("/users/{name}/access-keys/{key_id}", openapi_extra=action("iam:UpdateAccessKey", USER))
def update_access_key(lake: CallerLake, name: str, key_id: str, body: KeyStatus) -> dict[str, Any]:
    """Make a key Active or Inactive (UpdateAccessKey)."""
    lake.iam.update_access_key(key_id, body.Status, user=name)
    return {}


@router.delete("/users/{name}/access-keys/{key_id}", openapi_extra=action("iam:DeleteAccessKey", USER))
def delete_access_key(lake: CallerLake, name: str, key_id: str) -> dict[str, Any]:
    """Delete a key (DeleteAccessKey)."""
    lake.iam.delete_access_key(key_id, user=name)
    return {}


# ---- groups


@router.get("/groups", openapi_extra=action("iam:ListGroups", "*"))
def list_groups(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every group (ListGroups)."""
    return page.of([g.to_dict() for g in lake.iam.list_groups()], "Groups")


@router.post("/groups", openapi_extra=action("iam:CreateGroup", GROUP))
def create_group(lake: CallerLake, body: CreateGroup) -> dict[str, Any]:
    """Create a group (CreateGroup)."""
    return {"Group": lake.iam.create_group(body.GroupName, path=body.Path).to_dict()}


@router.get("/groups/{name}", openapi_extra=action("iam:GetGroup", GROUP))
def get_group(lake: CallerLake, name: str) -> dict[str, Any]:
    """One group and its members (GetGroup)."""
    return {"Group": lake.iam.get_group(name).to_dict(), "UserNames": lake.iam.group_members(name)}


@router.delete("/groups/{name}", openapi_extra=action("iam:DeleteGroup", GROUP))
def delete_group(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a group (DeleteGroup)."""
    lake.iam.delete_group(name)
    return {}


@router.put("/groups/{name}/users/{user}", openapi_extra=action("iam:AddUserToGroup", GROUP))
def add_user_to_group(lake: CallerLake, name: str, user: str) -> dict[str, Any]:
    """Add a user to the group (AddUserToGroup)."""
    lake.iam.add_user_to_group(name, user)
    return {}


@router.delete("/groups/{name}/users/{user}", openapi_extra=action("iam:RemoveUserFromGroup", GROUP))
def remove_user_from_group(lake: CallerLake, name: str, user: str) -> dict[str, Any]:
    """Remove a user from the group (RemoveUserFromGroup)."""
    lake.iam.remove_user_from_group(name, user)
    return {}


# ---- roles


@router.get("/roles", openapi_extra=action("iam:ListRoles", "*"))
def list_roles(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every role (ListRoles)."""
    return page.of([r.to_dict() for r in lake.iam.list_roles()], "Roles")


@router.post("/roles", openapi_extra=action("iam:CreateRole", ROLE))
def create_role(lake: CallerLake, body: CreateRole) -> dict[str, Any]:
    """Create a role with its trust policy (CreateRole)."""
    role = lake.iam.create_role(
        body.RoleName, body.AssumeRolePolicyDocument, path=body.Path, description=body.Description, tags=body.Tags
    )
    return {"Role": role.to_dict()}


@router.get("/roles/{name}", openapi_extra=action("iam:GetRole", ROLE))
def get_role(lake: CallerLake, name: str) -> dict[str, Any]:
    """One role with its trust policy (GetRole)."""
    return {"Role": lake.iam.get_role(name).to_dict()}


@router.delete("/roles/{name}", openapi_extra=action("iam:DeleteRole", ROLE))
def delete_role(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a role (DeleteRole)."""
    lake.iam.delete_role(name)
    return {}


# ---- managed policies


@router.get("/policies", openapi_extra=action("iam:ListPolicies", "*"))
def list_policies(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every managed policy (ListPolicies)."""
    return page.of([p.to_dict() for p in lake.iam.list_policies()], "Policies")


@router.post("/policies", openapi_extra=action("iam:CreatePolicy", POLICY))
def create_policy(lake: CallerLake, body: CreatePolicy) -> dict[str, Any]:
    """Create a managed policy (CreatePolicy)."""
    policy = lake.iam.create_policy(body.PolicyName, body.PolicyDocument, path=body.Path, description=body.Description)
    return {"Policy": policy.to_dict()}


@router.get("/policies/{policy}", openapi_extra=action("iam:GetPolicy", POLICY))
def get_policy(lake: CallerLake, policy: str) -> dict[str, Any]:
    """One managed policy with its document (GetPolicy)."""
    return {"Policy": lake.iam.get_policy(policy).to_dict()}


@router.delete("/policies/{policy}", openapi_extra=action("iam:DeletePolicy", POLICY))
def delete_policy(lake: CallerLake, policy: str) -> dict[str, Any]:
    """Delete a managed policy that nothing is attached to (DeletePolicy)."""
    lake.iam.delete_policy(policy)
    return {}


# ---- attached and inline policies of users, groups and roles: one route per kind, each naming its action


def _policy_routes(plural: str, kind: str, resource: str) -> None:
    title = kind.capitalize()
    base = f"/{plural}/{{name}}"

    def listed(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
        return page.of(lake.iam.attached_policies(kind, name), "AttachedPolicies")

    def attach(lake: CallerLake, name: str, policy: str) -> dict[str, Any]:
        lake.iam.attach_policy(kind, name, policy)
        return {}

    def detach(lake: CallerLake, name: str, policy: str) -> dict[str, Any]:
        lake.iam.detach_policy(kind, name, policy)
        return {}

    def inline(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
        return page.of(lake.iam.list_inline_policies(kind, name), "PolicyNames")

    def get_inline(lake: CallerLake, name: str, policy: str) -> dict[str, Any]:
        document = lake.iam.get_inline_policy(kind, name, policy)
        return {f"{title}Name": name, "PolicyName": policy, "PolicyDocument": document}

    def put_inline(lake: CallerLake, name: str, policy: str, body: PolicyDocument) -> dict[str, Any]:
        lake.iam.put_inline_policy(kind, name, policy, body.PolicyDocument)
        return {}

    def delete_inline(lake: CallerLake, name: str, policy: str) -> dict[str, Any]:
        lake.iam.delete_inline_policy(kind, name, policy)
        return {}

    routes: list[tuple[str, str, str, Callable[..., dict[str, Any]], str]] = [
        ("GET", "/attached-policies", "ListAttached{}Policies", listed, "The managed policies attached"),
        ("PUT", "/attached-policies/{policy}", "Attach{}Policy", attach, "Attach a managed policy"),
        ("DELETE", "/attached-policies/{policy}", "Detach{}Policy", detach, "Detach a managed policy"),
        ("GET", "/policies", "List{}Policies", inline, "The names of the inline policies"),
        ("GET", "/policies/{policy}", "Get{}Policy", get_inline, "One inline policy's document"),
        ("PUT", "/policies/{policy}", "Put{}Policy", put_inline, "Create or replace an inline policy"),
        ("DELETE", "/policies/{policy}", "Delete{}Policy", delete_inline, "Delete an inline policy"),
    ]
    for method, path, operation, endpoint, summary in routes:
        name = operation.format(title)
        router.add_api_route(
            base + path,
            endpoint,
            methods=[method],
            name=f"{name}",
            summary=name,
            description=f"{summary} ({name}).",
            operation_id=name,
            openapi_extra=action(f"iam:{name}", resource),
        )


for _plural, (_kind, _resource) in KINDS.items():
    _policy_routes(_plural, _kind, _resource)


# ---- the simulator and the audit log


@router.post("/simulate", openapi_extra=action("iam:SimulatePrincipalPolicy", USER))
def simulate(lake: CallerLake, body: Simulate) -> dict[str, Any]:
    """The decision authorization would make, and the policy and statement that made it, without recording it
    (SimulatePrincipalPolicy)."""
    who = lake.iam.resolve(body.Principal)
    decision = lake.iam.simulate(who, body.Action, body.Resource, body.Context)
    return {
        "Principal": who.arn,
        "Action": body.Action,
        "Resource": body.Resource,
        "Decision": decision.outcome,
        "Allowed": decision.allowed,
        "Policy": decision.policy,
        "Statement": decision.statement,
    }


@router.get("/audit", openapi_extra=action("cloudtrail:LookupEvents", "*"))
def audit(
    lake: CallerLake,
    page: Paging,
    principal: Annotated[str | None, Query(description="a principal's ARN, or the name at its end")] = None,
    action_name: Annotated[str | None, Query(alias="action", description="an action, e.g. s3:GetObject")] = None,
    decision: Annotated[str | None, Query(description="Allow, ExplicitDeny or ImplicitDeny")] = None,
    since: Annotated[datetime | None, Query(description="only decisions after this ISO 8601 time")] = None,
) -> dict[str, Any]:
    """Authorization decisions, newest first: who, what, on which resource, and which statement decided
    (`lakeport audit`; CloudTrail's LookupEvents)."""
    events = lake.iam.lookup_events(
        principal=principal, action=action_name, decision=decision, since=since, limit=page.offset + page.limit + 1
    )
    return page.of([e.to_dict() for e in events], "Events")
