"""Checking: every staged row turned into canonical typed columns plus the reason it is bad, if it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb  # noqa: F401  (errors surface to the loader)

from afterclick.ingest._common import _lit, _q, _Task
from afterclick.ingest.mapping import EPOCH_FORMATS, TableMapping
from afterclick.ingest.reshape import reshape
from afterclick.schemas import (
    CONTENT_GOALS,
    DEFAULT_SURVEY_RANGE,
    EVENT_VOCABULARY,
    LEAD_STATUSES,
    SURVEY_RANGES,
    TableSpec,
)

if TYPE_CHECKING:
    from afterclick.ingest.staging import _Staged

# -- checking ---------------------------------------------------------------------------------
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_TS_NATIVE = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE", "TIMESTAMP WITH TIME ZONE")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE")


#: What trimming takes off a text value (a comment of only spaces, tabs, line breaks or
#: no-break spaces is no comment).
_BLANK = " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
#: Money columns checked against a plausible bound (1e308 is a typo, not an order).
_AMOUNTS = ("amount", "spend", "value", "mrr")
DEFAULT_MAX_AMOUNT = 1e9
#: The plausible window's default start; its end is a year after the ingest.
DEFAULT_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _window(tm: TableMapping) -> tuple[datetime, datetime]:
    """The plausible timestamps: [earliest, latest), by default 1990 to a year after today (UTC)."""
    first = tm.earliest.replace(tzinfo=UTC) if tm.earliest else DEFAULT_EARLIEST
    if tm.latest:
        last = tm.latest.replace(tzinfo=UTC)
    else:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        last = today.replace(year=today.year + 1, day=min(today.day, 28))
    return first, last


def _is_numeric(dtype: str) -> bool:
    return dtype in _NUMERIC or dtype.startswith("DECIMAL")


def _check(con, task: _Task, staged: _Staged, prefix: str) -> None:
    """Create the view ``{prefix}_v`` (one row per source row: ``_row``, the canonical typed columns
    and ``_bad``, the reason when something is wrong) and the table ``{prefix}_c`` of what the
    checks found (``_row``, ``_bad``, key hash ``_h``, unknown event name, ``_stored``, ``_dup_of``)."""
    spec, tm = task.spec, task.mapping
    jsonl = task.fmt == "jsonl"
    inner_from = staged.relation()
    reshaped = tm.reshapes or bool(staged.expressions)
    if reshaped:
        if jsonl:  # the JSON keys as columns, for expressions to read
            keys = ", ".join(f"json_extract_string(_j, {_lit(_pointer(k))}) AS {_q(k)}" for k in staged.columns)
            inner_from = f"(SELECT *{', ' + keys if keys else ''} FROM {inner_from})"
        inner_from = reshape(con, task, staged, prefix, inner_from)
    used = list(staged.source_of.items())  # (canonical, source)
    json_refs = jsonl and not reshaped

    # level 1: each used source value, trimmed text (NULL when empty) or a native value
    inputs, kinds = [], {}
    json_paths = ["/" + src.replace("~", "~0").replace("/", "~1") for _, src in used]  # JSON pointers
    for n, (col, src) in enumerate(used):
        stype = staged.columns[src] if src in staged.columns else staged.computed[src]
        dtype = spec.schema[col]
        ref = f"_v[{n + 1}]" if json_refs else _q(src)
        if dtype.is_timestamp() and stype == "TIMESTAMP WITH TIME ZONE":
            kind, expr = "ts_instant", ref
        elif dtype.is_timestamp() and stype in _TS_NATIVE:
            kind, expr = "ts_native", ref
        elif dtype.is_timestamp() and _is_numeric(stype) and tm.timestamp_format in EPOCH_FORMATS:
            kind, expr = "num", f"CAST({ref} AS DOUBLE)"
        elif dtype.is_floating() and _is_numeric(stype):
            kind, expr = "num", f"CAST({ref} AS DOUBLE)"
        elif dtype.is_boolean() and stype == "BOOLEAN":
            kind, expr = "bool", ref
        elif stype == "VARCHAR":
            kind, expr = "text", f"NULLIF(trim({ref}, {_lit(_BLANK)}), '')"
        else:
            kind, expr = "text", f"NULLIF(trim(CAST({ref} AS VARCHAR), {_lit(_BLANK)}), '')"
        kinds[col] = kind
        inputs.append(f"{expr} AS {_q('x_' + col)}")
    extra = (["_line", "_j"] if jsonl else []) + (["_lbad", "_n"] if reshaped else ["NULL AS _lbad", "1 AS _n"])
    if json_refs and json_paths:
        paths = "[" + ", ".join(_lit(p) for p in json_paths) + "]"
        inner_from = f"(SELECT *, json_extract_string(_j, {paths}) AS _v FROM {inner_from})"
    level1 = f"SELECT _row, {', '.join(extra + inputs) or 'NULL AS _none'} FROM {inner_from}"

    if tm.timezone and tm.timestamp_format not in EPOCH_FORMATS:
        _note_clock_changes(con, staged, level1, [c for c, k in kinds.items() if k == "text"
                                                  and spec.schema[c].is_timestamp()], tm)

    # level 2: parsed values (may still be NaN / infinite; level 3 decides)
    parsed, finals, problems = [], [], []
    for col, dtype in spec.schema.items():
        x, p = _q("x_" + col), _q("p_" + col)
        src = staged.source_of.get(col)
        if src is None:
            finals.append(f"NULL::{_sql_type(dtype)} AS {_q(col)}")
            continue
        kind = kinds[col]
        if src in staged.computed:
            label = f"{col} (from {staged.expressions[col].text if col in staged.expressions else src[3:]})"
        else:
            label = col if src == col else f"{col} (column {src})"
        required = col in spec.required
        if dtype.is_timestamp():
            parsed.append(f"{_parse_ts(x, kind, tm)} AS {p}")
            # stored as UTC without a zone (see schemas._TS)
            # (epoch microseconds back to a plain timestamp: same instant, no calendar library)
            finals.append(f"CASE WHEN isfinite({p}) THEN make_timestamp(epoch_us({p})) END AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL", f"missing {label}"))
            problems.append((f"{x} IS NOT NULL AND ({p} IS NULL OR NOT isfinite({p}))",
                             f"unparsable timestamp in {label}"))
            # plausible window: a row dated 1900 or 2999 would stretch every period and chart
            first, last = _window(tm)
            problems.append((f"isfinite({p}) AND {p} < {_lit(first.isoformat())}::TIMESTAMPTZ",
                             f"timestamp in {label} before {first:%Y-%m-%d} (implausible; set earliest "
                             "in a mapping file to keep it)"))
            problems.append((f"isfinite({p}) AND {p} >= {_lit(last.isoformat())}::TIMESTAMPTZ",
                             f"timestamp in {label} after {last:%Y-%m-%d} (implausible; set latest "
                             "in a mapping file to keep it)"))
        elif dtype.is_floating():
            parsed.append(f"{x if kind == 'num' else f'TRY_CAST({x} AS DOUBLE)'} AS {p}")
            finals.append(f"CASE WHEN isfinite({p}) THEN {p} END AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL OR isnan({p})", f"missing {label}"))
            if kind == "text":
                problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not a number in {label}"))
            problems.append((f"isinf({p})", f"not a finite number in {label}"))
            if col in _AMOUNTS:
                bound = tm.max_amount or DEFAULT_MAX_AMOUNT
                problems.append((f"isfinite({p}) AND abs({p}) > {bound!r}",
                                 f"{label} beyond {bound:,.0f} (implausible; set max_amount in a mapping file "
                                 "to keep it)"))
        elif dtype.is_boolean():
            if kind == "bool":
                parsed.append(f"{x} AS {p}")
            else:
                t = ", ".join(_lit(v) for v in _TRUE)
                f = ", ".join(_lit(v) for v in _FALSE)
                parsed.append(f"CASE WHEN lower({x}) IN ({t}) THEN true WHEN lower({x}) IN ({f}) THEN false END AS {p}")
                problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not true/false in {label}"))
            finals.append(f"{p} AS {_q(col)}")
        else:
            if col == "event":
                value = _event_expr(x, tm)
            elif col in ("survey", "kind", "objective", "goal", "status", "outcome"):
                value = f"lower({x})"
            else:
                value = x
            parsed.append(f"{value} AS {p}")
            finals.append(f"{p} AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL", f"missing {label}"))

    # rules on typed values
    def has(c: str) -> bool:
        return c in staged.source_of

    if spec.name == "transactions" and has("refund_of") and has("amount"):
        problems.append(('"p_refund_of" IS NOT NULL AND isfinite("p_amount") AND "p_amount" > 0',
                         "refund_of is set but the amount is positive (a refund's amount is negative)"))
    if spec.name == "campaigns" and has("spend"):
        problems.append(('isfinite("p_spend") AND "p_spend" < 0', "negative spend"))
    problems += _b2b_and_experiment_rules(spec.name, has)
    if spec.name == "events" and has("duration_s"):
        problems.append(('isfinite("p_duration_s") AND "p_duration_s" < 0', "negative duration_s"))
    if spec.name == "responses" and has("score") and has("survey"):
        lo, hi = DEFAULT_SURVEY_RANGE
        out_cond = " ".join(f"WHEN {_lit(s)} THEN \"p_score\" < {a} OR \"p_score\" > {b}"
                            for s, (a, b) in SURVEY_RANGES.items())
        out_reason = " ".join(f"WHEN {_lit(s)} THEN {_lit(f'survey score out of range ({s}: {a:g}-{b:g})')}"
                              for s, (a, b) in SURVEY_RANGES.items())
        other = _lit(f"survey score out of range (other surveys: {lo:g}-{hi:g})")
        problems.append((
            f'isfinite("p_score") AND (CASE "p_survey" {out_cond} ELSE "p_score" < {lo} OR "p_score" > {hi} END)',
            f'CASE "p_survey" {out_reason} ELSE {other} END',
        ))

    if reshaped:  # what the mapping's expressions and lookups found wrong with the row or group
        problems.append(("_lbad IS NOT NULL", "_lbad"))

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
    level2 = f"SELECT *, {', '.join(parsed) or 'NULL AS _none2'} FROM ({level1})"
    level3 = f"SELECT _row, _n, {', '.join(finals)}, {bad} AS _bad FROM ({level2})"
    # The typed rows stay a view (parsed again when loading: cheaper than keeping ten million
    # typed rows around); what the checks found goes into a small table, one row per source row.
    con.execute(f"CREATE TEMP VIEW {prefix}_v AS {level3}")
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
    if reshaped and tm.where is not None:  # rows the mapping's filter leaves out: counted, not loaded
        con.execute(f"INSERT INTO {prefix}_c SELECT _row, NULL, NULL, NULL, false, NULL, 1, true FROM {prefix}_out")
    _mark_duplicates(con, spec, prefix)


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


_SPLIT = r"^\s*[^:,]+:\s*[0-9]+(\.[0-9]+)?\s*(,\s*[^:,]+:\s*[0-9]+(\.[0-9]+)?\s*)*$"


def _b2b_and_experiment_rules(table: str, has) -> list[tuple[str, str]]:
    """(condition, reason) of the rules on the experiment and B2B tables' typed values."""
    rules: list[tuple[str, str]] = []
    if table == "experiments" and has("planned_split"):
        rules.append((f'"p_planned_split" IS NOT NULL AND NOT regexp_matches("p_planned_split", {_lit(_SPLIT)})',
                      "planned_split is not written variant:share, … (e.g. \"A:50, B:50\")"))
        if has("control_variant"):
            rules.append(('"p_planned_split" IS NOT NULL AND "p_control_variant" IS NOT NULL AND NOT '
                          'list_contains(list_transform(string_split("p_planned_split", \',\'), '
                          'x -> trim(split_part(x, \':\', 1))), "p_control_variant")',
                          "control_variant is not one of the variants in planned_split"))
    if table == "experiments" and has("start") and has("end"):
        rules.append(('"p_end" < "p_start"', "end before start"))
    if table == "lead_status" and has("status"):
        listed = ", ".join(_lit(v) for v in LEAD_STATUSES)
        rules.append((f'"p_status" IS NOT NULL AND "p_status" NOT IN ({listed})',
                      f"status is not one of {', '.join(LEAD_STATUSES)} (map the export's names with a "
                      "CASE expression in a mapping file)"))
    if table == "deals":
        if has("outcome"):
            rules.append(('"p_outcome" IS NOT NULL AND "p_outcome" NOT IN (\'won\', \'lost\')',
                          "outcome is neither won nor lost (leave it empty while the deal is open)"))
        if has("amount"):
            rules.append(('isfinite("p_amount") AND "p_amount" < 0', "negative amount"))
        if has("closed_at"):
            rules.append(('"p_closed_at" < "p_created_at"', "closed before it was created"))
    if table == "subscriptions":
        if has("mrr"):
            rules.append(('isfinite("p_mrr") AND "p_mrr" < 0', "negative mrr"))
        account = '"p_account_id" IS NULL' if has("account_id") else "true"
        person = '"p_customer_id" IS NULL' if has("customer_id") else "true"
        rules.append((f"{account} AND {person}", "neither account_id nor customer_id: whose subscription is it?"))
    return rules


def _sql_type(dtype) -> str:
    if dtype.is_timestamp():
        return "TIMESTAMP"  # UTC, like the store's columns
    if dtype.is_floating():
        return "DOUBLE"
    if dtype.is_boolean():
        return "BOOLEAN"
    return "VARCHAR"


def _parse_ts(x: str, kind: str, tm: TableMapping) -> str:
    """SQL for a timestamp input as TIMESTAMPTZ (naive values are in the session time zone)."""
    fmt = tm.timestamp_format
    if kind == "ts_instant":
        return x
    if kind == "ts_native":
        # a native timestamp without a zone is UTC, unless the mapping names a zone
        return f"CAST({x} AS TIMESTAMPTZ)" if tm.timezone else f"CAST({x} AS TIMESTAMP)"
    if fmt in EPOCH_FORMATS:
        number = x if kind == "num" else f"TRY_CAST({x} AS DOUBLE)"
        return f"TRY(to_timestamp({number} / {EPOCH_FORMATS[fmt]}))"
    if fmt:
        return f"CAST(try_strptime({x}, {_lit(fmt)}) AS TIMESTAMPTZ)"
    # Text with an offset or a zone name is read with it; text without one as a plain time in the
    # session's zone. (One cast for both would be wrong: once DuckDB has read a zone name, it reads
    # later naive values of the same batch in that zone, not UTC.)
    return (f"CASE WHEN regexp_matches({x}, {_lit(_ZONED)}) THEN TRY_CAST({x} AS TIMESTAMPTZ) "
            f"ELSE CAST(TRY_CAST({x} AS TIMESTAMP) AS TIMESTAMPTZ) END")


#: A timestamp written with its offset (Z, +02, -03:30, UTC) or zone name (Europe/Berlin).
_ZONED = r"(\d\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|UTC|GMT)|\s[A-Za-z_]+/[A-Za-z_/+-]+)\s*$"


def _event_expr(x: str, tm: TableMapping) -> str:
    if not tm.event_names:
        return f"lower({x})"
    exact = " ".join(f"WHEN {_lit(s)} THEN {_lit(c)}" for s, c in tm.event_names.items())
    folded: dict[str, str] = {}
    for s, c in tm.event_names.items():
        folded.setdefault(s.strip().lower(), c)
    loose = " ".join(f"WHEN {_lit(s)} THEN {_lit(c)}" for s, c in folded.items())
    return f"CASE {x} {exact} ELSE CASE lower({x}) {loose} ELSE lower({x}) END END"


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
