"""Row- and column-level security of a dataset for one viewer (QuickSight's rules: default deny for rows).

A viewer is matched by ``user/NAME`` and ``group/NAME`` for each IAM group the user is in. When a dataset has
row rules, a viewer no rule names sees no rows; a rule without values sees every row; otherwise the rules a
viewer matches are OR-ed, and within one rule the columns' allowed values are AND-ed. A column rule hides its
columns from every viewer it does not name. The lake's administrator is not restricted (as IAM's decisions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lakeport.dashboards.dataset_definition import DataSetDefinition
from lakeport.dashboards.visual_sql import in_list
from lakeport.sqltext import ident

NOTHING = "1 = 0"


def viewer_keys(user: str, groups: Sequence[str]) -> set[str]:
    return {f"user/{user}", *(f"group/{g}" for g in groups)}


def row_predicate(
    definition: DataSetDefinition, columns: Mapping[str, str], keys: set[str] | None, what: str
) -> str | None:
    """The WHERE condition that keeps the rows this viewer may see (None: every row); ``keys`` None: no limit."""
    if keys is None or not definition.row_rules:
        return None
    matched = [r for r in definition.row_rules if r.principal in keys]
    if not matched:
        return NOTHING
    parts: list[str] = []
    for rule in matched:
        if not rule.values:
            return None
        ands = [
            in_list(ident(c), columns[c], list(v), f"{what}, row rule of {rule.principal}")
            for c, v in rule.values.items()
        ]
        parts.append("(" + " AND ".join(ands) + ")")
    return " OR ".join(parts)


def hidden_columns(definition: DataSetDefinition, keys: set[str] | None) -> set[str]:
    """The columns this viewer may not see."""
    if keys is None:
        return set()
    hidden: set[str] = set()
    for rule in definition.column_rules:
        if not keys & set(rule.principals):
            hidden.update(rule.columns)
    return hidden
