"""IAM: users, groups, roles, managed and inline policies, attachments, access keys, the audit trail.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "iam_users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "iam_groups",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("group_id", sa.String(32), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "iam_group_members",
        sa.Column("group_name", sa.String(128), sa.ForeignKey("iam_groups.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("iam_users.name", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_iam_group_members_user_name", "iam_group_members", ["user_name"])
    op.create_table(
        "iam_roles",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role_id", sa.String(32), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("trust_policy", sa.Text, nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "iam_policies",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("default_version", sa.String(8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "iam_policy_versions",
        sa.Column(
            "policy_name", sa.String(128), sa.ForeignKey("iam_policies.name", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version_id", sa.String(8), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "iam_attachments",
        sa.Column("principal_type", sa.String(8), primary_key=True),
        sa.Column("principal_name", sa.String(128), primary_key=True),
        sa.Column("policy_name", sa.String(128), sa.ForeignKey("iam_policies.name"), primary_key=True),
    )
    op.create_index("ix_iam_attachments_policy_name", "iam_attachments", ["policy_name"])
    op.create_table(
        "iam_inline_policies",
        sa.Column("principal_type", sa.String(8), primary_key=True),
        sa.Column("principal_name", sa.String(128), primary_key=True),
        sa.Column("policy_name", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "iam_access_keys",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("iam_users.name"), nullable=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
        sa.Column("last_used_action", sa.String(128), nullable=True),
    )
    op.create_index("ix_iam_access_keys_user_name", "iam_access_keys", ["user_name"])
    op.create_table(
        "iam_audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", _TS, nullable=False),
        sa.Column("principal", sa.String(512), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("resource", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("policy", sa.String(256), nullable=True),
        sa.Column("statement", sa.String(256), nullable=True),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_iam_audit_events_time", "iam_audit_events", ["time"])
    op.create_index("ix_iam_audit_events_principal", "iam_audit_events", ["principal"])


def downgrade() -> None:
    op.drop_index("ix_iam_audit_events_principal", table_name="iam_audit_events")
    op.drop_index("ix_iam_audit_events_time", table_name="iam_audit_events")
    op.drop_table("iam_audit_events")
    op.drop_index("ix_iam_access_keys_user_name", table_name="iam_access_keys")
    op.drop_table("iam_access_keys")
    op.drop_table("iam_inline_policies")
    op.drop_index("ix_iam_attachments_policy_name", table_name="iam_attachments")
    op.drop_table("iam_attachments")
    op.drop_table("iam_policy_versions")
    op.drop_table("iam_policies")
    op.drop_table("iam_roles")
    op.drop_index("ix_iam_group_members_user_name", table_name="iam_group_members")
    op.drop_table("iam_group_members")
    op.drop_table("iam_groups")
    op.drop_table("iam_users")
