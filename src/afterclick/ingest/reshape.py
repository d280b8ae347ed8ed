"""Reshaping a staged file as its mapping says: lookups, a row filter, expressions, grouping.

Runs before the checks when a table's mapping has any of them (``TableMapping.reshapes``). It
gives the checks a relation with ``_row`` and one column ``_m_<canonical>`` per computed
canonical column, plus ``_lbad``: why the row (or group) cannot be trusted, e.g. "not a number in
column Quantity" (such rows are quarantined, never silently summed as empty).

- **Lookups** are LEFT JOINs to another file of the same export (read as text, its key unique);
  a row whose match finds nothing is set aside when the lookup is ``required``.
- **where**: rows it leaves out are counted as *left out by the mapping's filter* (table
  ``{prefix}_out``), so the summary still adds up.
- **group_by**: one row per group of lines (an order from its line items). ``_row`` is the group's
  first line and ``_n`` its number of lines; ``{prefix}_grp`` maps every line to its group, so a
  group set aside is quarantined line by line. A column that is not an aggregate must agree on
  all lines of a group, or the group is set aside ("lines of one group disagree on customer_id").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from afterclick.ingest._common import IngestError, _first_line, _lit, _q, _Task
from afterclick.ingest.expressions import Expression, column, render
from afterclick.ingest.staging import stage_other_file

if TYPE_CHECKING:
    from afterclick.ingest.staging import _Staged


def reshape(con, task: _Task, staged: _Staged, prefix: str, base: str) -> str:
    """The relation (SQL) the checks read for a reshaped table; ``base`` is the staged rows."""
    tm = task.mapping
    grouped = bool(tm.group_by)
    exprs: dict[str, Expression] = dict(staged.expressions)
    if grouped:  # every canonical column goes through the grouping
        for canonical, src in staged.source_of.items():
            exprs.setdefault(canonical, column(src))
    names = {c.strip().lower(): c for c in reversed(list(staged.columns))}
    lookups = {alias: _stage_lookup(con, task, alias, prefix) for alias in tm.lookups}

    def ref(alias: str | None, name: str) -> str:
        if alias is None:
            found = name if name in staged.columns else names.get(name.strip().lower())
            if found is None:
                raise IngestError(f"{task.path}: the mapping for {task.spec.name} reads column {name!r}, which "
                                  f"the file does not have (found: {_shown(staged.columns)})")
            return f"r.{_q(found)}"
        cols = lookups[alias]
        found = name if name in cols else {c.lower(): c for c in cols}.get(name.lower())
        if found is None:
            lk = tm.lookups[alias]
            raise IngestError(f"{task.path}: the mapping reads {alias}.{name}, but {lk.file} has no column "
                              f"{name!r} (found: {_shown(cols)})")
        return f"{_q('lk_' + alias)}.{_q(found)}"

    problems: dict[str, str] = {}

    def sql(e: Expression) -> str:
        out = render(e, ref)
        problems.update(out.problems)
        return f"({out.sql})"

    joins = []
    for alias, lk in tm.lookups.items():
        match = sql(lk.match)
        table = f"{prefix}_lk_{alias}"
        joins.append(f"LEFT JOIN {table} {_q('lk_' + alias)} ON {_q('lk_' + alias)}._key = trim(({match})::VARCHAR)")
        if lk.required:
            problems[f"({match} IS NOT NULL AND {_q('lk_' + alias)}._key IS NULL)"] = (
                f"no row of {lk.file} has this {lk.key} (lookup {alias})")
    keep = f"coalesce({sql(tm.where)}, false)" if tm.where is not None else "true"
    source = f"{base} r {' '.join(joins)}"

    row_exprs = {c: sql(e) for c, e in exprs.items() if not e.aggregate}
    agg_exprs = {c: sql(e) for c, e in exprs.items() if e.aggregate}
    line_bad = (f"concat_ws('; ', {', '.join(f'CASE WHEN {c} THEN {_lit(r)} END' for c, r in problems.items())})"
                if problems else "''")
    if tm.where is not None:
        con.execute(f"CREATE TEMP TABLE {prefix}_out AS SELECT r._row FROM {source} WHERE NOT {keep}")
    if not grouped:
        cols = ", ".join(f"{v} AS {_q('_m_' + c)}" for c, v in row_exprs.items())
        relation = (f"(SELECT r.*, {cols + ', ' if cols else ''}NULLIF({line_bad}, '') AS _lbad, 1 AS _n "
                    f"FROM {source} WHERE {keep})")
    else:
        relation = _grouped(con, task, prefix, source, keep, sql, exprs, (row_exprs, agg_exprs), line_bad)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise IngestError(f"{task.path}: the mapping for {task.spec.name} cannot be applied ({_first_line(exc)})") from None
    types = {name: dtype for name, dtype, *_ in described}
    staged.expressions = exprs
    for c in exprs:
        staged.source_of[c] = "_m_" + c
        staged.computed["_m_" + c] = types["_m_" + c]
    return relation


def _grouped(con, task: _Task, prefix: str, source: str, keep: str, sql, exprs: dict[str, Expression],
             rendered: tuple[dict[str, str], dict[str, str]], line_bad: str) -> str:
    """The relation of a grouped table (line items into one row per group): values that must agree
    within a group, aggregates, and the reason a group is set aside (a bad line, lines that
    disagree). Also records each line's group in ``{prefix}_grp``."""
    tm = task.mapping
    row_exprs, agg_exprs = rendered
    group = ", ".join(sql(g) for g in tm.group_by)
    con.execute(f"CREATE TEMP TABLE {prefix}_grp AS SELECT r._row, min(r._row) OVER (PARTITION BY {group}) AS _g "
                f"FROM {source} WHERE {keep}")
    key_text = {g.text.strip() for g in tm.group_by}
    cols, disagree = [], []
    for c, v in row_exprs.items():
        cols.append(f"any_value({v}) AS {_q('_m_' + c)}")
        if exprs[c].text.strip() not in key_text:
            disagree.append(f"CASE WHEN count(DISTINCT {v}) > 1 OR (count({v}) > 0 AND count({v}) < count(*)) "
                            f"THEN {_lit(f'lines of one group disagree on {c}')} END")
    cols += [f"{v} AS {_q('_m_' + c)}" for c, v in agg_exprs.items()]
    bad = (f"concat_ws('; ', 'a line of its group: ' || NULLIF(string_agg(DISTINCT NULLIF({line_bad}, ''), '; '), ''), "
           f"{', '.join(disagree) or 'NULL'})")
    extra = ", any_value(r._line) AS _line, any_value(r._j) AS _j" if task.fmt == "jsonl" else ""
    return (f"(SELECT min(r._row) AS _row, count(*) AS _n{extra}, {', '.join(cols)}, NULLIF({bad}, '') AS _lbad "
            f"FROM {source} WHERE {keep} GROUP BY {group})")


def _shown(cols) -> str:
    cols = list(cols)
    return ", ".join(cols[:12]) + (" …" if len(cols) > 12 else "") if cols else "none"


def _stage_lookup(con, task: _Task, alias: str, prefix: str) -> list[str]:
    """Read a lookup's file into ``{prefix}_lk_{alias}`` (text columns plus ``_key``); its columns."""
    lk = task.mapping.lookups[alias]
    folder = task.folder if task.folder is not None else task.path.parent
    path = folder / lk.file
    if not path.is_file():
        raise IngestError(f"{path}: file named in the mapping's lookup {alias} for {task.spec.name} does not exist")
    fmt = lk.format or ("parquet" if path.name.lower().endswith(".parquet") else
                        "tsv" if path.name.lower().endswith((".tsv", ".tsv.gz")) else "csv")
    table = f"{prefix}_lk_{alias}"
    what = f"lookup {alias} for {task.spec.name}"
    try:
        cols = stage_other_file(con, path, fmt, f"{table}_raw", what, delimiter=lk.delimiter, encoding=lk.encoding)
        key = lk.key if lk.key in cols else {c.lower(): c for c in cols}.get(lk.key.lower())
        if key is None:
            raise IngestError(f"{path}: lookup {alias} needs key column {lk.key!r} (found: {_shown(cols)})")
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT NULLIF(trim({_q(key)}::VARCHAR), '') AS _key, * "
                    f"FROM {table}_raw")
        dup = con.execute(f"SELECT _key, count(*) FROM {table} WHERE _key IS NOT NULL GROUP BY _key "
                          "HAVING count(*) > 1 LIMIT 1").fetchone()
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        raise IngestError(f"{path}: cannot be read for {what} ({_first_line(exc)})") from None
    if dup:
        raise IngestError(f"{path}: {dup[1]} rows have {lk.key} {dup[0]!r}; a lookup's key must be unique "
                          f"(lookup {alias} for {task.spec.name})")
    return cols
