"""The one choke point every service calls before it acts: ``iam.authorize(principal, action, resource)``.

Until users, roles and policies land, the lake's local administrator may do everything and every other
principal is denied (IAM's default is an implicit deny).
"""

from __future__ import annotations

from lakeport.errors import AccessDenied
from lakeport.iam.arns import user_arn
from lakeport.iam.principal import Principal


class IAM:
    def __init__(self, account_id: str, admin_user: str) -> None:
        self.account_id = account_id
        self.admin = Principal(arn=user_arn(account_id, admin_user), name=admin_user)

    def authorize(self, principal: Principal, action: str, resource: str) -> None:
        """Return if ``principal`` may perform ``action`` (``s3:GetObject``) on ``resource`` (an ARN)."""
        if principal.arn == self.admin.arn:
            return
        raise AccessDenied(
            f"{principal.arn} is not authorized to perform {action} on resource {resource}",
            hint="no identity-based policy allows this action (implicit deny)",
        )
