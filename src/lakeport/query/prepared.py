"""Prepared statements, per workgroup: Athena's CreatePreparedStatement, GetPreparedStatement,
ListPreparedStatements, UpdatePreparedStatement, DeletePreparedStatement, and the SQL statements

    PREPARE name FROM statement          (SELECT, VALUES, CTAS or INSERT INTO with ``?`` placeholders)
    EXECUTE name [USING value, ...]      (the values, or the execution's ExecutionParameters, bound in order)
    DEALLOCATE PREPARE name

run through the query service. ``dispatch`` handles them before a statement runs: PREPARE and DEALLOCATE
are answered here (statement type UTILITY, no result rows); EXECUTE becomes the prepared statement's text
with its values bound (``query/parameters.py``), and that is what runs; any other query with ExecutionParameters
gets them bound the same way. As in Trino, PREPARE of a name that exists replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlglot import Token, TokenType
from sqlglot.errors import SqlglotError

from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.metadata.times import now
from lakeport.query.engine import ResultSet
from lakeport.query.parameters import bind
from lakeport.query.schema import query_prepared_statements
from lakeport.query.workgroups import Authorize, WorkGroups

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lakeport.metadata.database import MetadataDB

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_@:]{0,255}")


class PreparedStatementError(InvalidInput):
    default_code = "InvalidRequestException"


class PreparedStatementNotFound(NotFound):
    default_code = "ResourceNotFoundException"


class PreparedStatementExists(AlreadyExists):
    default_code = "InvalidRequestException"


@dataclass(frozen=True)
class PreparedStatement:
    name: str
    workgroup: str
    query_statement: str
    description: str | None = None
    last_modified: datetime | None = None

    def to_athena(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StatementName": self.name,
            "QueryStatement": self.query_statement,
            "WorkGroupName": self.workgroup,
        }
        if self.description:
            out["Description"] = self.description
        if self.last_modified is not None:
            out["LastModifiedTime"] = self.last_modified.isoformat()
        return out

    def summary(self) -> dict[str, Any]:
        """The shape ListPreparedStatements returns."""
        out: dict[str, Any] = {"StatementName": self.name}
        if self.last_modified is not None:
            out["LastModifiedTime"] = self.last_modified.isoformat()
        return out


@dataclass(frozen=True)
class Dispatched:
    """What an execution runs: ``sql`` (its own text, or a bound one), or ``result`` when answered here."""

    sql: str
    result: ResultSet | None = None


def _statement(row: Any) -> PreparedStatement:
    return PreparedStatement(row.name, row.workgroup, row.query_statement, row.description, row.last_modified)


def check_statement_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PreparedStatementError(
            f"prepared statement name {name!r} is not valid",
            hint="a letter or '_' first, then letters, digits, '_', '@' or ':' (at most 256)",
        )
    return name


def _check_query(name: str, query_statement: str) -> None:
    from sqlglot import exp

    from lakeport.query.translate import parse

    if not query_statement.strip():
        raise PreparedStatementError(f"prepared statement {name}: the query statement is empty")
    tree = parse(query_statement)
    writes = isinstance(tree, exp.Insert) or (isinstance(tree, exp.Create) and tree.expression is not None)
    if not (isinstance(tree, exp.Query | exp.Values) or writes):
        raise PreparedStatementError(
            f"prepared statement {name}: only SELECT, VALUES, CREATE TABLE AS or INSERT INTO can be prepared",
            hint="PREPARE name FROM SELECT ... WHERE x = ?",
        )


class PreparedStatements:
    def __init__(self, db: MetadataDB, authorize: Authorize, workgroups: WorkGroups) -> None:
        self.db = db
        self.authorize = authorize
        self.workgroups = workgroups

    # ---- Athena's API

    def create_prepared_statement(
        self, statement_name: str, work_group: str, query_statement: str, *, description: str | None = None
    ) -> PreparedStatement:
        self.authorize("CreatePreparedStatement", work_group)
        check_statement_name(statement_name)
        self.workgroups.require(work_group)
        _check_query(statement_name, query_statement)
        try:
            self.db.run_write(
                lambda conn: conn.execute(
                    query_prepared_statements.insert().values(
                        workgroup=work_group,
                        name=statement_name,
                        query_statement=query_statement,
                        description=description or None,
                        last_modified=now(),
                    )
                )
            )
        except IntegrityError:
            raise PreparedStatementExists(
                f"prepared statement {statement_name} already exists in workgroup {work_group}",
                hint="update_prepared_statement changes it",
            ) from None
        return self._get(statement_name, work_group)

    def get_prepared_statement(self, statement_name: str, work_group: str) -> PreparedStatement:
        self.authorize("GetPreparedStatement", work_group)
        return self._get(statement_name, work_group)

    def list_prepared_statements(self, work_group: str) -> list[PreparedStatement]:
        self.authorize("ListPreparedStatements", work_group)
        self.workgroups.require(work_group)
        with self.db.read() as conn:
            rows = conn.execute(
                select(query_prepared_statements)
                .where(query_prepared_statements.c.workgroup == work_group)
                .order_by(query_prepared_statements.c.name)
            ).all()
        return [_statement(r) for r in rows]

    def update_prepared_statement(
        self, statement_name: str, work_group: str, query_statement: str, *, description: str | None = None
    ) -> PreparedStatement:
        self.authorize("UpdatePreparedStatement", work_group)
        self._get(statement_name, work_group)
        _check_query(statement_name, query_statement)
        self._write(statement_name, work_group, query_statement, description)
        return self._get(statement_name, work_group)

    def delete_prepared_statement(self, statement_name: str, work_group: str) -> None:
        self.authorize("DeletePreparedStatement", work_group)
        self._get(statement_name, work_group)
        self.db.run_write(
            lambda conn: conn.execute(
                delete(query_prepared_statements).where(
                    query_prepared_statements.c.workgroup == work_group,
                    query_prepared_statements.c.name == statement_name,
                )
            )
        )

    # ---- the SQL statements

    def check_parameters(self, sql: str, parameters: Sequence[str]) -> None:
        """Refuse, when a query starts, execution parameters that do not fit its placeholders (EXECUTE's are
        checked when it runs: the statement may be prepared by an execution still queued)."""
        words, _ = _split(sql)
        if words[:1] in (["PREPARE"], ["EXECUTE"], ["DEALLOCATE"]):
            return
        if parameters or "?" in sql:
            bind(sql, parameters, what="the query")

    def dispatch(self, sql: str, *, workgroup: str, parameters: Sequence[str] = ()) -> Dispatched:
        """What an execution of ``sql`` in ``workgroup`` runs (see the module's doc)."""
        words, rest = _split(sql)
        if words == ["PREPARE"] and rest:
            return self._prepare(sql, rest, workgroup, parameters)
        if words == ["EXECUTE"] and rest:
            return self._run_prepared(sql, rest, workgroup, parameters)
        if words[:1] == ["DEALLOCATE"]:
            return self._deallocate(sql, words[1:] + [t.text.upper() for t in rest[:1]], rest, workgroup)
        if not parameters and "?" not in sql:
            return Dispatched(sql)
        return Dispatched(bind(sql, parameters, what="the query"))

    def _prepare(self, sql: str, tokens: list[Token], workgroup: str, parameters: Sequence[str]) -> Dispatched:
        at = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.FROM), None)
        if at is None or at == 0 or at == len(tokens) - 1:
            raise PreparedStatementError("PREPARE needs a name and a statement", hint="PREPARE name FROM SELECT ...")
        if at != 1:
            raise PreparedStatementError(
                f"{sql[tokens[0].start : tokens[at - 1].end + 1]!r} is not a prepared statement name",
                hint="a letter or '_' first, then letters, digits or '_'",
            )
        name = check_statement_name(_name_of(tokens[0]))
        if parameters:
            raise PreparedStatementError(
                f"PREPARE {name} takes no execution parameters", hint="give them to EXECUTE {name}"
            )
        body = sql[tokens[2].start : tokens[-1].end + 1]
        _check_query(name, body)
        try:
            self.create_prepared_statement(name, workgroup, body)
        except PreparedStatementExists:
            self.authorize("UpdatePreparedStatement", workgroup)
            self._write(name, workgroup, body, None)
        return Dispatched(sql, ResultSet(columns=[]))

    def _run_prepared(self, sql: str, tokens: list[Token], workgroup: str, parameters: Sequence[str]) -> Dispatched:
        name = _name_of(tokens[0])
        statement = self.get_prepared_statement(name, workgroup)
        values: list[str] = []
        if len(tokens) > 1:
            if tokens[1].text.upper() != "USING" or len(tokens) < 3:
                raise PreparedStatementError(
                    f"EXECUTE {name}: expected USING and values after the name", hint=f"EXECUTE {name} USING 1, 'a'"
                )
            values = _values(sql, tokens[2:])
            if parameters:
                raise PreparedStatementError(
                    f"EXECUTE {name} has USING values and execution parameters", hint="give one or the other"
                )
        label = "USING value" if values else "execution parameter"
        bound = bind(
            statement.query_statement, values or list(parameters), what=f"prepared statement {name}", label=label
        )
        return Dispatched(bound)

    def _deallocate(self, sql: str, words: list[str], tokens: list[Token], workgroup: str) -> Dispatched:
        names = tokens[1:] if words[:1] == ["PREPARE"] and tokens and tokens[0].text.upper() == "PREPARE" else tokens
        if words[:1] != ["PREPARE"] or len(names) != 1:
            raise PreparedStatementError("DEALLOCATE PREPARE needs one name", hint="DEALLOCATE PREPARE name")
        self.delete_prepared_statement(_name_of(names[0]), workgroup)
        return Dispatched(sql, ResultSet(columns=[]))

    # ---- storage

    def _get(self, statement_name: str, work_group: str) -> PreparedStatement:
        with self.db.read() as conn:
            row = conn.execute(
                select(query_prepared_statements).where(
                    query_prepared_statements.c.workgroup == work_group,
                    query_prepared_statements.c.name == statement_name,
                )
            ).first()
        if row is None:
            raise PreparedStatementNotFound(
                f"prepared statement {statement_name} does not exist in workgroup {work_group}",
                hint=f"PREPARE {statement_name} FROM <query>, run in workgroup {work_group}, makes it",
            )
        return _statement(row)

    def _write(self, statement_name: str, work_group: str, query_statement: str, description: str | None) -> None:
        self.db.run_write(
            lambda conn: conn.execute(
                update(query_prepared_statements)
                .where(
                    query_prepared_statements.c.workgroup == work_group,
                    query_prepared_statements.c.name == statement_name,
                )
                .values(query_statement=query_statement, description=description or None, last_modified=now())
            )
        )


def _tokenize(sql: str, offset: int = 0) -> list[Token]:
    """The tokens of ``sql`` (positions counted from ``offset``) without a final ``;``; none when it does not
    tokenize (its run reports why)."""
    from sqlglot.dialects.athena import Athena

    try:
        tokens = list(Athena().tokenize(sql))
    except SqlglotError:
        return []
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    for token in tokens:
        token.start += offset
        token.end += offset
    return tokens


def _split(sql: str) -> tuple[list[str], list[Token]]:
    """The statement's leading keywords and the tokens after them. sqlglot reads PREPARE, EXECUTE and
    DEALLOCATE PREPARE as commands with the rest as one string, so the rest is tokenized on its own."""
    tokens = _tokenize(sql)
    if not tokens:
        return [], []
    first = tokens[0]
    if first.token_type in (TokenType.COMMAND, TokenType.EXECUTE):
        return first.text.upper().split(), _tokenize(sql[first.end + 1 :], first.end + 1)
    return [first.text.upper()], tokens[1:]


def _name_of(token: Token) -> str:
    if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not token.text.isidentifier():
        raise PreparedStatementError(f"{token.text!r} is not a prepared statement name")
    return token.text


def _values(sql: str, tokens: list[Token]) -> list[str]:
    """The texts of the comma-separated values after USING (commas inside brackets or parentheses kept)."""
    values: list[str] = []
    depth, first = 0, 0
    for i, token in enumerate(tokens):
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 0:
            values.append(_span(sql, tokens[first:i]))
            first = i + 1
    values.append(_span(sql, tokens[first:]))
    return values


def _span(sql: str, tokens: list[Token]) -> str:
    if not tokens:
        raise PreparedStatementError("EXECUTE ... USING has an empty value", hint="EXECUTE name USING 1, 'a'")
    if any(t.comments for t in tokens):
        raise PreparedStatementError("EXECUTE ... USING values cannot hold comments")
    return sql[tokens[0].start : tokens[-1].end + 1]
