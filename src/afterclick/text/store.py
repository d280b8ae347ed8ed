"""The ``text_scores`` derived table: one row of scores per message and per survey comment.

Scores are computed once and kept in the store; a later run scores only the texts not scored
yet (by id and scorer). The workspace calls :func:`prepare_text_scores` before the first KPI
that reads ``text_scores`` (the workspace registers it: this module imports nothing above it).
"""

from __future__ import annotations

import ibis
import pandas as pd

from afterclick.core.texts import left_out_facts, left_out_notes  # noqa: F401 (kept importable here)
from afterclick.text.scoring import COLUMNS, LANGUAGE_COLUMNS, DefaultScorer, score_texts

TABLE = "text_scores"
#: (source table, id column, text column) of every text that gets a score.
SOURCES = (("messages", "message_id", "text"), ("responses", "response_id", "comment"))
#: More texts than this to score: show a progress bar.
PROGRESS_FROM = 5_000

_DDL = ("text_id VARCHAR, source VARCHAR, scorer VARCHAR, "
        + ", ".join(f"{c} DOUBLE" for c in COLUMNS)
        + ", " + ", ".join(f"{c} VARCHAR" for c in LANGUAGE_COLUMNS))
_TYPES = tuple(tuple(part.split(" ")) for part in _DDL.split(", "))
#: The table's columns: the id of the scored row, its table ("messages" or "responses"), the
#: scorer's name and version, the scores, then the text's language (ISO 639-1, "und" when too
#: short or ambiguous to tell) and why it was not scored ("language pt"; NULL when scored, and
#: then the scores are NULL).
SCHEMA = ibis.schema({"text_id": "string", "source": "string", "scorer": "string",
                      **{c: "float64" for c in COLUMNS}, **{c: "string" for c in LANGUAGE_COLUMNS}})


def unscored(ws, scorer_name: str) -> pd.DataFrame:
    """Texts of the store without a score from ``scorer_name``: columns text_id, source, text."""
    con = ws.store.con
    existing = set(con.list_tables())
    parts = []
    for source, id_col, text_col in SOURCES:
        if source not in existing:
            continue
        t = con.table(source)
        t = t.filter(t[text_col].notnull() & (t[text_col].strip() != ""))
        t = t.select(text_id=t[id_col], text=t[text_col])
        if TABLE in existing:
            s = con.table(TABLE)
            s = s.filter((s.source == source) & (s.scorer == scorer_name)).select(sid=s.text_id)
            t = t.anti_join(s, t.text_id == s.sid)
        df = t.execute()
        df.insert(1, "source", source)
        parts.append(df)
    if not parts:
        return pd.DataFrame(columns=["text_id", "source", "text"])
    return pd.concat(parts, ignore_index=True)


def prepare_text_scores(ws, scorer=None) -> int:
    """Score the messages and survey comments not scored yet; returns how many were scored.

    On a writable DuckDB store the scores are appended to the table ``text_scores``; on a
    read-only one they go to a temporary table of the same name (this session only, stored rows
    included). Other backends read the table as it is: score on DuckDB first.
    """
    scorer = scorer or DefaultScorer()
    store = ws.store
    if not store.is_duckdb:
        if TABLE in store.con.list_tables():
            return 0
        raise RuntimeError(f"{TABLE} is missing on this {store.con.name} backend: scoring writes to a "
                           "DuckDB store; score there (any KPI of the advocacy family does) and copy the table")
    todo = unscored(ws, scorer.name)
    scores = score_texts(todo["text"], scorer, progress=len(todo) > PROGRESS_FROM)
    new = pd.concat([todo[["text_id", "source"]].reset_index(drop=True),
                     pd.DataFrame({"scorer": scorer.name}, index=range(len(todo))), scores], axis=1)
    raw = store.raw
    read_only = bool(raw.execute("SELECT readonly FROM duckdb_databases() "
                                 "WHERE database_name = current_database()").fetchone()[0])
    raw.register("_ac_new_scores", new)
    # typed as the table is: a column pandas holds as all-None objects has no type of its own
    typed = "SELECT " + ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in _TYPES) + " FROM _ac_new_scores"
    try:
        if read_only:
            stored = f'SELECT * FROM main."{TABLE}"' if TABLE in store.con.list_tables() else None
            union = f"{stored} UNION ALL BY NAME {typed}" if stored else typed
            raw.execute(f'CREATE OR REPLACE TEMP TABLE "{TABLE}" AS {union}')
        else:
            raw.execute(f'CREATE TABLE IF NOT EXISTS "{TABLE}" ({_DDL})')
            for c in LANGUAGE_COLUMNS:  # a store scored before languages were identified
                raw.execute(f'ALTER TABLE "{TABLE}" ADD COLUMN IF NOT EXISTS {c} VARCHAR')
            if len(new):
                raw.execute(f'INSERT INTO "{TABLE}" BY NAME {typed}')
    finally:
        raw.unregister("_ac_new_scores")
    return len(new)
