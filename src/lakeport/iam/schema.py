"""IAM's tables in the metadata DB: users, groups, roles, managed and inline policies, attachments, access keys
and the audit trail (CloudTrail's role)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from lakeport.metadata.schema import metadata_obj

_TS = DateTime(timezone=True)

iam_users = Table(
    "iam_users",
    metadata_obj,
    Column("name", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False),  # AIDA…, AWS's UserId
    Column("arn", String(512), nullable=False),
    Column("path", String(512), nullable=False),
    Column("tags", JSON, nullable=False),  # {key: value}
    Column("created_at", _TS, nullable=False),
)

iam_groups = Table(
    "iam_groups",
    metadata_obj,
    Column("name", String(128), primary_key=True),
    Column("group_id", String(32), nullable=False),
    Column("arn", String(512), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created_at", _TS, nullable=False),
)

iam_group_members = Table(
    "iam_group_members",
    metadata_obj,
    Column("group_name", String(128), ForeignKey("iam_groups.name", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(64), ForeignKey("iam_users.name", ondelete="CASCADE"), primary_key=True),
)
Index("ix_iam_group_members_user_name", iam_group_members.c.user_name)

iam_roles = Table(
    "iam_roles",
    metadata_obj,
    Column("name", String(64), primary_key=True),
    Column("role_id", String(32), nullable=False),  # AROA…
    Column("arn", String(512), nullable=False),
    Column("path", String(512), nullable=False),
    Column("trust_policy", Text, nullable=False),  # AssumeRolePolicyDocument, as given
    Column("description", String(1000), nullable=True),
    Column("tags", JSON, nullable=False),
    Column("created_at", _TS, nullable=False),
)

iam_policies = Table(
    "iam_policies",
    metadata_obj,
    Column("name", String(128), primary_key=True),
    Column("policy_id", String(32), nullable=False),  # ANPA…
    Column("arn", String(512), nullable=False),
    Column("path", String(512), nullable=False),
    Column("description", String(1000), nullable=True),
    Column("default_version", String(8), nullable=False),  # v1, v2, …
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata_obj,
    Column("policy_name", String(128), ForeignKey("iam_policies.name", ondelete="CASCADE"), primary_key=True),
    Column("version_id", String(8), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", _TS, nullable=False),
)

iam_attachments = Table(
    "iam_attachments",
    metadata_obj,
    Column("principal_type", String(8), primary_key=True),  # user | group | role
    Column("principal_name", String(128), primary_key=True),
    Column("policy_name", String(128), ForeignKey("iam_policies.name"), primary_key=True),
)
Index("ix_iam_attachments_policy_name", iam_attachments.c.policy_name)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata_obj,
    Column("principal_type", String(8), primary_key=True),  # user | group | role
    Column("principal_name", String(128), primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

iam_access_keys = Table(
    "iam_access_keys",
    metadata_obj,
    Column("id", String(20), primary_key=True),  # LKIA + 16
    Column("user_name", String(64), ForeignKey("iam_users.name"), nullable=False),
    Column("salt", LargeBinary(16), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False),  # scrypt(secret, salt): the secret itself is never kept
    Column("status", String(8), nullable=False),  # Active | Inactive
    Column("created_at", _TS, nullable=False),
    Column("last_used_at", _TS, nullable=True),
    Column("last_used_action", String(128), nullable=True),
)
Index("ix_iam_access_keys_user_name", iam_access_keys.c.user_name)

iam_audit_events = Table(
    "iam_audit_events",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", _TS, nullable=False),
    Column("principal", String(512), nullable=False),
    Column("action", String(128), nullable=False),
    Column("resource", Text, nullable=False),
    Column("decision", String(16), nullable=False),  # Allow | ExplicitDeny | ImplicitDeny
    Column("policy", String(256), nullable=True),
    Column("statement", String(256), nullable=True),
    Column("source_ip", String(64), nullable=True),
    Column("request_id", String(64), nullable=False),
)
Index("ix_iam_audit_events_time", iam_audit_events.c.time)
Index("ix_iam_audit_events_principal", iam_audit_events.c.principal)
