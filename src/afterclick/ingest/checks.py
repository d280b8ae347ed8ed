"""Checking: every staged row turned into canonical typed columns plus the reason it is bad, if it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb  # noqa: F401  (errors surface to the loader)

from afterclick.ingest._common import _lit, _q, _Task
from afterclick.ingest.mapping import EPOCH_FORMATS, TableMapping
from afterclick.ingest.reshape import reshape
from afterclick.ingest.rules import (
    _ZONED,
    _sql_type,
    column_rules,
    input_kind,
    table_rules,
)
from afterclick.schemas import CONTENT_GOALS, EVENT_VOCABULARY, TableSpec

if TYPE_CHECKING:
    from afterclick.ingest.staging import _Staged

def _check(con, task: _Task, staged: _Staged, prefix: str) -> None:
    """Create the view ``{prefix}_v`` (one row per source row: ``_row``, the canonical typed columns
    and ``_bad``, the reason when something is wrong) and the table ``{prefix}_c`` of what the
    checks found (``_row``, ``_bad``, key hash ``_h``, unknown event name, ``_stored``, ``_dup_of``)."""
    spec, tm = task.spec, task.mapping
    jsonl = task.fmt == "jsonl"
    reshaped = tm.reshapes or bool(staged.expressions)
    level1, kinds = _inputs(con, task, staged, prefix, reshaped)
    if tm.timezone and tm.timestamp_format not in EPOCH_FORMATS:
        _note_clock_changes(con, staged, level1, [c for c, k in kinds.items() if k == "text"
                                                  and spec.schema[c].is_timestamp()], tm)

    # level 2: parsed values (may still be NaN / infinite; level 3 decides)
    parsed, finals, problems = [], [], []
    for col, dtype in spec.schema.items():
        src = staged.source_of.get(col)
        if src is None:
            finals.append(f"NULL::{_sql_type(dtype)} AS {_q(col)}")
            continue
        if src in staged.computed:
            label = f"{col} (from {staged.expressions[col].text if col in staged.expressions else src[3:]})"
        else:
            label = col if src == col else f"{col} (column {src})"
        one, final, rules = column_rules(col, dtype, kinds[col], label, col in spec.required, tm)
        parsed.append(one)
        finals.append(final)
        problems += rules
    problems += table_rules(spec, lambda c: c in staged.source_of)
    if reshaped:  # what the mapping's expressions and lookups found wrong with the row or group
        problems.append(("_lbad IS NOT NULL", "_lbad"))
    bad = _bad_reason(problems, jsonl)
    level2 = f"SELECT *, {', '.join(parsed) or 'NULL AS _none2'} FROM ({level1})"
    level3 = f"SELECT _row, _n, {', '.join(finals)}, {bad} AS _bad FROM ({level2})"
    # The typed rows stay a view (parsed again when loading: cheaper than keeping ten million
    # typed rows around); what the checks found goes into a small table, one row per source row.
    con.execute(f"CREATE TEMP VIEW {prefix}_v AS {level3}")
    _record_findings(con, spec, prefix)
    if reshaped and tm.where is not None:  # rows the mapping's filter leaves out: counted, not loaded
        con.execute(f"INSERT INTO {prefix}_c SELECT _row, NULL, NULL, NULL, false, NULL, 1, true FROM {prefix}_out")
    _mark_duplicates(con, spec, prefix)


def _inputs(con, task: _Task, staged: _Staged, prefix: str, reshaped: bool) -> tuple[str, dict[str, str]]:
    """Level 1: each used source value, trimmed text (NULL when empty) or a native value, as SQL;
    and how each canonical column is read (its kind)."""
    spec, tm = task.spec, task.mapping
    jsonl = task.fmt == "jsonl"
    inner_from = staged.relation()
    if reshaped:
        if jsonl:  # the JSON keys as columns, for expressions to read
            keys = ", ".join(f"json_extract_string(_j, {_lit(_pointer(k))}) AS {_q(k)}" for k in staged.columns)
            inner_from = f"(SELECT *{', ' + keys if keys else ''} FROM {inner_from})"
        inner_from = reshape(con, task, staged, prefix, inner_from)
    used = list(staged.source_of.items())  # (canonical, source)
    json_refs = jsonl and not reshaped
    inputs, kinds = [], {}
    for n, (col, src) in enumerate(used):
        stype = staged.columns[src] if src in staged.columns else staged.computed[src]
        ref = f"_v[{n + 1}]" if json_refs else _q(src)
        kinds[col], expr = input_kind(spec.schema[col], stype, ref, tm)
        inputs.append(f"{expr} AS {_q('x_' + col)}")
    extra = (["_line", "_j"] if jsonl else []) + (["_lbad", "_n"] if reshaped else ["NULL AS _lbad", "1 AS _n"])
    if json_refs and used:
        paths = "[" + ", ".join(_lit(_pointer(src)) for _, src in used) + "]"
        inner_from = f"(SELECT *, json_extract_string(_j, {paths}) AS _v FROM {inner_from})"
    return f"SELECT _row, {', '.join(extra + inputs) or 'NULL AS _none'} FROM {inner_from}", kinds


def _bad_reason(problems: list[tuple[str, str]], jsonl: bool) -> str:
    """SQL for ``_bad``: every reason that holds, joined with '; ' (NULL for a good row)."""
    def reason_sql(r: str) -> str:
        return r if r.startswith("CASE ") or r == "_lbad" else _lit(r)

    if problems:
        any_bad = " OR ".join(f"({c})" for c, _ in problems)
        listed = ", ".join(f"CASE WHEN {c} THEN {reason_sql(r)} END" for c, r in problems)
        bad = f"CASE WHEN {any_bad} THEN concat_ws('; ', {listed}) END"
    else:
        bad = "NULL::VARCHAR"
    if jsonl:
        bad = (f"CASE WHEN _j IS NULL THEN 'not valid JSON' WHEN json_type(_j) <> 'OBJECT' "
               f"THEN 'not a JSON object' ELSE {bad} END")
    return bad


def _record_findings(con, spec: TableSpec, prefix: str) -> None:
    """The table ``{prefix}_c``: per source row its reason, key hash and unknown vocabulary."""
    unknown = "NULL::VARCHAR"
    if spec.name == "events":
        vocab = ", ".join(_lit(e) for e in EVENT_VOCABULARY)
        unknown = f"CASE WHEN _bad IS NULL AND event NOT IN ({vocab}) THEN event END"
    if spec.name == "content":
        # a goal outside the vocabulary is kept and reported, as unknown event names are
        goals = ", ".join(_lit(e) for e in CONTENT_GOALS)
        unknown = f"CASE WHEN _bad IS NULL AND goal NOT IN ({goals}) THEN goal END"
    key_hash = "hash(" + ", ".join(_q(c) for c in spec.key) + ")"
    con.execute(
        f"CREATE TEMP TABLE {prefix}_c AS SELECT _row, _bad, CASE WHEN _bad IS NULL THEN {key_hash} END AS _h, "
        f"{unknown} AS _unknown, false AS _stored, NULL::BIGINT AS _dup_of, _n, false AS _out FROM {prefix}_v"
    )


def _pointer(key: str) -> str:
    """A JSON pointer to a top-level key (RFC 6901: ~ and / escaped), whatever characters it holds."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _note_clock_changes(con, staged: _Staged, level1: str, columns: list[str], tm: TableMapping) -> None:
    """Count local times the clock change makes ambiguous (the hour lived twice in autumn: DuckDB
    reads the second) or impossible (the hour skipped in spring: read an hour on), and say so."""
    if not columns:
        return
    zone = _lit(tm.timezone)
    parts = []
    for col in columns:
        x = _q("x_" + col)
        local = (f"try_strptime({x}, {_lit(tm.timestamp_format)})" if tm.timestamp_format
                 else f"CASE WHEN NOT regexp_matches({x}, {_lit(_ZONED)}) THEN TRY_CAST({x} AS TIMESTAMP) END")
        parts.append(f"SELECT {local} AS l FROM ({level1})")
    amb, gap = con.execute(f"""
        SELECT count(*) FILTER (WHERE timezone({zone}, u + INTERVAL 1 HOUR) = l
                                   OR timezone({zone}, u - INTERVAL 1 HOUR) = l),
               count(*) FILTER (WHERE timezone({zone}, u) <> l)
        FROM (SELECT l, CAST(l AS TIMESTAMPTZ) AS u FROM ({' UNION ALL '.join(parts)}) WHERE l IS NOT NULL)
    """).fetchone()
    if amb:
        staged.notes.append(f"{amb:,} local time(s) fell in the hour the clocks went back in {tm.timezone} "
                            "(it happens twice); read as the second, after the change")
    if gap:
        staged.notes.append(f"{gap:,} local time(s) fell in the hour the clocks skipped in {tm.timezone} "
                            "(it never happened); read as an hour later")


def _clean_rows(con, prefix: str) -> str:
    """FROM clause: the typed rows not (yet) set aside."""
    v, c = f"{prefix}_v", f"{prefix}_c"
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {c} WHERE _bad IS NOT NULL LIMIT 1)").fetchone()[0]:
        return f"(SELECT * FROM {v} WHERE _row NOT IN (SELECT _row FROM {c} WHERE _bad IS NOT NULL))"
    return v


def _mark_duplicates(con, spec: TableSpec, prefix: str) -> None:
    """Later copies of a key inside the file are set aside (exact comparison, not just the hash)."""
    c = f"{prefix}_c"
    # candidates: equal key hashes, found by sorting (cheaper than hashing ten million hashes again)
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_cand AS
        SELECT DISTINCT _h FROM (SELECT _h, lag(_h) OVER (ORDER BY _h) AS _prev FROM {c} WHERE _bad IS NULL)
        WHERE _h = _prev""")
    if con.execute(f"SELECT count(*) FROM {prefix}_cand").fetchone()[0] == 0:
        return
    key = ", ".join(_q(k) for k in spec.key)
    others = [k for k in spec.columns if k not in spec.key]
    same = " AND ".join(f"{_q(k)} IS NOT DISTINCT FROM first_value({_q(k)}) OVER w" for k in others) or "true"
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_dup AS
        SELECT _row, first_row, same FROM (
            SELECT _row, row_number() OVER w AS rn, first_value(_row) OVER w AS first_row, {same} AS same
            FROM {prefix}_v
            WHERE _row IN (SELECT _row FROM {c} WHERE _h IN (SELECT _h FROM {prefix}_cand))
            WINDOW w AS (PARTITION BY {key} ORDER BY _row)
        ) WHERE rn > 1""")
    if con.execute(f"SELECT count(*) FROM {prefix}_dup").fetchone()[0]:
        keys = ", ".join(spec.key) if spec.name != "events" else "event"
        other = ("same event as an earlier row but other duration_s or value" if spec.name == "events"
                 else "a second assignment of this person in this experiment (one variant per person: "
                      "the first counts)"
                 if spec.name == "assignments" else f"same {keys} as an earlier row but other values")
        con.execute(f"""
            UPDATE {c} SET _bad = CASE WHEN d.same THEN 'duplicate of an earlier row' ELSE {_lit(other)} END,
                           _dup_of = d.first_row
            FROM {prefix}_dup d WHERE {c}._row = d._row""")


def _mark_stored(con, spec: TableSpec, prefix: str) -> None:
    """Rows already in the store: identical ones count as stored, others with its key conflict."""
    target = _q(spec.name)
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {target} LIMIT 1)").fetchone()[0] == 0:
        return
    c = f"{prefix}_c"
    on = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM o.{_q(k)}" for k in spec.key)
    others = [k for k in spec.columns if k not in spec.key]
    same = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM o.{_q(k)}" for k in others) or "true"
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_hit AS
        SELECT s._row, bool_or({same}) AS same
        FROM {_clean_rows(con, prefix)} s JOIN {target} o ON {on}
        GROUP BY s._row""")
    if con.execute(f"SELECT count(*) FROM {prefix}_hit").fetchone()[0] == 0:
        return
    keys = ", ".join(spec.key) if spec.name != "events" else "event"
    conflict = (f"conflicts with a stored row (same {keys}, other "
                f"{'duration_s or value' if spec.name == 'events' else 'values'})")
    if spec.name == "assignments":
        conflict = ("a second assignment of this person in this experiment (one variant per person: "
                    "the stored one counts)")
    con.execute(f"""
        UPDATE {c} SET _stored = h.same,
                       _bad = CASE WHEN h.same THEN NULL ELSE {_lit(conflict)} END
        FROM {prefix}_hit h WHERE {c}._row = h._row""")
