"""AWS ARN formats, so policies written for AWS match lakeport's resources unchanged."""

from __future__ import annotations


def bucket_arn(bucket: str) -> str:
    """``arn:aws:s3:::bucket`` (S3 ARNs carry no region or account)."""
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    """``arn:aws:s3:::bucket/key``."""
    return f"arn:aws:s3:::{bucket}/{key}"


def user_arn(account_id: str, user: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{user}"


def glue_arn(region: str, account_id: str, resource: str) -> str:
    """``arn:aws:glue:region:account:resource`` with resource ``catalog``, ``database/db``, ``table/db/t``, ``crawler/n``."""
    return f"arn:aws:glue:{region}:{account_id}:{resource}"
