"""The one choke point every service calls before it acts: ``iam.authorize(principal, action, resource)``.

The lake's administrator (``iam.admin_user``) is root-like and always allowed. Any other principal is decided by
its identity-based policies (a user's inline and attached policies and its groups'; for an assumed role, the
role's), evaluated by :func:`lakeport.iam.evaluation.evaluate`. Parsed policies are cached per principal and kept
while the policy generation (bumped by every IAM change) stays the same, so a repeat decision costs microseconds.
Every decision for a non-administrator is appended to the audit trail.
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeport.errors import AccessDenied, InvalidInput, NoSuchEntity
from lakeport.iam.accesskeys import AccessKeys
from lakeport.iam.arns import user_arn
from lakeport.iam.audit import AuditEvent, AuditTrail
from lakeport.iam.evaluation import ALLOW, Decision, Request, evaluate
from lakeport.iam.matching import ContextValue
from lakeport.iam.permissions import Permissions
from lakeport.iam.policy import Policy, PolicyError, parse_policy
from lakeport.iam.principal import ASSUMED_ROLE, SERVICE, USER, Principal, service_principal
from lakeport.iam.principals import Principals, User
from lakeport.iam.trust import ASSUME_ROLE, PASS_ROLE, role_name_of, trusted_statements
from lakeport.metadata import MetadataDB

request_id: ContextVar[str | None] = ContextVar("lakeport_request_id", default=None)
"""Set by a front end to tie audit events to its request; a fresh id per decision otherwise."""

ADMIN_POLICY = "lake administrator"
_SESSION = re.compile(r"[^\w+=,.@-]")
_CACHE_LIMIT = 2048
_PROCESS = secrets.token_hex(6)
_SEQUENCE = itertools.count(1)


@dataclass(frozen=True)
class _Identity:
    generation: int
    policies: tuple[Policy, ...]
    context: Mapping[str, ContextValue]


def _request(action: str, resource: str, lowered: dict[str, ContextValue]) -> Request:
    """A Request from a context already in Request's normal form (lower-case keys, str or tuple values): the
    hot path skips re-normalizing the principal's cached keys on every call."""
    request = object.__new__(Request)
    object.__setattr__(request, "action", action)
    object.__setattr__(request, "resource", resource)
    object.__setattr__(request, "context", lowered)
    return request


def denial_message(principal: Principal, action: str, resource: str, decision: Decision) -> str:
    head = f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
    if decision.outcome == "ExplicitDeny":
        return f"{head} with an explicit deny in an identity-based policy: {decision.policy}"
    return f"{head} because no identity-based policy allows the {action} action"


class IAM(Principals, Permissions, AccessKeys):
    """Users, groups, roles, policies and access keys of one lake, and the decisions made with them."""

    def __init__(
        self,
        account_id: str,
        admin_user: str,
        db: MetadataDB | None = None,
        *,
        audit_admin: bool = False,
        audit_retention_days: int = 90,
    ) -> None:
        self._init_store(account_id, db)
        self.admin = Principal(arn=user_arn(account_id, admin_user), name=admin_user)
        self.audit_admin = audit_admin
        self.audit = AuditTrail(db, retention_days=audit_retention_days) if db is not None else None
        self._cache: dict[str, _Identity] = {}
        self._second: tuple[int, str, str] = (-1, "", "")
        self.caller: Principal | None = self.admin
        """Who calls IAM's own operations (CreateUser, AttachUserPolicy …); None only for lakeport's internal
        lookups while deciding, which are not requests of anyone."""

    # ---- who calls

    def as_principal(self, principal: Principal) -> IAM:
        """This IAM with its own operations authorized as ``principal``; it shares the store, the policy cache,
        the generation counter and the audit trail."""
        view = copy.copy(self)
        view.caller = principal
        return view

    def _system(self) -> IAM:
        """A view for lookups lakeport makes while deciding (the caller's own user, a role to assume)."""
        if self.caller is None:
            return self
        view = copy.copy(self)
        view.caller = None
        return view

    def _check(self, action: str, resource: str) -> None:
        if self.caller is not None:
            self.authorize(self.caller, f"iam:{action}", resource)

    # ---- deciding

    def authorize(
        self, principal: Principal, action: str, resource: str, context: Mapping[str, ContextValue] | None = None
    ) -> None:
        """Return if ``principal`` may perform ``action`` (``s3:GetObject``) on ``resource`` (an ARN); raise
        AccessDenied (naming principal, action, resource and why) otherwise. Records the decision."""
        if principal.arn == self.admin.arn:
            if self.audit_admin:
                self._record(principal, action, resource, Decision(True, ALLOW, ADMIN_POLICY), context)
            return
        decision = self._decide(principal, action, resource, context)
        self._record(principal, action, resource, decision, context)
        if not decision.allowed:
            raise AccessDenied(
                denial_message(principal, action, resource, decision),
                hint=f"see why: lakeport iam simulate --principal {principal.arn} --action {action} --resource {resource}",
            )

    def simulate(
        self,
        principal: Principal | str,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        """The decision ``authorize`` would make, without recording it or raising (``principal``: a Principal, a
        user name, ``role/<name>``, or a user or role ARN)."""
        who = self.resolve(principal) if isinstance(principal, str) else principal
        target = who.arn
        if who.kind == ASSUMED_ROLE:
            target = self.entity_arn("role", who.name)
        self._check("SimulatePrincipalPolicy", target)
        if who.arn == self.admin.arn:
            return Decision(True, ALLOW, ADMIN_POLICY)
        return self._decide(who, action, resource, context)

    def _decide(
        self, principal: Principal, action: str, resource: str, context: Mapping[str, ContextValue] | None
    ) -> Decision:
        identity = self._identity(principal)
        second = int(time.time())
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)), str(second))
        values: dict[str, ContextValue] = {
            **identity.context,
            "aws:currenttime": self._second[1],
            "aws:epochtime": self._second[2],
            "aws:securetransport": "false",
        }
        if principal.source_ip:
            values["aws:sourceip"] = principal.source_ip
        if context:
            values.update(Request(action, resource, context).context)
        return evaluate(identity.policies, _request(action, resource, values))

    def _record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        decision: Decision,
        context: Mapping[str, ContextValue] | None,
    ) -> None:
        if self.audit is None:
            return
        source = (context or {}).get("aws:SourceIp") if context else None
        source = source or principal.source_ip
        self.audit.append(
            time.time(), principal.arn, action, resource, decision.outcome, decision.policy, decision.statement,
            source if isinstance(source, str) else None, request_id.get() or f"{_PROCESS}-{next(_SEQUENCE)}",
        )  # fmt: skip

    def _identity(self, principal: Principal) -> _Identity:
        generation = self.generation()
        cached = self._cache.get(principal.arn)
        if cached is not None and cached.generation == generation:
            return cached
        documents: list[tuple[str, str]] = []
        context: dict[str, ContextValue] = {"aws:PrincipalArn": principal.arn}
        tags: Mapping[str, str] = {}
        system = self._system()
        if self._db is not None and principal.kind == USER:
            user = system.find_user(principal.name)
            context["aws:username"] = principal.name
            if user is not None and user.arn == principal.arn:
                context["aws:userid"] = user.user_id
                tags = user.tags
                documents = system.identity_documents("user", user.name)
        elif self._db is not None and principal.kind == ASSUMED_ROLE:
            try:
                role = system.get_role(principal.name)
            except NoSuchEntity:
                role = None
            if role is not None:
                context["aws:userid"] = f"{role.role_id}:{principal.session}"
                context["aws:PrincipalArn"] = role.arn
                tags = role.tags
                documents = system.identity_documents("role", role.name)
        for key, value in tags.items():
            context[f"aws:PrincipalTag/{key}"] = value
        try:
            policies = tuple(parse_policy(document, name=label) for label, document in documents)
        except PolicyError as exc:  # a stored policy the grammar now rejects: fail closed, and say which
            raise AccessDenied(
                f"User: {principal.arn} cannot be authorized: {exc.message}", hint="fix or delete that policy"
            ) from exc
        identity = _Identity(generation, policies, Request("", "", context).context)  # keys lower-cased once
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[principal.arn] = identity
        return identity

    def resolve(self, name: str) -> Principal:
        """A principal from a user name, ``role/<name>``, or a user or role ARN (a role gives an assumed-role
        principal with session ``simulation``)."""
        if name.startswith("arn:"):
            resource = name.split(":", 5)[-1]
            kind, _, rest = resource.partition("/")
            name = rest.rsplit("/", 1)[-1] if kind == "user" else f"role/{rest.rsplit('/', 1)[-1]}"
            if kind not in ("user", "role"):
                raise InvalidInput(f"{name} is not a user or role ARN")
        if name.startswith("role/"):
            role = self._system().get_role(name.removeprefix("role/"))
            return self._session(role.name, "simulation")
        if name == self.admin.name:
            return self.admin
        user = self._system().get_user(name)
        return Principal(arn=user.arn, name=user.name)

    # ---- identities

    def ensure_user(self, name: str) -> User:
        found = self.find_user(name)
        return found if found is not None else self.create_user(name)

    def authenticate(self, access_key_id: str, secret_access_key: str) -> Principal:
        """The user owning an active access key with this secret; InvalidClientTokenId otherwise (never saying
        whether the key id, the secret or the key's status was wrong). Records the key's last use."""
        user = self._system().get_user(self.check_secret(access_key_id, secret_access_key))
        return Principal(arn=user.arn, name=user.name)

    def _session(self, role: str, session: str, source_ip: str | None = None) -> Principal:
        arn = f"arn:aws:sts::{self.account_id}:assumed-role/{role}/{session}"
        return Principal(arn=arn, name=role, kind=ASSUMED_ROLE, session=session, source_ip=source_ip)

    def assume_role(self, principal: Principal, role_name: str, session_name: str | None = None) -> Principal:
        """sts:AssumeRole: the role's trust policy must name ``principal`` (a user or role ARN, the account, or an
        AWS service such as ``glue.amazonaws.com``); when it names only the account, ``principal``'s own policies
        must allow sts:AssumeRole on the role too. Returns the assumed-role session principal."""
        role = self._system().get_role(role_name)
        session = _SESSION.sub("-", session_name or principal.name)[:64] or "session"
        if principal.arn != self.admin.arn:
            trust = parse_policy(role.trust_policy, name=f"trust policy of role {role.name}", kind="trust")
            kept, via_account = trusted_statements(trust, principal, self.account_id)
            context: dict[str, ContextValue] = (
                {} if principal.kind == SERVICE else dict(self._identity(principal).context)
            )
            if principal.source_ip:
                context["aws:SourceIp"] = principal.source_ip
            decision = evaluate([kept], Request(ASSUME_ROLE, role.arn, context))
            self._record(principal, ASSUME_ROLE, role.arn, decision, None)
            if not decision.allowed:
                raise AccessDenied(
                    f"User: {principal.arn} is not authorized to perform: {ASSUME_ROLE} on resource: {role.arn}",
                    hint=f"the trust policy of role {role.name} does not allow this principal",
                )
            if via_account:
                self.authorize(principal, ASSUME_ROLE, role.arn)
        return self._session(role.name, session, principal.source_ip)

    # ---- roles that services act as (a job's or a crawler's role)

    def role_arn(self, role: str) -> str:
        """A role's ARN from its name, ``role/<name>`` or ARN."""
        return role if role.startswith("arn:") else self.entity_arn("role", role_name_of(role))

    def pass_role(self, principal: Principal, role: str) -> None:
        """iam:PassRole: may ``principal`` give ``role`` to a job or crawler (which will then act as it)?"""
        self.authorize(principal, PASS_ROLE, self.role_arn(role))

    def assume_role_for(self, service: str, role: str, session: str) -> Principal:
        """``service`` (``glue.amazonaws.com``) assuming ``role`` for one run. AccessDenied with a one-line reason
        naming the role when it does not exist or its trust policy does not allow the service."""
        name = role_name_of(role)
        try:
            return self.assume_role(service_principal(service), name, session)
        except NoSuchEntity:
            raise AccessDenied(
                f"role {name} does not exist, so {service} cannot assume it",
                hint="create it (lakeport iam create-role) or change the role the definition names",
            ) from None
        except AccessDenied:
            raise AccessDenied(
                f"role {name} does not trust {service}: its trust policy must allow {service} to call {ASSUME_ROLE}",
                hint=f"lakeport iam update-assume-role-policy --role-name {name} ...",
            ) from None

    # ---- AWS's per-principal names for attaching and inline policies

    def attach_user_policy(self, user: str, policy: str) -> None:
        self.attach_policy("user", user, policy)

    def attach_group_policy(self, group: str, policy: str) -> None:
        self.attach_policy("group", group, policy)

    def attach_role_policy(self, role: str, policy: str) -> None:
        self.attach_policy("role", role, policy)

    def detach_user_policy(self, user: str, policy: str) -> None:
        self.detach_policy("user", user, policy)

    def detach_group_policy(self, group: str, policy: str) -> None:
        self.detach_policy("group", group, policy)

    def detach_role_policy(self, role: str, policy: str) -> None:
        self.detach_policy("role", role, policy)

    def put_user_policy(self, user: str, name: str, document: str | Mapping[str, Any]) -> None:
        self.put_inline_policy("user", user, name, document)

    def put_group_policy(self, group: str, name: str, document: str | Mapping[str, Any]) -> None:
        self.put_inline_policy("group", group, name, document)

    def put_role_policy(self, role: str, name: str, document: str | Mapping[str, Any]) -> None:
        self.put_inline_policy("role", role, name, document)

    # ---- the audit trail (CloudTrail's LookupEvents)

    def lookup_events(
        self,
        *,
        principal: str | None = None,
        action: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Recorded decisions, newest first (cloudtrail:LookupEvents on ``*``); empty without a lake."""
        if self.caller is not None:
            self.authorize(self.caller, "cloudtrail:LookupEvents", "*")
        if self.audit is None:
            return []
        return self.audit.events(principal=principal, action=action, decision=decision, since=since, limit=limit)

    # ---- lifetime

    def flush(self) -> None:
        """Write buffered audit events now."""
        if self.audit is not None:
            self.audit.flush()

    def close(self) -> None:
        self.flush()
