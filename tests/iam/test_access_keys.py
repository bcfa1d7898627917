"""Access keys: shown once, kept only as a salted scrypt hash, at most two per user, authenticate in constant time."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from lakeport import Lake
from lakeport.errors import AccessDenied, LimitExceeded, NoSuchEntity
from lakeport.iam.accesskeys import hash_secret
from lakeport.iam.credentials import (
    credentials_path,
    ensure_admin_credentials,
    find_credentials,
    read_credentials_file,
    write_credentials_file,
)
from lakeport.iam.schema import iam_access_keys


def test_a_key_has_an_aws_shaped_id_and_a_40_character_secret(local_lake: Lake) -> None:
    local_lake.iam.create_user("ann")
    created = local_lake.iam.create_access_key("ann")
    assert created.key.id.startswith("LKIA")
    assert len(created.key.id) == 20
    assert created.key.id.isupper()
    assert len(created.secret) == 40
    assert created.secret not in repr(created)
    assert created.to_dict()["SecretAccessKey"] == created.secret
    listed = local_lake.iam.list_access_keys("ann")
    assert [k.id for k in listed] == [created.key.id]
    assert "SecretAccessKey" not in listed[0].to_dict()


def test_only_a_salted_slow_hash_is_stored(local_lake: Lake) -> None:
    local_lake.iam.create_user("ann")
    first, second = local_lake.iam.create_access_key("ann"), local_lake.iam.create_access_key("ann")
    with local_lake.db.read() as conn:
        rows = {r.id: r for r in conn.execute(select(iam_access_keys)).all()}
    one = rows[first.key.id]
    assert bytes(one.secret_hash) == hash_secret(first.secret, bytes(one.salt))
    assert bytes(one.salt) != bytes(rows[second.key.id].salt)
    assert first.secret.encode() not in bytes(one.secret_hash)


def test_at_most_two_keys_per_user(local_lake: Lake) -> None:
    local_lake.iam.create_user("ann")
    local_lake.iam.create_access_key("ann")
    local_lake.iam.create_access_key("ann")
    with pytest.raises(LimitExceeded) as info:
        local_lake.iam.create_access_key("ann")
    assert info.value.code == "LimitExceeded"
    with pytest.raises(NoSuchEntity):
        local_lake.iam.create_access_key("nobody")


def test_authenticate_good_bad_inactive_and_unknown_look_alike(local_lake: Lake) -> None:
    iam = local_lake.iam
    iam.create_user("ann")
    created = iam.create_access_key("ann")
    principal = iam.authenticate(created.key.id, created.secret)
    assert principal.arn == "arn:aws:iam::000000000000:user/ann"
    assert principal.name == "ann"
    used = iam.get_access_key(created.key.id)
    assert used.last_used is not None
    assert used.last_used_action
    messages = set()
    for key_id, secret in ((created.key.id, "x" * 40), ("LKIANOSUCHKEY0000000", created.secret)):
        with pytest.raises(AccessDenied) as info:
            iam.authenticate(key_id, secret)
        assert info.value.code == "InvalidClientTokenId"
        messages.add(info.value.message)
    iam.update_access_key(created.key.id, "Inactive")
    with pytest.raises(AccessDenied) as info:
        iam.authenticate(created.key.id, created.secret)
    messages.add(info.value.message)
    assert len(messages) == 1  # never says which part was wrong
    iam.update_access_key(created.key.id, "Active", user="ann")
    assert iam.authenticate(created.key.id, created.secret).name == "ann"
    iam.delete_access_key(created.key.id, user="ann")
    with pytest.raises(AccessDenied):
        iam.authenticate(created.key.id, created.secret)


def test_the_credentials_file_is_owner_only_and_round_trips(local_lake: Lake) -> None:
    path = ensure_admin_credentials(local_lake.iam, local_lake.root)
    assert path == credentials_path(local_lake.root)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ensure_admin_credentials(local_lake.iam, local_lake.root) is None  # not twice
    found = read_credentials_file(path)
    assert found is not None
    assert local_lake.iam.authenticate(found.access_key_id, found.secret_access_key) == local_lake.iam.admin
    os.chmod(path, 0o644)
    write_credentials_file(path, found.access_key_id, found.secret_access_key)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_environment_credentials_win_over_the_file(local_lake: Lake) -> None:
    with pytest.raises(AccessDenied) as info:
        find_credentials(local_lake.root, environ={})
    assert "LAKEPORT_ACCESS_KEY_ID" in (info.value.hint or "")
    ensure_admin_credentials(local_lake.iam, local_lake.root)
    assert find_credentials(local_lake.root, environ={}).source.endswith("credentials")
    env = {"AWS_ACCESS_KEY_ID": "LKIAAAAAAAAAAAAAAAAA", "AWS_SECRET_ACCESS_KEY": "s"}
    assert find_credentials(local_lake.root, environ=env).source == "$AWS_ACCESS_KEY_ID"
    env |= {"LAKEPORT_ACCESS_KEY_ID": "LKIABBBBBBBBBBBBBBBB", "LAKEPORT_SECRET_ACCESS_KEY": "t"}
    assert find_credentials(local_lake.root, environ=env).access_key_id == "LKIABBBBBBBBBBBBBBBB"
