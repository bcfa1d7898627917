"""Trino's UNNEST in FROM, in DuckDB: several arrays side by side (the shorter padded with NULLs), maps as key
and value columns, and WITH ORDINALITY over any of them.

DuckDB's ``UNNEST`` table function takes one list; its ``unnest()`` in a select list takes many and pads them
the way Trino does. So ``UNNEST(a, b) WITH ORDINALITY AS t(x, y, n)`` becomes the subquery
``(SELECT unnest(a) AS x, unnest(b) AS y, unnest(generate_series(1, greatest(len(a), len(b)))) AS n) AS t``,
which DuckDB joins laterally to the tables before it.
"""

from __future__ import annotations

from sqlglot import exp

from lakeport.query.semantics import fn

T = exp.DataType.Type


def _is_map(node: exp.Expression) -> bool:
    dtype = getattr(node, "type", None)
    return dtype is not None and dtype.this == T.MAP


def _needs_rewrite(unnest: exp.Unnest) -> bool:
    ordinality = unnest.args.get("offset")
    alias = unnest.args.get("alias")
    columns = len(alias.columns) if isinstance(alias, exp.TableAlias) else 0
    return (
        columns > len(unnest.expressions) + (1 if isinstance(ordinality, exp.Expression) else 0)
        or len(unnest.expressions) > 1
        or any(_is_map(e) for e in unnest.expressions)
        or isinstance(ordinality, exp.Expression)
    )


def rewrite_unnest(tree: exp.Expression) -> exp.Expression:
    for unnest in list(tree.find_all(exp.Unnest)):
        if not isinstance(unnest.parent, exp.From | exp.Join) or not _needs_rewrite(unnest):
            continue
        alias = unnest.args.get("alias")
        names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        items: list[exp.Expression] = []
        lengths: list[exp.Expression] = []
        for source in unnest.expressions:
            if _is_map(source):
                items.append(fn("unnest", fn("map_keys", source.copy())))
                items.append(fn("unnest", fn("map_values", source.copy())))
                lengths.append(fn("cardinality", source.copy()))
            elif len(unnest.expressions) == 1 and len(names) - (1 if unnest.args.get("offset") else 0) > 1:
                # an array of rows: one column per field, in order
                fields = len(names) - (1 if unnest.args.get("offset") else 0)
                for position in range(1, fields + 1):
                    pick = exp.Lambda(
                        this=fn("struct_extract", exp.column("_lakeport_row"), exp.Literal.number(position)),
                        expressions=[exp.to_identifier("_lakeport_row")],
                    )
                    items.append(fn("unnest", fn("list_transform", source.copy(), pick)))
                lengths.append(fn("len", source.copy()))
            else:
                items.append(fn("unnest", source.copy()))
                lengths.append(fn("len", source.copy()))
        ordinality = unnest.args.get("offset")
        if ordinality:
            longest = lengths[0] if len(lengths) == 1 else fn("greatest", *lengths)
            items.append(fn("unnest", fn("generate_series", exp.Literal.number(1), longest)))
        if isinstance(ordinality, exp.Expression) and len(names) < len(items):
            names = [*names[: len(items) - 1], ordinality.name]
        names = names[: len(items)] + [f"_col{i}" for i in range(len(names), len(items))]
        select = exp.select(*(exp.alias_(item, name, quoted=True) for item, name in zip(items, names, strict=True)))
        table_name = alias.name if isinstance(alias, exp.TableAlias) and alias.name else "_unnest"
        unnest.replace(exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table_name))))
    return tree
