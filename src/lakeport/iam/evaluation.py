"""The decision: may this request proceed under these identity-based policies?

IAM's evaluation logic for one principal's identity-based policies (its own, its groups', or a role's): every
statement whose Action, Resource and Condition all match the request applies; an applying ``Deny`` is an explicit
deny and wins over everything; otherwise an applying ``Allow`` allows; otherwise the request is implicitly denied.
A statement whose policy variables (in Resource or condition values) have no value in the request never applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lakeport.iam.matching import ContextValue, variable_value
from lakeport.iam.policy import Policy, Statement

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Request:
    """What is being attempted: an action (``s3:GetObject``), a resource ARN and the request context.

    Context keys are condition keys (``aws:username``, ``aws:SourceIp``, ``aws:PrincipalTag/team``, ``s3:prefix``),
    looked up case-insensitively; a value is a string, a list of strings (multivalued keys) or ``None`` (absent).
    """

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lowered = {}
        for key, value in self.context.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif value is not None and not isinstance(value, str):
                value = tuple(str(v) for v in value)
            lowered[key.lower()] = value
        object.__setattr__(self, "context", lowered)


@dataclass(frozen=True)
class Decision:
    """The outcome, and the policy and statement (Sid or ``#index``) that decided it (``None`` for implicit deny)."""

    allowed: bool
    outcome: str  # "Allow" | "ExplicitDeny" | "ImplicitDeny"
    policy: str | None = None
    statement: str | None = None


class _Plan:
    """A statement reduced to what evaluation needs, built once per statement."""

    __slots__ = (
        "action",
        "action_positive",
        "conditions",
        "deny",
        "label",
        "required",
        "resource",
        "resource_positive",
    )

    def __init__(self, statement: Statement) -> None:
        self.deny = statement.effect == "Deny"
        self.label = statement.label
        self.action = statement.action_matcher
        self.action_positive = statement.actions is not None
        self.resource = statement.resource_matcher
        self.resource_positive = statement.resources is not None
        block = statement.condition_block
        self.conditions = block if block else None
        required = set(block.required_variables)
        if self.resource is not None:
            for template in self.resource.templates:
                required.update(p.text for p in template.parts if p.kind == "variable" and p.default is None)
        self.required = tuple(sorted(required))

    def applies(self, request: Request) -> bool:
        if self.action.matches(request.action) is not self.action_positive:
            return False
        context = request.context
        for key in self.required:
            if variable_value(context, key) is None:
                return False
        resource = self.resource
        if resource is not None and resource.matches(request.resource, context) is not self.resource_positive:
            return False
        return self.conditions is None or self.conditions.evaluate(context) is True


def _plan(statement: Statement) -> _Plan:
    plan: _Plan | None = statement.__dict__.get("_plan")
    if plan is None:
        plan = statement.__dict__["_plan"] = _Plan(statement)
    return plan


def statement_applies(statement: Statement, request: Request) -> bool:
    """Whether ``statement`` matches the request's action, resource and conditions."""
    return _plan(statement).applies(request)


def evaluate(policies: Sequence[Policy], request: Request) -> Decision:
    """Explicit Deny beats Allow beats the implicit deny; O(statements), stopping at the first applying Deny."""
    allow: Decision | None = None
    for policy in policies:
        for statement in policy.statements:
            plan = statement.__dict__.get("_plan") or _plan(statement)
            if allow is not None and not plan.deny:
                continue  # already allowed: only a Deny can still change the outcome
            if not plan.applies(request):
                continue
            if plan.deny:
                return Decision(False, EXPLICIT_DENY, policy.name, plan.label)
            allow = Decision(True, ALLOW, policy.name, plan.label)
    return allow or Decision(False, IMPLICIT_DENY)


def explain(decision: Decision, request: Request) -> str:
    """One line saying why: ``denied by statement DenyProd in policy X`` / ``denied: no statement allows ...``."""
    target = f"{request.action} on {request.resource}"
    if decision.outcome == ALLOW:
        return f"allowed: statement {decision.statement} in policy {decision.policy} allows {target}"
    if decision.outcome == EXPLICIT_DENY:
        return f"denied by statement {decision.statement} in policy {decision.policy} ({target})"
    return f"denied: no statement allows {target} (implicit deny)"
