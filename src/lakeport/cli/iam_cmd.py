"""``lakeport iam ...``: users, groups, roles, policies, access keys, and simulating a decision (AWS CLI names)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.errors import InvalidInput
from lakeport.iam.iam import IAM

app = typer.Typer(help="Users, groups, roles, policies and access keys (IAM).", no_args_is_help=True)

UserName = Annotated[str, typer.Option("--user-name", help="the user's name")]
GroupName = Annotated[str, typer.Option("--group-name", help="the group's name")]
RoleName = Annotated[str, typer.Option("--role-name", help="the role's name")]
PolicyName = Annotated[str, typer.Option("--policy-name", help="the policy's name")]
PolicyArn = Annotated[str, typer.Option("--policy-arn", help="the managed policy's ARN (or its name)")]
Document = Annotated[
    str, typer.Option("--policy-document", help="the policy: inline JSON, or file://path.json (as the AWS CLI)")
]
KeyId = Annotated[str, typer.Option("--access-key-id", help="the access key's id")]
Path_ = Annotated[str, typer.Option("--path", help="the entity's path, e.g. /analysts/")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="Key=Value (repeatable)")]


def read_document(value: str) -> str:
    """A policy document from ``file://path`` or inline JSON text; InvalidInput naming the file when unreadable."""
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://")).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read policy document {path}: {exc.strerror}") from None
    if not value.lstrip().startswith("{"):
        raise InvalidInput("the policy document is not JSON", hint="give inline JSON or file://path.json")
    return value


def _tags(values: list[str] | None) -> dict[str, str]:
    tags = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"tag {item!r} is not Key=Value")
        tags[key] = value
    return tags


def _iam(ctx: typer.Context) -> IAM:
    return state(ctx).open_lake().iam  # acting as the lake's principal: IAM authorizes each operation itself


def _show(ctx: typer.Context, output: Any, data: Any, text: Callable[[], None] | None = None) -> None:
    emit(output_of(ctx, output), data, text or (lambda: stdout.print(json.dumps(data, indent=2), markup=False)))


def _done(ctx: typer.Context, output: Any, message: str) -> None:
    emit(output_of(ctx, output), {"ok": True, "message": message}, lambda: stdout.print(message))


# ---- users and groups


@app.command("create-user")
def create_user(
    ctx: typer.Context, user_name: UserName, path: Path_ = "/", tag: Tags = None, output: OutputOption = None
) -> None:
    """Create a user (it has no permissions until a policy allows them)."""
    user = _iam(ctx).create_user(user_name, path=path, tags=_tags(tag))
    _show(ctx, output, {"User": user.to_dict()}, lambda: stdout.print(f"created user {user.arn}"))


@app.command("get-user")
def get_user(ctx: typer.Context, user_name: UserName, output: OutputOption = None) -> None:
    """Show a user, its groups and policies."""
    iam = _iam(ctx)
    user = iam.get_user(user_name)
    data = {
        "User": user.to_dict(),
        "Groups": iam.groups_for_user(user_name),
        "AttachedPolicies": iam.attached_policies("user", user_name),
        "InlinePolicies": iam.list_inline_policies("user", user_name),
    }
    _show(ctx, output, data)


@app.command("list-users")
def list_users(ctx: typer.Context, output: OutputOption = None) -> None:
    """List the users."""
    users = _iam(ctx).list_users()
    _show(
        ctx, output, {"Users": [u.to_dict() for u in users]},
        lambda: table(["name", "arn", "created"], [(u.name, u.arn, u.created.isoformat()) for u in users]),
    )  # fmt: skip


@app.command("delete-user")
def delete_user(ctx: typer.Context, user_name: UserName, output: OutputOption = None) -> None:
    """Delete a user that has no access keys, policies or group memberships left."""
    _iam(ctx).delete_user(user_name)
    _done(ctx, output, f"deleted user {user_name}")


@app.command("create-group")
def create_group(ctx: typer.Context, group_name: GroupName, path: Path_ = "/", output: OutputOption = None) -> None:
    """Create a group."""
    group = _iam(ctx).create_group(group_name, path=path)
    _show(ctx, output, {"Group": group.to_dict()}, lambda: stdout.print(f"created group {group.arn}"))


@app.command("list-groups")
def list_groups(ctx: typer.Context, output: OutputOption = None) -> None:
    """List the groups."""
    groups = _iam(ctx).list_groups()
    _show(
        ctx, output, {"Groups": [g.to_dict() for g in groups]},
        lambda: table(["name", "arn"], [(g.name, g.arn) for g in groups]),
    )  # fmt: skip


@app.command("add-user-to-group")
def add_user_to_group(
    ctx: typer.Context, group_name: GroupName, user_name: UserName, output: OutputOption = None
) -> None:
    """Make a user a member of a group (it gains the group's policies)."""
    _iam(ctx).add_user_to_group(group_name, user_name)
    _done(ctx, output, f"added {user_name} to {group_name}")


@app.command("remove-user-from-group")
def remove_user_from_group(
    ctx: typer.Context, group_name: GroupName, user_name: UserName, output: OutputOption = None
) -> None:
    """Remove a user from a group."""
    _iam(ctx).remove_user_from_group(group_name, user_name)
    _done(ctx, output, f"removed {user_name} from {group_name}")


# ---- roles


@app.command("create-role")
def create_role(
    ctx: typer.Context,
    role_name: RoleName,
    assume_role_policy_document: Annotated[
        str, typer.Option("--assume-role-policy-document", help="the trust policy: inline JSON or file://path.json")
    ],
    description: Annotated[str | None, typer.Option("--description", help="what the role is for")] = None,
    path: Path_ = "/",
    tag: Tags = None,
    output: OutputOption = None,
) -> None:
    """Create a role; its trust policy says who may assume it (users, the account, services like glue.amazonaws.com)."""
    role = _iam(ctx).create_role(
        role_name, read_document(assume_role_policy_document), path=path, description=description, tags=_tags(tag)
    )
    _show(ctx, output, {"Role": role.to_dict()}, lambda: stdout.print(f"created role {role.arn}"))


@app.command("list-roles")
def list_roles(ctx: typer.Context, output: OutputOption = None) -> None:
    """List the roles."""
    roles = _iam(ctx).list_roles()
    _show(
        ctx, output, {"Roles": [r.to_dict() for r in roles]},
        lambda: table(["name", "arn"], [(r.name, r.arn) for r in roles]),
    )  # fmt: skip


@app.command("get-role")
def get_role(ctx: typer.Context, role_name: RoleName, output: OutputOption = None) -> None:
    """Show a role, its trust policy and its policies."""
    iam = _iam(ctx)
    data = {
        "Role": iam.get_role(role_name).to_dict(),
        "AttachedPolicies": iam.attached_policies("role", role_name),
        "InlinePolicies": iam.list_inline_policies("role", role_name),
    }
    _show(ctx, output, data)


@app.command("delete-role")
def delete_role(ctx: typer.Context, role_name: RoleName, output: OutputOption = None) -> None:
    """Delete a role that has no policies left."""
    _iam(ctx).delete_role(role_name)
    _done(ctx, output, f"deleted role {role_name}")


@app.command("delete-group")
def delete_group(ctx: typer.Context, group_name: GroupName, output: OutputOption = None) -> None:
    """Delete a group that has no members or policies left."""
    _iam(ctx).delete_group(group_name)
    _done(ctx, output, f"deleted group {group_name}")


# ---- access keys


@app.command("create-access-key")
def create_access_key(ctx: typer.Context, user_name: UserName, output: OutputOption = None) -> None:
    """Create an access key (at most two per user); its secret is shown this once and never again."""
    created = _iam(ctx).create_access_key(user_name)

    def text() -> None:
        stdout.print(f"AccessKeyId:     {created.key.id}", markup=False)
        stdout.print(f"SecretAccessKey: {created.secret}", markup=False)
        stdout.print("the secret is shown only now: store it (e.g. in ~/.aws/credentials)", markup=False)

    _show(ctx, output, {"AccessKey": created.to_dict()}, text)


@app.command("list-access-keys")
def list_access_keys(ctx: typer.Context, user_name: UserName, output: OutputOption = None) -> None:
    """List a user's access keys (ids, status, last use; never secrets)."""
    keys = _iam(ctx).list_access_keys(user_name)
    _show(
        ctx, output, {"AccessKeyMetadata": [k.to_dict() for k in keys]},
        lambda: table(
            ["id", "status", "created", "last used", "last action"],
            [(k.id, k.status, k.created.isoformat(), k.last_used and k.last_used.isoformat(), k.last_used_action)
             for k in keys],
        ),
    )  # fmt: skip


@app.command("update-access-key")
def update_access_key(
    ctx: typer.Context,
    access_key_id: KeyId,
    status: Annotated[str, typer.Option("--status", help="Active or Inactive")],
    user_name: Annotated[str | None, typer.Option("--user-name", help="the key's user")] = None,
    output: OutputOption = None,
) -> None:
    """Activate or deactivate an access key."""
    _iam(ctx).update_access_key(access_key_id, status, user=user_name)
    _done(ctx, output, f"access key {access_key_id} is {status}")


@app.command("delete-access-key")
def delete_access_key(
    ctx: typer.Context,
    access_key_id: KeyId,
    user_name: Annotated[str | None, typer.Option("--user-name", help="the key's user")] = None,
    output: OutputOption = None,
) -> None:
    """Delete an access key."""
    _iam(ctx).delete_access_key(access_key_id, user=user_name)
    _done(ctx, output, f"deleted access key {access_key_id}")


# ---- managed policies


@app.command("create-policy")
def create_policy(
    ctx: typer.Context,
    policy_name: PolicyName,
    policy_document: Document,
    description: Annotated[str | None, typer.Option("--description", help="what the policy allows")] = None,
    path: Path_ = "/",
    output: OutputOption = None,
) -> None:
    """Create a managed policy (checked: a malformed document is refused, naming the statement and field)."""
    policy = _iam(ctx).create_policy(policy_name, read_document(policy_document), path=path, description=description)
    _show(ctx, output, {"Policy": policy.to_dict()}, lambda: stdout.print(f"created policy {policy.arn}"))


@app.command("get-policy")
def get_policy(ctx: typer.Context, policy_arn: PolicyArn, output: OutputOption = None) -> None:
    """Show a managed policy and its default version's document."""
    _show(ctx, output, {"Policy": _iam(ctx).get_policy(policy_arn).to_dict()})


@app.command("list-policies")
def list_policies(ctx: typer.Context, output: OutputOption = None) -> None:
    """List the managed policies."""
    policies = _iam(ctx).list_policies()
    _show(
        ctx, output, {"Policies": [p.to_dict() for p in policies]},
        lambda: table(["name", "arn", "version", "attachments"],
                      [(p.name, p.arn, p.default_version, p.attachments) for p in policies]),
    )  # fmt: skip


def _name_option(kind: str) -> Any:
    """The ``--user-name``/``--group-name``/``--role-name`` option (set on generated commands' annotations, which
    typer resolves in this module's globals)."""
    return Annotated[str, typer.Option(f"--{kind}-name", help=f"the {kind}'s name")]


def _attach_command(kind: str, attach: bool) -> None:
    verb = "attach" if attach else "detach"

    def command(
        ctx: typer.Context,
        name: str,
        policy_arn: PolicyArn,
        output: OutputOption = None,
    ) -> None:
        iam = _iam(ctx)
        (iam.attach_policy if attach else iam.detach_policy)(kind, name, policy_arn)
        _done(ctx, output, f"{verb}ed {iam.policy_name(policy_arn)} {'to' if attach else 'from'} {kind} {name}")

    command.__annotations__["name"] = _name_option(kind)
    command.__doc__ = f"{verb.capitalize()} a managed policy {'to' if attach else 'from'} a {kind}."
    app.command(f"{verb}-{kind}-policy")(command)


def _inline_command(kind: str) -> None:
    def command(
        ctx: typer.Context,
        name: str,
        policy_name: PolicyName,
        policy_document: Document,
        output: OutputOption = None,
    ) -> None:
        _iam(ctx).put_inline_policy(kind, name, policy_name, read_document(policy_document))
        _done(ctx, output, f"put inline policy {policy_name} on {kind} {name}")

    command.__annotations__["name"] = _name_option(kind)
    command.__doc__ = f"Create or replace an inline policy of a {kind}."
    app.command(f"put-{kind}-policy")(command)


def _inline_read_commands(kind: str) -> None:
    def get_command(ctx: typer.Context, name: str, policy_name: PolicyName, output: OutputOption = None) -> None:
        document = _iam(ctx).get_inline_policy(kind, name, policy_name)
        _show(ctx, output, {"PolicyName": policy_name, "PolicyDocument": json.loads(document)})

    def delete_command(ctx: typer.Context, name: str, policy_name: PolicyName, output: OutputOption = None) -> None:
        _iam(ctx).delete_inline_policy(kind, name, policy_name)
        _done(ctx, output, f"deleted inline policy {policy_name} of {kind} {name}")

    for verb, command in (("get", get_command), ("delete", delete_command)):
        command.__annotations__["name"] = _name_option(kind)
        command.__doc__ = f"{verb.capitalize()} an inline policy of a {kind}."
        app.command(f"{verb}-{kind}-policy")(command)


for _kind in ("user", "group", "role"):
    _attach_command(_kind, True)
    _attach_command(_kind, False)
    _inline_command(_kind)
    _inline_read_commands(_kind)


@app.command("delete-policy")
def delete_policy(ctx: typer.Context, policy_arn: PolicyArn, output: OutputOption = None) -> None:
    """Delete a managed policy that is attached to nothing."""
    _iam(ctx).delete_policy(policy_arn)
    _done(ctx, output, f"deleted policy {policy_arn}")


# ---- checking


@app.command("validate-policy")
def validate_policy(
    ctx: typer.Context,
    policy_document: Document,
    policy_type: Annotated[str, typer.Option("--policy-type", help="identity, resource or trust")] = "identity",
    output: OutputOption = None,
) -> None:
    """Check a policy document without storing it: every error and warning, with statement and field."""
    from lakeport.iam.policy import validate_policy as validate

    findings = validate(read_document(policy_document), kind=policy_type)
    rows = [
        {"severity": f.severity, "statement": f.statement, "field": f.field, "message": f.message} for f in findings
    ]

    def text() -> None:
        if not findings:
            stdout.print("the policy is valid")
        for finding in findings:
            stdout.print(str(finding), markup=False)

    emit(output_of(ctx, output), {"valid": not any(f.severity == "error" for f in findings), "findings": rows}, text)
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


@app.command("simulate")
def simulate(
    ctx: typer.Context,
    principal: Annotated[str, typer.Option("--principal", help="a user name, role/NAME, or a user or role ARN")],
    action: Annotated[str, typer.Option("--action", help="the action, e.g. s3:GetObject")],
    resource: Annotated[str, typer.Option("--resource", help="the resource ARN")] = "*",
    context: Annotated[
        list[str] | None, typer.Option("--context", help="a condition key and value: key=value (repeatable)")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Decide a request as authorization would, and say which policy and statement decided it."""
    values: dict[str, str | list[str]] = {}
    for item in context or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"context {item!r} is not key=value")
        previous = values.get(key)
        values[key] = value if previous is None else [*([previous] if isinstance(previous, str) else previous), value]
    iam = _iam(ctx)
    who = iam.resolve(principal)
    decision = iam.simulate(who, action, resource, values)
    data = {
        "Principal": who.arn,
        "Action": action,
        "Resource": resource,
        "Decision": decision.outcome,
        "Allowed": decision.allowed,
        "Policy": decision.policy,
        "Statement": decision.statement,
    }

    def text() -> None:
        verdict = "[green]allowed[/]" if decision.allowed else "[red]denied[/]"
        stdout.print(f"{verdict} ({decision.outcome}): {action} on {resource} for {who.arn}")
        if decision.policy:
            stdout.print(f"  decided by statement {decision.statement} of policy {decision.policy}", markup=False)
        else:
            stdout.print("  no statement allows it (implicit deny)", markup=False)

    emit(output_of(ctx, output), data, text)
