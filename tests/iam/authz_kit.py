"""The table of every service operation and the permission it needs: (service, method) → action → resource ARN.

``tests/iam/test_service_authorization.py`` runs each entry twice (a user with no policy is denied, naming the
action and resource, and nothing changes; a user allowed exactly that action on that resource succeeds), and fails
when a public method of a service has neither an entry nor a reason in ``NOT_OPERATIONS``. ``docs/iam.md``'s
per-operation table is printed from the same entries (``python -m tests.iam.authz_kit``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.crawler.runs import CrawlerNotRunningException
from lakeport.errors import AccessDenied, Conflict
from tests.etl.jobs_kit import copy_job

ACCOUNT = "000000000000"
BUCKET = "lakeport"
KEY = "staging/in/a.csv"
GLUE = f"arn:aws:glue:us-east-1:{ACCOUNT}"
ATHENA = f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup"
IAM_ARN = f"arn:aws:iam::{ACCOUNT}"
S3 = f"arn:aws:s3:::{BUCKET}"
QS = f"arn:aws:quicksight:us-east-1:{ACCOUNT}"
NAMES = {"s3": S3, "glue": GLUE, "athena": ATHENA, "iam": IAM_ARN, "key": KEY, "qs": QS}


@dataclass
class World:
    """What the set-up made, for calls that need an id (a run, a key, a named query)."""

    tmp: Path
    ids: dict[str, str] = field(default_factory=dict)


Call = Callable[[Lake, World], object]


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    action: str
    resource: str
    call: Call
    also: tuple[tuple[str, str], ...] = ()
    """Further permissions the operation needs to succeed (checked after the first, so not in the denial)."""
    needs: tuple[str, ...] = ()
    """Set-up beyond the default world: ``job_run``, ``crawl_run``, ``query``."""
    settles: tuple[type[Exception], ...] = ()
    """Errors that, once authorized, only say the state did not allow it (stopping a finished run)."""

    @property
    def id(self) -> str:
        return f"{self.service}.{self.method}"

    def arn(self) -> str:
        return self.resource.format(**NAMES)

    def grants(self) -> list[tuple[str, str]]:
        return [(self.action, self.arn()), *((a, r.format(**NAMES)) for a, r in self.also)]


def _csv_job(name: str) -> Any:
    return copy_job(name, f"s3://{BUCKET}/staging/in/", "db.out", columns={"id": "bigint", "name": "string"})


def _table_file(lake: Lake) -> str:
    folder = lake.warehouse.data_dir("db", "t")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{len(list(folder.iterdir()))}.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2], pa.int64())}), path)
    return str(path)


def _schema() -> pa.Schema:
    return pa.schema([("id", pa.int64())])


def _stream(value: object) -> object:
    return list(value) if inspect.isgenerator(value) else value


STORAGE = [
    Operation("storage", "create_bucket", "s3:CreateBucket", "arn:aws:s3:::fresh",
              lambda lk, w: lk.storage.create_bucket("fresh")),
    Operation("storage", "delete_bucket", "s3:DeleteBucket", "arn:aws:s3:::empty",
              lambda lk, w: lk.storage.delete_bucket("empty")),
    Operation("storage", "bucket_exists", "s3:ListBucket", "{s3}", lambda lk, w: lk.storage.bucket_exists(BUCKET)),
    Operation("storage", "list_buckets", "s3:ListAllMyBuckets", "arn:aws:s3:::*", lambda lk, w: lk.storage.list_buckets()),
    Operation("storage", "put_object", "s3:PutObject", "{s3}/staging/new.csv",
              lambda lk, w: lk.storage.put_object(BUCKET, "staging/new.csv", b"x")),
    Operation("storage", "put_objects", "s3:PutObject", "{s3}/staging/new.csv",
              lambda lk, w: lk.storage.put_objects([(BUCKET, "staging/new.csv", b"x", None)])),
    Operation("storage", "get_object", "s3:GetObject", "{s3}/{key}",
              lambda lk, w: lk.storage.get_object(BUCKET, KEY).read()),
    Operation("storage", "read_bytes", "s3:GetObject", "{s3}/{key}", lambda lk, w: lk.storage.read_bytes(BUCKET, KEY)),
    Operation("storage", "head_object", "s3:GetObject", "{s3}/{key}", lambda lk, w: lk.storage.head_object(BUCKET, KEY)),
    Operation("storage", "object_exists", "s3:GetObject", "{s3}/{key}",
              lambda lk, w: lk.storage.object_exists(BUCKET, KEY)),
    Operation("storage", "list_objects", "s3:ListBucket", "{s3}", lambda lk, w: lk.storage.list_objects(BUCKET)),
    Operation("storage", "iter_pages", "s3:ListBucket", "{s3}", lambda lk, w: list(lk.storage.iter_pages(BUCKET))),
    Operation("storage", "iter_objects", "s3:ListBucket", "{s3}", lambda lk, w: list(lk.storage.iter_objects(BUCKET))),
    Operation("storage", "delete_object", "s3:DeleteObject", "{s3}/{key}",
              lambda lk, w: lk.storage.delete_object(BUCKET, KEY)),
    Operation("storage", "copy_object", "s3:GetObject", "{s3}/{key}",
              lambda lk, w: lk.storage.copy_object(BUCKET, KEY, BUCKET, "staging/copy.csv"),
              also=(("s3:PutObject", "{s3}/staging/copy.csv"),)),
    Operation("storage", "upload_file", "s3:PutObject", "{s3}/staging/up.csv",
              lambda lk, w: lk.storage.upload_file(_local(w), BUCKET, "staging/up.csv")),
    Operation("storage", "download_file", "s3:GetObject", "{s3}/{key}",
              lambda lk, w: lk.storage.download_file(BUCKET, KEY, w.tmp / "down.csv")),
    Operation("storage", "presign", "s3:GetObject", "{s3}/{key}", lambda lk, w: lk.storage.presign(BUCKET, KEY)),
]  # fmt: skip


def _local(world: World) -> Path:
    path = world.tmp / "up.csv"
    path.write_bytes(b"id\n1\n")
    return path


JOBS = [
    Operation("jobs", "create_job", "glue:CreateJob", "{glue}:job/new", lambda lk, w: lk.jobs.create_job(_csv_job("new")),
              also=(("glue:GetJob", "{glue}:job/new"),)),
    Operation("jobs", "update_job", "glue:UpdateJob", "{glue}:job/copy",
              lambda lk, w: lk.jobs.update_job(_csv_job("copy")), also=(("glue:GetJob", "{glue}:job/copy"),)),
    Operation("jobs", "get_job", "glue:GetJob", "{glue}:job/copy", lambda lk, w: lk.jobs.get_job("copy")),
    Operation("jobs", "list_jobs", "glue:GetJobs", "{glue}:job/*", lambda lk, w: lk.jobs.list_jobs()),
    Operation("jobs", "delete_job", "glue:DeleteJob", "{glue}:job/copy", lambda lk, w: lk.jobs.delete_job("copy")),
    Operation("jobs", "start_job_run", "glue:StartJobRun", "{glue}:job/copy",
              lambda lk, w: lk.jobs.start_job_run("copy", wait=True),
              also=(("glue:GetJob", "{glue}:job/copy"), ("glue:GetJobRun", "{glue}:job/copy"))),
    Operation("jobs", "stop_job_run", "glue:BatchStopJobRun", "{glue}:job/copy",
              lambda lk, w: lk.jobs.stop_job_run("copy", w.ids["job_run"]),
              also=(("glue:GetJobRun", "{glue}:job/copy"), ("glue:GetJob", "{glue}:job/copy")), needs=("job_run",),
              settles=(Conflict,)),
    Operation("jobs", "get_job_run", "glue:GetJobRun", "{glue}:job/copy",
              lambda lk, w: lk.jobs.get_job_run("copy", w.ids["job_run"]), needs=("job_run",)),
    Operation("jobs", "wait", "glue:GetJobRun", "{glue}:job/copy",
              lambda lk, w: lk.jobs.wait("copy", w.ids["job_run"]), needs=("job_run",)),
    Operation("jobs", "list_job_runs", "glue:GetJobRuns", "{glue}:job/copy", lambda lk, w: lk.jobs.list_job_runs("copy")),
    Operation("jobs", "bookmarks", "glue:GetJobBookmark", "{glue}:job/copy", lambda lk, w: lk.jobs.bookmarks("copy"),
              also=(("glue:GetJob", "{glue}:job/copy"),)),
    Operation("jobs", "reset_bookmark", "glue:ResetJobBookmark", "{glue}:job/copy",
              lambda lk, w: lk.jobs.reset_bookmark("copy"),
              also=(("glue:GetJob", "{glue}:job/copy"), ("glue:GetJobBookmark", "{glue}:job/copy"))),
    Operation("jobs", "set_bookmark_state", "glue:UpdateJob", "{glue}:job/copy",
              lambda lk, w: lk.jobs.set_bookmark_state("copy", "disable"), also=(("glue:GetJob", "{glue}:job/copy"),)),
    Operation("jobs", "script", "glue:GetJob", "{glue}:job/copy", lambda lk, w: lk.jobs.script("copy"),
              also=(("glue:GetJobBookmark", "{glue}:job/copy"), ("s3:ListBucket", "{s3}"))),
    Operation("jobs", "preview", "glue:GetJob", "{glue}:job/copy", lambda lk, w: lk.jobs.preview("copy", "src"),
              also=(("s3:GetObject", "{s3}/staging/in/*"), ("s3:ListBucket", "{s3}"),
                    ("glue:GetJobBookmark", "{glue}:job/copy"))),
]  # fmt: skip

CRAWLER_ARN = "{glue}:crawler/crawl1"
CRAWLERS = [
    Operation("crawlers", "create_crawler", "glue:CreateCrawler", "{glue}:crawler/new",
              lambda lk, w: lk.crawlers.create_crawler(_crawler("new")),
              also=(("glue:GetCrawler", "{glue}:crawler/new"),)),
    Operation("crawlers", "update_crawler", "glue:UpdateCrawler", CRAWLER_ARN,
              lambda lk, w: lk.crawlers.update_crawler(_crawler("crawl1")), also=(("glue:GetCrawler", CRAWLER_ARN),)),
    Operation("crawlers", "get_crawler", "glue:GetCrawler", CRAWLER_ARN, lambda lk, w: lk.crawlers.get_crawler("crawl1")),
    Operation("crawlers", "list_crawlers", "glue:GetCrawlers", "{glue}:crawler/*", lambda lk, w: lk.crawlers.list_crawlers()),
    Operation("crawlers", "delete_crawler", "glue:DeleteCrawler", CRAWLER_ARN,
              lambda lk, w: lk.crawlers.delete_crawler("crawl1")),
    Operation("crawlers", "start_crawler", "glue:StartCrawler", CRAWLER_ARN,
              lambda lk, w: lk.crawlers.start_crawler("crawl1", wait=False),
              also=(("glue:GetCrawler", CRAWLER_ARN), ("glue:ListCrawls", CRAWLER_ARN))),
    Operation("crawlers", "stop_crawler", "glue:StopCrawler", CRAWLER_ARN, lambda lk, w: lk.crawlers.stop_crawler("crawl1"),
              also=(("glue:GetCrawler", CRAWLER_ARN),), settles=(CrawlerNotRunningException,)),
    Operation("crawlers", "get_run", "glue:ListCrawls", CRAWLER_ARN,
              lambda lk, w: lk.crawlers.get_run(w.ids["crawl_run"]), needs=("crawl_run",)),
    Operation("crawlers", "list_runs", "glue:ListCrawls", CRAWLER_ARN, lambda lk, w: lk.crawlers.list_runs("crawl1")),
]  # fmt: skip


def _crawler(name: str) -> CrawlerDefinition:
    return CrawlerDefinition(name=name, targets=(f"s3://{BUCKET}/staging/in/",), database="db")


TABLE_ARN = "{glue}:table/db/t"
WAREHOUSE = [
    Operation("warehouse", "commit", "glue:UpdateTable", TABLE_ARN,
              lambda lk, w: lk.warehouse.commit("db", "t", files=[w.ids["new_file"]], schema=_schema()),
              also=(("glue:GetTable", TABLE_ARN), ("glue:GetDatabase", "{glue}:database/db"),
                    ("glue:GetDatabase", "{glue}:catalog"), ("glue:UpdateTable", "{glue}:catalog"),
                    ("glue:UpdateTable", "{glue}:database/db"))),
    Operation("warehouse", "history", "glue:GetTable", TABLE_ARN, lambda lk, w: lk.warehouse.history("db", "t")),
    Operation("warehouse", "data_files", "glue:GetTable", TABLE_ARN, lambda lk, w: lk.warehouse.data_files("db", "t")),
    Operation("warehouse", "rollback", "glue:UpdateTable", TABLE_ARN,
              lambda lk, w: lk.warehouse.rollback("db", "t", int(w.ids["first_snapshot"])),
              also=(("glue:GetTable", TABLE_ARN), ("glue:UpdateTable", "{glue}:catalog"),
                    ("glue:UpdateTable", "{glue}:database/db"))),
    Operation("warehouse", "vacuum", "glue:UpdateTable", TABLE_ARN, lambda lk, w: lk.warehouse.vacuum("db", "t"),
              also=(("glue:GetTable", TABLE_ARN),)),
    Operation("warehouse", "drop", "glue:DeleteTable", TABLE_ARN, lambda lk, w: lk.warehouse.drop("db", "t"),
              also=(("glue:DeleteTable", "{glue}:catalog"), ("glue:DeleteTable", "{glue}:database/db"),
                    ("glue:GetTable", TABLE_ARN))),
]  # fmt: skip

PRIMARY = "{athena}/primary"
QUERIES = [
    Operation("queries", "start_query_execution", "athena:StartQueryExecution", PRIMARY,
              lambda lk, w: lk.queries.start_query_execution("SELECT 1", wait=True),
              also=(("s3:PutObject", "{s3}/results/*"), ("s3:GetObject", "{s3}/results/*"),
                    ("athena:GetQueryExecution", PRIMARY), ("s3:ListBucket", "{s3}"))),
    Operation("queries", "get_query_execution", "athena:GetQueryExecution", PRIMARY,
              lambda lk, w: lk.queries.get_query_execution(w.ids["query"]), needs=("query",)),
    Operation("queries", "get_query_results", "athena:GetQueryResults", PRIMARY,
              lambda lk, w: lk.queries.get_query_results(w.ids["query"]), needs=("query",),
              also=(("s3:GetObject", "{s3}/results/*"), ("athena:GetQueryExecution", PRIMARY))),
    Operation("queries", "get_query_rows", "athena:GetQueryResults", PRIMARY,
              lambda lk, w: lk.queries.get_query_rows(w.ids["query"]), needs=("query",),
              also=(("s3:GetObject", "{s3}/results/*"), ("athena:GetQueryExecution", PRIMARY))),
    Operation("queries", "list_query_executions", "athena:ListQueryExecutions", PRIMARY,
              lambda lk, w: lk.queries.list_query_executions()),
    Operation("queries", "stop_query_execution", "athena:StopQueryExecution", PRIMARY,
              lambda lk, w: lk.queries.stop_query_execution(w.ids["query"]), needs=("query",),
              also=(("athena:GetQueryExecution", PRIMARY),)),
    Operation("workgroups", "create_work_group", "athena:CreateWorkGroup", "{athena}/new",
              lambda lk, w: lk.queries.workgroups.create_work_group("new")),
    Operation("workgroups", "get_work_group", "athena:GetWorkGroup", "{athena}/wg",
              lambda lk, w: lk.queries.workgroups.get_work_group("wg")),
    Operation("workgroups", "list_work_groups", "athena:ListWorkGroups", "{athena}/*",
              lambda lk, w: lk.queries.workgroups.list_work_groups()),
    Operation("workgroups", "update_work_group", "athena:UpdateWorkGroup", "{athena}/wg",
              lambda lk, w: lk.queries.workgroups.update_work_group("wg", description="d")),
    Operation("workgroups", "delete_work_group", "athena:DeleteWorkGroup", "{athena}/wg",
              lambda lk, w: lk.queries.workgroups.delete_work_group("wg")),
    Operation("named_queries", "create_named_query", "athena:CreateNamedQuery", PRIMARY,
              lambda lk, w: lk.queries.named_queries.create_named_query("n2", "SELECT 2", database="db")),
    Operation("named_queries", "get_named_query", "athena:GetNamedQuery", PRIMARY,
              lambda lk, w: lk.queries.named_queries.get_named_query(w.ids["named"])),
    Operation("named_queries", "batch_get_named_query", "athena:BatchGetNamedQuery", PRIMARY,
              lambda lk, w: _batch(lk, w)),
    Operation("named_queries", "list_named_queries", "athena:ListNamedQueries", PRIMARY,
              lambda lk, w: lk.queries.named_queries.list_named_queries()),
    Operation("named_queries", "update_named_query", "athena:UpdateNamedQuery", PRIMARY,
              lambda lk, w: lk.queries.named_queries.update_named_query(w.ids["named"], name="n", query_string="SELECT 3")),
    Operation("named_queries", "delete_named_query", "athena:DeleteNamedQuery", PRIMARY,
              lambda lk, w: lk.queries.named_queries.delete_named_query(w.ids["named"])),
    Operation("prepared_statements", "create_prepared_statement", "athena:CreatePreparedStatement", PRIMARY,
              lambda lk, w: lk.queries.prepared_statements.create_prepared_statement("ps2", "primary", "SELECT ?")),
    Operation("prepared_statements", "get_prepared_statement", "athena:GetPreparedStatement", PRIMARY,
              lambda lk, w: lk.queries.prepared_statements.get_prepared_statement("ps", "primary")),
    Operation("prepared_statements", "list_prepared_statements", "athena:ListPreparedStatements", PRIMARY,
              lambda lk, w: lk.queries.prepared_statements.list_prepared_statements("primary")),
    Operation("prepared_statements", "update_prepared_statement", "athena:UpdatePreparedStatement", PRIMARY,
              lambda lk, w: lk.queries.prepared_statements.update_prepared_statement("ps", "primary", "SELECT 2")),
    Operation("prepared_statements", "delete_prepared_statement", "athena:DeletePreparedStatement", PRIMARY,
              lambda lk, w: lk.queries.prepared_statements.delete_prepared_statement("ps", "primary")),
]  # fmt: skip


def _batch(lake: Lake, world: World) -> object:
    found = lake.queries.named_queries.batch_get_named_query([world.ids["named"]])
    for failed in found.get("UnprocessedNamedQueryIds", []):  # AWS reports a denial per id, not for the call
        raise (AccessDenied if failed["ErrorCode"] == "AccessDeniedException" else AssertionError)(
            failed["ErrorMessage"]
        )
    return found


USER = "{iam}:user/target"
GROUP = "{iam}:group/team"
ROLE = "{iam}:role/worker"
POLICY = "{iam}:policy/pol"
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
IAM_OPS = [
    Operation("iam", "create_user", "iam:CreateUser", "{iam}:user/new", lambda lk, w: lk.iam.create_user("new")),
    Operation("iam", "ensure_user", "iam:GetUser", "{iam}:user/new", lambda lk, w: lk.iam.ensure_user("new"),
              also=(("iam:CreateUser", "{iam}:user/new"),)),
    Operation("iam", "get_user", "iam:GetUser", USER, lambda lk, w: lk.iam.get_user("target")),
    Operation("iam", "find_user", "iam:GetUser", USER, lambda lk, w: lk.iam.find_user("target")),
    Operation("iam", "list_users", "iam:ListUsers", "*", lambda lk, w: lk.iam.list_users()),
    Operation("iam", "delete_user", "iam:DeleteUser", "{iam}:user/bare", lambda lk, w: lk.iam.delete_user("bare")),
    Operation("iam", "create_group", "iam:CreateGroup", "{iam}:group/new", lambda lk, w: lk.iam.create_group("new")),
    Operation("iam", "get_group", "iam:GetGroup", GROUP, lambda lk, w: lk.iam.get_group("team")),
    Operation("iam", "group_members", "iam:GetGroup", GROUP, lambda lk, w: lk.iam.group_members("team")),
    Operation("iam", "list_groups", "iam:ListGroups", "*", lambda lk, w: lk.iam.list_groups()),
    Operation("iam", "delete_group", "iam:DeleteGroup", "{iam}:group/empty", lambda lk, w: lk.iam.delete_group("empty")),
    Operation("iam", "add_user_to_group", "iam:AddUserToGroup", "{iam}:group/empty",
              lambda lk, w: lk.iam.add_user_to_group("empty", "target")),
    Operation("iam", "remove_user_from_group", "iam:RemoveUserFromGroup", GROUP,
              lambda lk, w: lk.iam.remove_user_from_group("team", "target")),
    Operation("iam", "groups_for_user", "iam:ListGroupsForUser", USER, lambda lk, w: lk.iam.groups_for_user("target")),
    Operation("iam", "create_role", "iam:CreateRole", "{iam}:role/new", lambda lk, w: lk.iam.create_role("new", TRUST)),
    Operation("iam", "get_role", "iam:GetRole", ROLE, lambda lk, w: lk.iam.get_role("worker")),
    Operation("iam", "list_roles", "iam:ListRoles", "*", lambda lk, w: lk.iam.list_roles()),
    Operation("iam", "update_assume_role_policy", "iam:UpdateAssumeRolePolicy", ROLE,
              lambda lk, w: lk.iam.update_assume_role_policy("worker", TRUST)),
    Operation("iam", "delete_role", "iam:DeleteRole", "{iam}:role/spare", lambda lk, w: lk.iam.delete_role("spare")),
    Operation("iam", "create_policy", "iam:CreatePolicy", "{iam}:policy/new", lambda lk, w: lk.iam.create_policy("new", DOC)),
    Operation("iam", "get_policy", "iam:GetPolicy", POLICY, lambda lk, w: lk.iam.get_policy("pol")),
    Operation("iam", "list_policies", "iam:ListPolicies", "*", lambda lk, w: lk.iam.list_policies()),
    Operation("iam", "create_policy_version", "iam:CreatePolicyVersion", POLICY,
              lambda lk, w: lk.iam.create_policy_version("pol", DOC)),
    Operation("iam", "delete_policy", "iam:DeletePolicy", "{iam}:policy/loose", lambda lk, w: lk.iam.delete_policy("loose")),
    Operation("iam", "attach_policy", "iam:AttachUserPolicy", USER, lambda lk, w: lk.iam.attach_policy("user", "target", "loose")),
    Operation("iam", "attach_user_policy", "iam:AttachUserPolicy", USER,
              lambda lk, w: lk.iam.attach_user_policy("target", "loose")),
    Operation("iam", "attach_group_policy", "iam:AttachGroupPolicy", GROUP,
              lambda lk, w: lk.iam.attach_group_policy("team", "loose")),
    Operation("iam", "attach_role_policy", "iam:AttachRolePolicy", ROLE,
              lambda lk, w: lk.iam.attach_role_policy("worker", "loose")),
    Operation("iam", "detach_policy", "iam:DetachUserPolicy", USER, lambda lk, w: lk.iam.detach_policy("user", "target", "pol")),
    Operation("iam", "detach_user_policy", "iam:DetachUserPolicy", USER,
              lambda lk, w: lk.iam.detach_user_policy("target", "pol")),
    Operation("iam", "detach_group_policy", "iam:DetachGroupPolicy", GROUP,
              lambda lk, w: lk.iam.detach_group_policy("team", "pol")),
    Operation("iam", "detach_role_policy", "iam:DetachRolePolicy", ROLE,
              lambda lk, w: lk.iam.detach_role_policy("worker", "pol")),
    Operation("iam", "attached_policies", "iam:ListAttachedUserPolicies", USER,
              lambda lk, w: lk.iam.attached_policies("user", "target")),
    Operation("iam", "put_inline_policy", "iam:PutRolePolicy", ROLE,
              lambda lk, w: lk.iam.put_inline_policy("role", "worker", "more", DOC)),
    Operation("iam", "put_user_policy", "iam:PutUserPolicy", USER, lambda lk, w: lk.iam.put_user_policy("target", "more", DOC)),
    Operation("iam", "put_group_policy", "iam:PutGroupPolicy", GROUP,
              lambda lk, w: lk.iam.put_group_policy("team", "more", DOC)),
    Operation("iam", "put_role_policy", "iam:PutRolePolicy", ROLE, lambda lk, w: lk.iam.put_role_policy("worker", "more", DOC)),
    Operation("iam", "get_inline_policy", "iam:GetUserPolicy", USER,
              lambda lk, w: lk.iam.get_inline_policy("user", "target", "inl")),
    Operation("iam", "list_inline_policies", "iam:ListGroupPolicies", GROUP,
              lambda lk, w: lk.iam.list_inline_policies("group", "team")),
    Operation("iam", "delete_inline_policy", "iam:DeleteUserPolicy", USER,
              lambda lk, w: lk.iam.delete_inline_policy("user", "target", "inl")),
    Operation("iam", "create_access_key", "iam:CreateAccessKey", USER, lambda lk, w: lk.iam.create_access_key("target")),
    Operation("iam", "list_access_keys", "iam:ListAccessKeys", USER, lambda lk, w: lk.iam.list_access_keys("target")),
    Operation("iam", "get_access_key", "iam:GetAccessKeyLastUsed", USER,
              lambda lk, w: lk.iam.get_access_key(w.ids["key"])),
    Operation("iam", "update_access_key", "iam:UpdateAccessKey", USER,
              lambda lk, w: lk.iam.update_access_key(w.ids["key"], "Inactive")),
    Operation("iam", "delete_access_key", "iam:DeleteAccessKey", USER,
              lambda lk, w: lk.iam.delete_access_key(w.ids["key"])),
    Operation("iam", "simulate", "iam:SimulatePrincipalPolicy", USER,
              lambda lk, w: lk.iam.simulate(lk.iam.resolve("target"), "s3:GetObject", "*")),
    Operation("iam", "lookup_events", "cloudtrail:LookupEvents", "*", lambda lk, w: lk.iam.lookup_events()),
]  # fmt: skip

BOARD = {
    "name": "board",
    "filters": [{"name": "f", "field": "id", "type": "range"}],
    "sheets": [
        {
            "name": "S",
            "visuals": [{"id": "v", "kind": "bar", "dataset": "ds", "dimensions": ["id"], "measures": ["count(*)"]}],
        }
    ],
}
SOURCE = (("athena:*", "*"), ("glue:*", "*"), ("s3:*", "*"))  # the author reads the source's columns
DS, DASH = "{qs}:dataset/ds", "{qs}:dashboard/board"
DASHBOARDS = [
    Operation("datasets", "create_data_set", "quicksight:CreateDataSet", "{qs}:dataset/new",
              lambda lk, w: lk.dashboards.datasets.create_data_set({"name": "new", "source": "db.t"}),
              needs=("dashboard",), also=SOURCE),
    Operation("datasets", "update_data_set", "quicksight:UpdateDataSet", DS,
              lambda lk, w: lk.dashboards.datasets.update_data_set({"name": "ds", "source": "db.t"}),
              needs=("dashboard",), also=SOURCE),
    Operation("datasets", "describe_data_set", "quicksight:DescribeDataSet", DS,
              lambda lk, w: lk.dashboards.datasets.describe_data_set("ds"), needs=("dashboard",)),
    Operation("datasets", "list_data_sets", "quicksight:ListDataSets", "{qs}:dataset/*",
              lambda lk, w: lk.dashboards.datasets.list_data_sets(), needs=("dashboard",)),
    Operation("datasets", "delete_data_set", "quicksight:DeleteDataSet", DS,
              lambda lk, w: lk.dashboards.datasets.delete_data_set("ds"), needs=("dashboard",)),
    Operation("datasets", "create_ingestion", "quicksight:CreateIngestion", "{qs}:dataset/spice",
              lambda lk, w: lk.dashboards.datasets.create_ingestion("spice"), needs=("dashboard", "spice")),
    Operation("datasets", "list_ingestions", "quicksight:ListIngestions", "{qs}:dataset/spice",
              lambda lk, w: lk.dashboards.datasets.list_ingestions("spice"), needs=("dashboard", "spice")),
    Operation("datasets", "describe_ingestion", "quicksight:DescribeIngestion", "{qs}:dataset/spice",
              lambda lk, w: lk.dashboards.datasets.describe_ingestion("spice", w.ids["ingestion"]),
              needs=("dashboard", "spice")),
    Operation("dashboards", "validate_dashboard", "quicksight:DescribeDataSet", DS,
              lambda lk, w: lk.dashboards.validate_dashboard(BOARD), needs=("dashboard",)),
    Operation("dashboards", "create_dashboard", "quicksight:CreateDashboard", "{qs}:dashboard/new",
              lambda lk, w: lk.dashboards.create_dashboard({**BOARD, "name": "new"}), needs=("dashboard",)),
    Operation("dashboards", "update_dashboard", "quicksight:UpdateDashboard", DASH,
              lambda lk, w: lk.dashboards.update_dashboard(BOARD), needs=("dashboard",)),
    Operation("dashboards", "describe_dashboard", "quicksight:DescribeDashboard", DASH,
              lambda lk, w: lk.dashboards.describe_dashboard("board"), needs=("dashboard",)),
    Operation("dashboards", "list_dashboards", "quicksight:ListDashboards", "{qs}:dashboard/*",
              lambda lk, w: lk.dashboards.list_dashboards(), needs=("dashboard",)),
    Operation("dashboards", "delete_dashboard", "quicksight:DeleteDashboard", DASH,
              lambda lk, w: lk.dashboards.delete_dashboard("board"), needs=("dashboard",)),
    Operation("dashboards", "visual_data", "quicksight:QueryDashboard", DASH,
              lambda lk, w: lk.dashboards.visual_data("board", "S", "v"), needs=("dashboard",)),
    Operation("dashboards", "dashboard_data", "quicksight:QueryDashboard", DASH,
              lambda lk, w: lk.dashboards.dashboard_data("board"), needs=("dashboard",)),
    Operation("dashboards", "sheet_figures", "quicksight:QueryDashboard", DASH,
              lambda lk, w: lk.dashboards.sheet_figures("board"), needs=("dashboard",)),
    Operation("dashboards", "drill_down", "quicksight:QueryDashboard", DASH,
              lambda lk, w: lk.dashboards.drill_down("board", "S", "v", {"id": 1}), needs=("dashboard",)),
    Operation("dashboards", "filter_values", "quicksight:QueryDashboard", DASH,
              lambda lk, w: lk.dashboards.filter_values("board", "f"), needs=("dashboard",)),
]  # fmt: skip

OPERATIONS: list[Operation] = [*STORAGE, *JOBS, *CRAWLERS, *WAREHOUSE, *QUERIES, *IAM_OPS, *DASHBOARDS]

NOT_OPERATIONS: dict[str, dict[str, str]] = {
    "storage": {"as_principal": "gives a view acting as another principal; no request"},
    "jobs": {"execute_run": "the worker's half of start_job_run (authorized there, and per read and write as the role)"},
    "crawlers": {
        "execute_run": "the worker's half of start_crawler (authorized there)",
        "crawl": "get_crawler + create_crawler + start_crawler, each authorized as in this table",
    },
    "warehouse": {
        "data_dir": "a path helper", "lake_location": "a path helper", "local_path": "a path helper",
        "table_uri": "a path helper",
        "load": "internal loader for services that have authorized the operation (history, commit, queries)",
        "require": "internal loader, as load",
        "target_schema": "internal: the schema a job's commit will write (the commit is authorized)",
        "target_columns": "internal, as target_schema",
        "sync_catalog": "recovery after a writer died between the Iceberg pointer swap and the catalog update "
        "(called by the job service's dead-run check, whose caller was authorized)",
    },
    "queries": {},
    "workgroups": {
        "for_execution": "internal: the workgroup of a query start_query_execution authorized",
        "require": "internal, as for_execution",
    },
    "named_queries": {},
    "prepared_statements": {
        "check_parameters": "internal to start_query_execution (authorized there)",
        "dispatch": "internal to start_query_execution; authorizes athena:UpdatePreparedStatement for PREPARE",
    },
    "iam": {
        "as_principal": "gives a view acting as another principal; no request",
        "authorize": "the decision itself", "assume_role": "decided by the role's trust policy (test_authorize.py)",
        "authenticate": "establishes who the principal is (before there is one)",
        "check_secret": "part of authenticate", "resolve": "names a principal for simulate; reads no policy",
        "identity_documents": "what authorize reads", "generation": "the policy cache's counter",
        "arn": "an ARN helper", "entity_arn": "an ARN helper", "policy_name": "a name helper",
        "flush": "writes buffered audit events", "close": "lifetime", "role_arn": "an ARN helper",
        "pass_role": "iam:PassRole, checked by create/update of jobs and crawlers (test_job_roles.py)",
        "assume_role_for": "a service assuming a run's role: decided by the trust policy (test_job_roles.py)",
    },
    "dashboards": {"arn": "an ARN helper",
                   "warm": "the service's own step after an ingestion or a dashboard change (runs as the service)"},
    "datasets": {"arn": "an ARN helper",
                 "list_cached": "for the dashboards service's warm step (no request; its calls are authorized there)"},
}  # fmt: skip

SERVICES: dict[str, Callable[[Lake], object]] = {
    "storage": lambda lake: lake.storage,
    "jobs": lambda lake: lake.jobs,
    "crawlers": lambda lake: lake.crawlers,
    "warehouse": lambda lake: lake.warehouse,
    "queries": lambda lake: lake.queries,
    "workgroups": lambda lake: lake.queries.workgroups,
    "named_queries": lambda lake: lake.queries.named_queries,
    "prepared_statements": lambda lake: lake.queries.prepared_statements,
    "iam": lambda lake: lake.iam,
    "dashboards": lambda lake: lake.dashboards,
    "datasets": lambda lake: lake.dashboards.datasets,
}


def public_methods(service: object) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(type(service))
        if not name.startswith("_") and inspect.isfunction(value)
    }


# ---- the world every case starts from


def build_world(lake: Lake, tmp: Path, needs: tuple[str, ...]) -> World:
    world = World(tmp)
    storage = lake.storage
    storage.put_object(BUCKET, KEY, b"id,name\n1,ann\n")
    storage.create_bucket("empty")
    lake.catalog.create_database("db")
    first = lake.warehouse.commit("db", "t", files=[_table_file(lake)], schema=_schema())
    lake.warehouse.commit("db", "t", files=[_table_file(lake)], schema=_schema())
    world.ids["first_snapshot"] = str(first.snapshot_id)
    world.ids["new_file"] = _table_file(lake)  # written beforehand: a denied commit must leave the objects as they are
    lake.jobs.create_job(_csv_job("copy"))
    lake.crawlers.create_crawler(_crawler("crawl1"))
    queries = lake.queries
    queries.workgroups.create_work_group("wg")
    world.ids["named"] = queries.named_queries.create_named_query("n", "SELECT 1", database="db")
    queries.prepared_statements.create_prepared_statement("ps", "primary", "SELECT ?")
    iam = lake.iam
    iam.create_user("target")
    iam.create_user("bare")
    iam.create_group("team")
    iam.create_group("empty")
    iam.add_user_to_group("team", "target")
    iam.create_role("worker", TRUST)
    iam.create_role("spare", TRUST)
    iam.create_policy("pol", DOC)
    iam.create_policy("loose", DOC)
    for kind, name in (("user", "target"), ("group", "team"), ("role", "worker")):
        iam.attach_policy(kind, name, "pol")
        iam.put_inline_policy(kind, name, "inl", DOC)
    world.ids["key"] = iam.create_access_key("target").key.id
    if "job_run" in needs:
        world.ids["job_run"] = lake.jobs.start_job_run("copy", wait=True).id
    if "crawl_run" in needs:
        world.ids["crawl_run"] = lake.crawlers.start_crawler("crawl1", wait=True).id
    if "query" in needs:
        world.ids["query"] = lake.query("SELECT 1").id
    if "dashboard" in needs:
        lake.dashboards.datasets.create_data_set({"name": "ds", "source": "db.t"})
        lake.dashboards.create_dashboard(BOARD)
    if "spice" in needs:
        lake.dashboards.datasets.create_data_set({"name": "spice", "source": "db.t", "import_mode": "SPICE"})
        world.ids["ingestion"] = lake.dashboards.datasets.list_ingestions("spice")[0].id
    return world


def state(lake: Lake) -> dict[str, Any]:
    """What a denied call must leave as it was: objects, catalog, table snapshots, jobs and runs, crawlers and
    crawls, query executions, workgroups, named queries and prepared statements, IAM entities."""
    queries = lake.queries
    iam = lake.iam
    return {
        "objects": {
            b.name: [(o.key, o.etag) for o in lake.storage.iter_objects(b.name)] for b in lake.storage.list_buckets()
        },
        "catalog": {d.name: [(t.name, t.version) for t in lake.catalog.list_tables(d.name)]
                    for d in lake.catalog.list_databases()},
        "snapshots": [s.snapshot_id for s in lake.warehouse.history("db", "t")],
        "jobs": {j.name: (j.to_dict(), [(r.id, r.state) for r in lake.jobs.list_job_runs(j.name)])
                 for j in lake.jobs.list_jobs()},
        "crawlers": {c.name: [r.id for r in lake.crawlers.list_runs(c.name)] for c in lake.crawlers.list_crawlers()},
        "executions": [(q.id, q.state) for q in queries.list_query_executions()],
        "workgroups": [w.to_athena() for w in queries.workgroups.list_work_groups()],
        "named": [queries.named_queries.get_named_query(i).to_athena()
                  for i in queries.named_queries.list_named_queries()],
        "prepared": [p.to_athena() for p in queries.prepared_statements.list_prepared_statements("primary")],
        "users": [(u.name, iam.groups_for_user(u.name), iam.attached_policies("user", u.name),
                   iam.list_inline_policies("user", u.name), [(k.id, k.status) for k in iam.list_access_keys(u.name)])
                  for u in iam.list_users()],
        "groups": [(g.name, iam.group_members(g.name), iam.attached_policies("group", g.name)) for g in iam.list_groups()],
        "roles": [(r.name, r.trust_policy, iam.attached_policies("role", r.name),
                   iam.list_inline_policies("role", r.name)) for r in iam.list_roles()],
        "policies": [(p.name, p.default_version) for p in iam.list_policies()],
        "datasets": [(d.name, d.to_dict()["LastUpdatedTime"], d.snapshot,
                      [i.id for i in lake.dashboards.datasets.list_ingestions(d.name)])
                     for d in lake.dashboards.datasets.list_data_sets()],
        "dashboards": [(d.name, d.version) for d in lake.dashboards.list_dashboards()],
    }  # fmt: skip


def markdown_table() -> str:
    """docs/iam.md's per-operation table."""
    lines = ["| operation | action | resource |", "|---|---|---|"]
    for op in OPERATIONS:
        extra = "".join(f"<br>+ `{a}` on `{r}`" for a, r in op.grants()[1:])
        resource = op.resource.format(s3="arn:aws:s3:::<bucket>", glue="arn:aws:glue:<region>:<account>",
                                      athena="arn:aws:athena:<region>:<account>:workgroup",
                                      iam="arn:aws:iam::<account>", key="<key>",
                                      qs="arn:aws:quicksight:<region>:<account>")  # fmt: skip
        lines.append(f"| `{op.id}` | `{op.action}` | `{resource}`{extra} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
