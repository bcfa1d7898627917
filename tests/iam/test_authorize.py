"""The access choke point: every storage call is authorized with AWS action names and ARNs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.iam import Principal, service_principal


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


# ---- identity policies decide for everyone but the administrator

GLUE = "arn:aws:glue:us-east-1:000000000000"
ATHENA_PRIMARY = "arn:aws:athena:us-east-1:000000000000:workgroup/primary"


def _policy(*statements: Mapping[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: object, resource: object, **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.fixture
def ann(local_lake: Lake) -> Principal:
    local_lake.iam.create_user("ann", tags={"team": "data"})
    return local_lake.iam.resolve("ann")


def test_an_attached_policy_allows_and_the_message_says_why_not(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    iam.create_policy("read-staging", _policy(_allow("s3:GetObject", "arn:aws:s3:::lakeport/staging/*") | {"Sid": "R"}))
    iam.attach_user_policy("ann", "read-staging")
    local_lake.storage.put_object("lakeport", "staging/a.csv", b"x")
    storage = local_lake.as_principal(ann).storage
    assert storage.read_bytes("lakeport", "staging/a.csv") == b"x"
    with pytest.raises(AccessDenied) as info:
        storage.put_object("lakeport", "staging/b.csv", b"y")
    assert info.value.message == (
        "User: arn:aws:iam::000000000000:user/ann is not authorized to perform: s3:PutObject on resource: "
        "arn:aws:s3:::lakeport/staging/b.csv because no identity-based policy allows the s3:PutObject action"
    )
    assert [o.key for o in local_lake.storage.list_objects("lakeport", prefix="staging/").objects] == ["staging/a.csv"]


def test_an_explicit_deny_wins_and_names_the_policy(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    iam.put_user_policy("ann", "all-s3", _policy(_allow("s3:*", "*")))
    iam.create_group("careful")
    iam.add_user_to_group("careful", "ann")
    deny = {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    iam.put_group_policy("careful", "no-deletes", _policy(deny))
    iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/k")
    with pytest.raises(AccessDenied) as info:
        iam.authorize(ann, "s3:DeleteObject", "arn:aws:s3:::lakeport/k")
    assert info.value.message.endswith("with an explicit deny in an identity-based policy: group/careful/no-deletes")
    decision = iam.simulate("ann", "s3:DeleteObject", "arn:aws:s3:::lakeport/k")
    assert (decision.outcome, decision.policy, decision.statement) == (
        "ExplicitDeny", "group/careful/no-deletes", "NoDeletes",
    )  # fmt: skip


def test_changes_apply_at_once_and_other_processes_see_them(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    resource = "arn:aws:s3:::lakeport/k"
    with Lake.open(local_lake.root) as other:
        other.iam.refresh_seconds = 0.05
        with pytest.raises(AccessDenied):
            other.iam.authorize(ann, "s3:GetObject", resource)
        iam.create_policy("read", _policy(_allow("s3:GetObject", "*")))
        iam.attach_user_policy("ann", "read")
        iam.authorize(ann, "s3:GetObject", resource)  # this process: at once
        time.sleep(0.1)
        other.iam.authorize(ann, "s3:GetObject", resource)  # another one: within refresh_seconds
        iam.detach_user_policy("ann", "read")
        with pytest.raises(AccessDenied):
            iam.authorize(ann, "s3:GetObject", resource)
        time.sleep(0.1)
        with pytest.raises(AccessDenied):
            other.iam.authorize(ann, "s3:GetObject", resource)


def test_the_request_context_fills_policy_variables_and_conditions(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    home = _allow("s3:*", "arn:aws:s3:::lakeport/home/${aws:username}/*")
    team = _allow("s3:GetObject", "arn:aws:s3:::lakeport/teams/*",
                  Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}})  # fmt: skip
    office = _allow("s3:PutObject", "arn:aws:s3:::lakeport/office/*",
                    Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})  # fmt: skip
    iam.put_user_policy("ann", "mine", _policy(home, team, office))
    assert iam.simulate(ann, "s3:PutObject", "arn:aws:s3:::lakeport/home/ann/x").allowed
    assert not iam.simulate(ann, "s3:PutObject", "arn:aws:s3:::lakeport/home/bob/x").allowed
    assert iam.simulate(ann, "s3:GetObject", "arn:aws:s3:::lakeport/teams/x").allowed
    assert not iam.simulate(ann, "s3:PutObject", "arn:aws:s3:::lakeport/office/x").allowed
    assert iam.simulate(ann, "s3:PutObject", "arn:aws:s3:::lakeport/office/x", {"aws:SourceIp": "10.1.2.3"}).allowed
    from_office = Principal(ann.arn, ann.name, source_ip="10.9.9.9")
    iam.authorize(from_office, "s3:PutObject", "arn:aws:s3:::lakeport/office/x")


def test_roles_are_assumed_through_their_trust_policy(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    trust = _policy(
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/ann"}, "Action": "sts:AssumeRole"},
    )
    iam.create_role("etl", trust)
    iam.put_role_policy("etl", "jobs", _policy(_allow("glue:StartJobRun", f"{GLUE}:job/spotify")))
    glue = iam.assume_role(service_principal("glue.amazonaws.com"), "etl", "run-1")
    assert glue.arn == "arn:aws:sts::000000000000:assumed-role/etl/run-1"
    assert glue.kind == "assumed-role"
    iam.authorize(glue, "glue:StartJobRun", f"{GLUE}:job/spotify")
    with pytest.raises(AccessDenied) as info:
        iam.authorize(glue, "glue:StartJobRun", f"{GLUE}:job/other")
    assert "assumed-role/etl/run-1" in info.value.message
    assert iam.assume_role(ann, "etl").arn == "arn:aws:sts::000000000000:assumed-role/etl/ann"
    iam.create_user("bob")
    with pytest.raises(AccessDenied) as info:
        iam.assume_role(iam.resolve("bob"), "etl")
    assert "sts:AssumeRole" in info.value.message
    assert "role/etl" in info.value.message
    with pytest.raises(AccessDenied):
        iam.assume_role(service_principal("states.amazonaws.com"), "etl")


def test_trusting_the_account_also_needs_the_callers_own_permission(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    trust = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}
    role = iam.create_role("analyst", _policy(trust))
    with pytest.raises(AccessDenied):
        iam.assume_role(ann, "analyst")
    iam.put_user_policy("ann", "assume", _policy(_allow("sts:AssumeRole", role.arn)))
    assert iam.assume_role(ann, "analyst", "s1").name == "analyst"
    assert iam.assume_role(iam.admin, "analyst").kind == "assumed-role"


def test_a_repeat_decision_is_cached_and_costs_microseconds(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    iam.create_policy("read", _policy(_allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::lakeport/*")))
    iam.attach_user_policy("ann", "read")
    iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/k")
    calls = 2000
    started = time.perf_counter()
    for _ in range(calls):
        iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/k")
    per_call = (time.perf_counter() - started) / calls
    assert per_call < 0.001  # ~10-30 µs measured; generous for a shared, loaded machine


# ---- a real query as a least-privileged user


@pytest.fixture
def tables(local_lake: Lake) -> Lake:
    local_lake.storage.put_object("lakeport", "raw/people/p.csv", b"1,ann,10\n2,bob,20\n")
    local_lake.storage.put_object("lakeport", "raw/secret/s.csv", b"1,gold\n")
    for sql in (
        "CREATE DATABASE db",
        "CREATE EXTERNAL TABLE db.people (id int, name string, score int) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/people/'",
        "CREATE EXTERNAL TABLE db.secret (id int, tier string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/secret/'",
    ):
        assert local_lake.query(sql).state == "SUCCEEDED"
    return local_lake


def test_an_analyst_queries_allowed_tables_and_is_denied_the_rest(tables: Lake, ann: Principal) -> None:
    iam = tables.iam
    analyst = _policy(
        _allow(["athena:StartQueryExecution", "athena:Get*"], ATHENA_PRIMARY),
        _allow(["glue:GetTable", "glue:GetDatabase", "glue:GetPartitions"],
               [f"{GLUE}:catalog", f"{GLUE}:database/db", f"{GLUE}:table/db/people"]),
        _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lakeport/results/*"),
        _allow("s3:GetObject", "arn:aws:s3:::lakeport/raw/people/*"),
        _allow("s3:ListBucket", "arn:aws:s3:::lakeport"),
    )  # fmt: skip
    iam.create_policy("analyst", analyst)
    iam.attach_user_policy("ann", "analyst")
    as_ann = tables.as_principal(ann)
    done = as_ann.query("SELECT name FROM people ORDER BY id", database="db")
    assert done.state == "SUCCEEDED", done.state_change_reason
    rows = as_ann.queries.get_query_results(done.id)["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["name", "ann", "bob"]
    for sql in ("SELECT * FROM secret", "CREATE TABLE leak AS SELECT * FROM secret"):
        failed = as_ann.query(sql, database="db")
        assert failed.state == "FAILED"
        reason = failed.state_change_reason or ""
        assert "User: arn:aws:iam::000000000000:user/ann is not authorized to perform: glue:" in reason
        assert f"{GLUE}:table/db/" in reason
    assert "glue:GetTable" in (as_ann.query("SELECT * FROM secret", database="db").state_change_reason or "")
    assert sorted(t.name for t in tables.catalog.list_tables("db")) == ["people", "secret"]  # nothing changed


def test_listing_can_be_limited_to_a_prefix_with_the_s3_prefix_condition_key(tmp_path: Path) -> None:
    """IAM User Guide / S3: s3:ListBucket with a Condition on s3:prefix allows listing one folder of a bucket."""
    lake = Lake.init(tmp_path / "lake")
    lake.storage.put_object("lakeport", "home/ann/a.txt", b"a")
    lake.storage.put_object("lakeport", "home/bob/b.txt", b"b")
    lake.iam.create_user("ann")
    lake.iam.put_user_policy(
        "ann",
        "own-folder",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::lakeport",
                    "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
                }
            ],
        },
    )
    ann = lake.as_principal(lake.iam.resolve("ann"))
    assert [o.key for o in ann.storage.iter_objects("lakeport", prefix="home/ann/")] == ["home/ann/a.txt"]
    with pytest.raises(AccessDenied, match="s3:ListBucket"):
        list(ann.storage.iter_objects("lakeport", prefix="home/bob/"))
    lake.close()
