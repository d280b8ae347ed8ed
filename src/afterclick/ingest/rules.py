"""The rules a staged value must pass: how each canonical type is read from text or a native
value, and the per-table rules on typed values (a refund's sign, a survey's score range, a deal's
outcome…). Each rule is SQL: a condition over the parsed ``p_<column>`` values and the reason
written into the quarantine when it holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from afterclick.ingest._common import _lit, _q
from afterclick.ingest.mapping import EPOCH_FORMATS, TableMapping
from afterclick.schemas import (
    DEFAULT_SURVEY_RANGE,
    LEAD_STATUSES,
    SURVEY_RANGES,
    TableSpec,
)

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



def input_kind(dtype, stype: str, ref: str, tm: TableMapping) -> tuple[str, str]:
    """How a source value of DuckDB type ``stype`` is read for a canonical column of ``dtype``:
    (kind, SQL) — kind is ts_instant, ts_native, num, bool or text (trimmed, NULL when blank)."""
    if dtype.is_timestamp() and stype == "TIMESTAMP WITH TIME ZONE":
        return "ts_instant", ref
    if dtype.is_timestamp() and stype in _TS_NATIVE:
        return "ts_native", ref
    if (dtype.is_timestamp() and _is_numeric(stype) and tm.timestamp_format in EPOCH_FORMATS) \
            or (dtype.is_floating() and _is_numeric(stype)):
        return "num", f"CAST({ref} AS DOUBLE)"
    if dtype.is_boolean() and stype == "BOOLEAN":
        return "bool", ref
    if stype == "VARCHAR":
        return "text", f"NULLIF(trim({ref}, {_lit(_BLANK)}), '')"
    return "text", f"NULLIF(trim(CAST({ref} AS VARCHAR), {_lit(_BLANK)}), '')"


def column_rules(col: str, dtype, kind: str, label: str, required: bool,
                 tm: TableMapping) -> tuple[str, str, list[tuple[str, str]]]:
    """(parsed SQL, final SQL, [(condition, reason)]) for one canonical column read as ``kind``."""
    x, p = _q("x_" + col), _q("p_" + col)
    problems: list[tuple[str, str]] = []
    if dtype.is_timestamp():
        # stored as UTC without a zone (see schemas._TS): epoch microseconds back to a plain
        # timestamp, same instant, no calendar library
        final = f"CASE WHEN isfinite({p}) THEN make_timestamp(epoch_us({p})) END AS {_q(col)}"
        if required:
            problems.append((f"{x} IS NULL", f"missing {label}"))
        problems.append((f"{x} IS NOT NULL AND ({p} IS NULL OR NOT isfinite({p}))", f"unparsable timestamp in {label}"))
        # plausible window: a row dated 1900 or 2999 would stretch every period and chart
        first, last = _window(tm)
        problems.append((f"isfinite({p}) AND {p} < {_lit(first.isoformat())}::TIMESTAMPTZ",
                         f"timestamp in {label} before {first:%Y-%m-%d} (implausible; set earliest in a mapping "
                         "file to keep it)"))
        problems.append((f"isfinite({p}) AND {p} >= {_lit(last.isoformat())}::TIMESTAMPTZ",
                         f"timestamp in {label} after {last:%Y-%m-%d} (implausible; set latest in a mapping "
                         "file to keep it)"))
        return f"{_parse_ts(x, kind, tm)} AS {p}", final, problems
    if dtype.is_floating():
        if required:
            problems.append((f"{x} IS NULL OR isnan({p})", f"missing {label}"))
        if kind == "text":
            problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not a number in {label}"))
        problems.append((f"isinf({p})", f"not a finite number in {label}"))
        if col in _AMOUNTS:
            bound = tm.max_amount or DEFAULT_MAX_AMOUNT
            problems.append((f"isfinite({p}) AND abs({p}) > {bound!r}",
                             f"{label} beyond {bound:,.0f} (implausible; set max_amount in a mapping file to "
                             "keep it)"))
        return (f"{x if kind == 'num' else f'TRY_CAST({x} AS DOUBLE)'} AS {p}",
                f"CASE WHEN isfinite({p}) THEN {p} END AS {_q(col)}", problems)
    if dtype.is_boolean():
        if kind == "bool":
            return f"{x} AS {p}", f"{p} AS {_q(col)}", problems
        t = ", ".join(_lit(v) for v in _TRUE)
        f = ", ".join(_lit(v) for v in _FALSE)
        problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not true/false in {label}"))
        return (f"CASE WHEN lower({x}) IN ({t}) THEN true WHEN lower({x}) IN ({f}) THEN false END AS {p}",
                f"{p} AS {_q(col)}", problems)
    if col == "event":
        value = _event_expr(x, tm)
    elif col in ("survey", "kind", "objective", "goal", "status", "outcome"):
        value = f"lower({x})"
    else:
        value = x
    if required:
        problems.append((f"{x} IS NULL", f"missing {label}"))
    return f"{value} AS {p}", f"{p} AS {_q(col)}", problems


def table_rules(spec: TableSpec, has: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(condition, reason) of the rules on one table's typed values (``has``: is the column mapped)."""
    problems: list[tuple[str, str]] = []
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
    return problems


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
