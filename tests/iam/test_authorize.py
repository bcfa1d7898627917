"""The access choke point: every storage call is authorized with AWS action names and ARNs."""

from __future__ import annotations

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.iam import Principal


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        (lambda s, b: s.put_object(b, "staging/a.csv", b"x"), "s3:PutObject", "arn:aws:s3:::{b}/staging/a.csv"),
        (lambda s, b: s.get_object(b, "staging/a.csv"), "s3:GetObject", "arn:aws:s3:::{b}/staging/a.csv"),
        (lambda s, b: s.head_object(b, "staging/a.csv"), "s3:GetObject", "arn:aws:s3:::{b}/staging/a.csv"),
        (lambda s, b: s.delete_object(b, "staging/a.csv"), "s3:DeleteObject", "arn:aws:s3:::{b}/staging/a.csv"),
        (lambda s, b: s.list_objects(b), "s3:ListBucket", "arn:aws:s3:::{b}"),
        (lambda s, b: s.create_bucket("new-bucket"), "s3:CreateBucket", "arn:aws:s3:::new-bucket"),
        (lambda s, b: s.delete_bucket(b), "s3:DeleteBucket", "arn:aws:s3:::{b}"),
        (lambda s, b: s.list_buckets(), "s3:ListAllMyBuckets", "arn:aws:s3:::*"),
        (lambda s, b: s.copy_object(b, "staging/a.csv", b, "c.csv"), "s3:GetObject", "arn:aws:s3:::{b}/staging/a.csv"),
        (lambda s, b: s.presign(b, "staging/a.csv"), "s3:GetObject", "arn:aws:s3:::{b}/staging/a.csv"),
    ],
)
def test_other_principals_are_denied_with_action_and_arn(
    local_lake: Lake, call: object, action: str, resource: str
) -> None:
    bucket = local_lake.settings.storage.default_bucket
    local_lake.storage.put_object(bucket, "staging/a.csv", b"kept")
    stranger = Principal("arn:aws:iam::000000000000:user/analyst", "analyst")
    storage = local_lake.as_principal(stranger).storage
    with pytest.raises(AccessDenied) as info:
        call(storage, bucket)  # type: ignore[operator]
    message = info.value.message
    assert stranger.arn in message
    assert action in message
    assert resource.format(b=bucket) in message
    # Denied calls change nothing.
    assert local_lake.storage.read_bytes(bucket, "staging/a.csv") == b"kept"
    assert [b.name for b in local_lake.storage.list_buckets()] == [bucket]


def test_the_local_admin_is_allowed(local_lake: Lake) -> None:
    assert local_lake.principal.arn == "arn:aws:iam::000000000000:user/admin"
    local_lake.iam.authorize(local_lake.principal, "s3:GetObject", "arn:aws:s3:::any/thing")
