"""Named (saved) queries: Athena's CreateNamedQuery, GetNamedQuery, ListNamedQueries, BatchGetNamedQuery,
UpdateNamedQuery and DeleteNamedQuery. A named query is a name, a description, a database and the SQL text,
kept in a workgroup under a UUID; running it is starting its text as a query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from lakeport.errors import AccessDenied, InvalidInput, NotFound
from lakeport.metadata.times import now
from lakeport.query.schema import query_named_queries
from lakeport.query.workgroups import PRIMARY, Authorize, WorkGroups

if TYPE_CHECKING:
    from lakeport.metadata.database import MetadataDB

MAX_BATCH = 50  # Athena's BatchGetNamedQuery limit


class NamedQueryError(InvalidInput):
    default_code = "InvalidRequestException"


class NamedQueryNotFound(NotFound):
    default_code = "InvalidRequestException"


@dataclass(frozen=True)
class NamedQuery:
    id: str
    name: str
    database: str
    query_string: str
    workgroup: str
    description: str | None = None
    created_at: datetime | None = None

    def to_athena(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": self.name,
            "Database": self.database,
            "QueryString": self.query_string,
            "NamedQueryId": self.id,
            "WorkGroup": self.workgroup,
        }
        if self.description:
            out["Description"] = self.description
        return out


def _named(row: Any) -> NamedQuery:
    return NamedQuery(row.id, row.name, row.database, row.query_string, row.workgroup, row.description, row.created_at)


def _check(name: str, database: str, query_string: str, description: str | None) -> None:
    from lakeport.catalog.names import check_name

    if not 1 <= len(name or "") <= 128:
        raise NamedQueryError(f"named query name {name!r} is not 1 to 128 characters")
    if not (query_string or "").strip() or len(query_string) > 262144:
        raise NamedQueryError(f"named query {name}: the query string is empty or longer than 262,144 characters")
    if description is not None and len(description) > 1024:
        raise NamedQueryError(f"named query {name}: the description is longer than 1,024 characters")
    check_name("database", database)


class NamedQueries:
    def __init__(self, db: MetadataDB, authorize: Authorize, workgroups: WorkGroups) -> None:
        self.db = db
        self.authorize = authorize
        self.workgroups = workgroups

    def create_named_query(
        self,
        name: str,
        query_string: str,
        *,
        database: str,
        description: str | None = None,
        workgroup: str = PRIMARY,
        client_request_token: str | None = None,
    ) -> str:
        """Save a query; its NamedQueryId (the same one again for a repeated ``client_request_token``)."""
        self.authorize("CreateNamedQuery", workgroup)
        _check(name, database, query_string, description)
        self.workgroups.require(workgroup)
        if client_request_token is not None:
            with self.db.read() as conn:
                found = conn.execute(
                    select(query_named_queries).where(
                        query_named_queries.c.client_request_token == client_request_token
                    )
                ).first()
            if found is not None:
                return str(found.id)
        named_id = str(uuid.uuid4())
        try:
            self.db.run_write(
                lambda conn: conn.execute(
                    query_named_queries.insert().values(
                        id=named_id,
                        name=name,
                        description=description or None,
                        database=database,
                        query_string=query_string,
                        workgroup=workgroup,
                        client_request_token=client_request_token,
                        created_at=now(),
                    )
                )
            )
        except IntegrityError:  # a racing create with the same token won
            return self.create_named_query(
                name,
                query_string,
                database=database,
                description=description,
                workgroup=workgroup,
                client_request_token=client_request_token,
            )
        return named_id

    def get_named_query(self, named_query_id: str) -> NamedQuery:
        found = self._get(named_query_id)
        self.authorize("GetNamedQuery", found.workgroup)
        return found

    def list_named_queries(self, *, workgroup: str = PRIMARY) -> list[str]:
        """The NamedQueryIds of a workgroup, oldest first (Athena's ListNamedQueries)."""
        self.authorize("ListNamedQueries", workgroup)
        self.workgroups.require(workgroup)
        with self.db.read() as conn:
            rows = conn.execute(
                select(query_named_queries.c.id)
                .where(query_named_queries.c.workgroup == workgroup)
                .order_by(query_named_queries.c.created_at, query_named_queries.c.id)
            ).all()
        return [r.id for r in rows]

    def batch_get_named_query(self, named_query_ids: list[str]) -> dict[str, Any]:
        """Athena's BatchGetNamedQuery: the named queries found, and an entry for each id that was not."""
        if not 1 <= len(named_query_ids) <= MAX_BATCH:
            raise NamedQueryError(f"BatchGetNamedQuery takes 1 to {MAX_BATCH} ids, not {len(named_query_ids)}")
        found: list[dict[str, Any]] = []
        unprocessed: list[dict[str, str]] = []
        for named_id in named_query_ids:
            try:
                query = self._get(named_id)
                self.authorize("BatchGetNamedQuery", query.workgroup)
            except (NotFound, AccessDenied) as exc:
                unprocessed.append({"NamedQueryId": named_id, "ErrorCode": exc.code, "ErrorMessage": exc.message})
                continue
            found.append(query.to_athena())
        return {"NamedQueries": found, "UnprocessedNamedQueryIds": unprocessed}

    def update_named_query(
        self, named_query_id: str, *, name: str, query_string: str, description: str | None = None
    ) -> NamedQuery:
        current = self._get(named_query_id)
        self.authorize("UpdateNamedQuery", current.workgroup)
        _check(name, current.database, query_string, description)
        self.db.run_write(
            lambda conn: conn.execute(
                update(query_named_queries)
                .where(query_named_queries.c.id == named_query_id)
                .values(name=name, query_string=query_string, description=description or None)
            )
        )
        return self._get(named_query_id)

    def delete_named_query(self, named_query_id: str) -> None:
        current = self._get(named_query_id)
        self.authorize("DeleteNamedQuery", current.workgroup)
        self.db.run_write(
            lambda conn: conn.execute(delete(query_named_queries).where(query_named_queries.c.id == named_query_id))
        )

    def _get(self, named_query_id: str) -> NamedQuery:
        with self.db.read() as conn:
            row = conn.execute(select(query_named_queries).where(query_named_queries.c.id == named_query_id)).first()
        if row is None:
            raise NamedQueryNotFound(
                f"named query {named_query_id} was not found", hint="lakeport named-queries list shows them"
            )
        return _named(row)
