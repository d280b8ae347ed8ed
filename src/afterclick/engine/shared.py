"""One KPI's expressions computed once where they overlap.

A KPI hands the engine several expressions (the checks in ``needs``, the headline ``value``, the
``rows``, the ``facts`` its notes read) that are executed one by one; most are read off the same
table, the rows or the relation the rows select from. Executed as they are, that table is
computed again for each. :func:`share_rows` finds the relation the rows are made of that the
other expressions also read, materializes it once (a temporary table on the backend, as the
shared building blocks are) and rewrites every expression to read it: the same queries, the same
results, one computation of the common part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ibis.expr.operations as ops
from ibis.common.graph import Graph

from afterclick.engine.registry import Computation

#: Relations that read one parent row set and leave it recognisable: the rows' own relation may
#: be a selection, filter or ordering of the table the other expressions read.
_THROUGH = (ops.Project, ops.DropColumns, ops.Filter, ops.Sort)
#: Already stored: nothing to gain from materializing these again.
_STORED = (ops.DatabaseTable, ops.InMemoryTable, ops.SQLQueryResult)


def _others(comp: Computation) -> list[Any]:
    return [e for e in (comp.value, *(count for count, _ in comp.needs), *comp.facts.values())
            if e is not None]


def shared_relation(comp: Computation, *, memtables: bool = True) -> ops.Relation | None:
    """The relation of ``comp.rows`` (or one it selects, filters or orders, nearest first) that the
    value, the needs or the facts also read; ``None`` when they read none of it, or when it reads
    an in-memory table and ``memtables`` is false (Ibis' PySpark backend does not register those
    for a materialization, only for a query)."""
    if comp.rows is None:
        return None
    others = _others(comp)
    if not others:
        return None
    read: set[Any] = set()
    for e in others:
        read.update(Graph.from_bfs(e.op()).keys())
    node = comp.rows.op()
    while True:
        if isinstance(node, _STORED):
            return None
        if node in read:
            if not memtables and any(isinstance(n, ops.InMemoryTable) for n in Graph.from_bfs(node)):
                return None
            return node
        if not isinstance(node, _THROUGH):
            return None
        node = node.parent


def share_rows(comp: Computation, materialize: Callable[[Any], Any], *,
               memtables: bool = True) -> tuple[Computation, Any]:
    """``comp`` with the relation its expressions share materialized once (see the module), and
    the materialized table (to release when the KPI is done), or ``comp`` itself and ``None``."""
    node = shared_relation(comp, memtables=memtables)
    if node is None:
        return comp, None
    done = materialize(node.to_expr())
    swap = {node: done.op()}

    def rewrite(e: Any) -> Any:
        return e.op().replace(swap).to_expr()

    return replace(
        comp,
        value=None if comp.value is None else rewrite(comp.value),
        rows=rewrite(comp.rows),
        needs=tuple((rewrite(count), why) for count, why in comp.needs),
        facts={name: rewrite(e) for name, e in comp.facts.items()},
    ), done
