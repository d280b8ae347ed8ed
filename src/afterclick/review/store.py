"""Stored reviews: what each review reported, kept immutably in the store's DuckDB file.

Three tables, created by afterclick and only ever appended to:

* ``ac_reviews``: one row per review (period, version, when it was made, the data's cut-off,
  the goals file and template it followed, and a content hash chained to the review before);
* ``ac_review_kpis``: one row per KPI of a review (value, interval, status, the hash of the
  KPI's definition, the goal and its attainment, the benchmark comparisons, as JSON);
* ``ac_review_notes``: the team's notes written with the review (tied to a KPI or not).

A second review of the same period is a new version; nothing is updated in place. Each review's
``content_hash`` covers its header, KPI rows and notes, and ``prev_hash`` is the hash of the review
stored before it, so a row changed, added or deleted behind afterclick's back (by a DuckDB shell)
is found on the next read and refused in one line (:class:`ReviewChanged`).

Writing follows the store's rules (docs/store.md): the caller holds the store open for writing (so
its write lock); the KPI and note rows are committed in one transaction, then the header row, the
commit marker, in a second. Rows whose review has no header (a run killed in between) belong to
no review and are never read.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from afterclick.store import Store, StoreError

REVIEWS = "ac_reviews"
REVIEW_KPIS = "ac_review_kpis"
REVIEW_NOTES = "ac_review_notes"

_DDL = {
    REVIEWS: ("seq BIGINT, review_id VARCHAR, period VARCHAR, period_start VARCHAR, period_end VARCHAR, "
              "version BIGINT, created_at VARCHAR, data_cutoff VARCHAR, previous_review_id VARCHAR, "
              "template VARCHAR, goals_source VARCHAR, goals_sha256 VARCHAR, afterclick_version VARCHAR, "
              "content_hash VARCHAR, prev_hash VARCHAR"),
    REVIEW_KPIS: ("review_id VARCHAR, position BIGINT, kpi_id VARCHAR, name VARCHAR, unit VARCHAR, "
                  "direction VARCHAR, status VARCHAR, reason VARCHAR, value DOUBLE, ci_low DOUBLE, "
                  "ci_high DOUBLE, kpi_period VARCHAR, definition_hash VARCHAR, goal VARCHAR, benchmark VARCHAR"),
    REVIEW_NOTES: "review_id VARCHAR, position BIGINT, kpi_id VARCHAR, text VARCHAR",
}
GENESIS = "0" * 64


class ReviewChanged(StoreError):
    """A stored review no longer matches the hash kept with it, or one is missing from the chain."""


class ReviewExists(StoreError):
    """A review with this id is already stored: reviews are never rewritten."""


def iso(moment: Any) -> str | None:
    """A moment as one fixed UTC text (the form stored and hashed)."""
    if moment is None or (not isinstance(moment, str) and pd.isna(moment)):
        return None
    t = pd.Timestamp(moment)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class KpiLine:
    """One KPI as a review reported it. ``goal`` and ``benchmark`` are JSON text (or None)."""

    kpi_id: str
    name: str
    unit: str
    direction: str
    status: str
    reason: str | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    kpi_period: str | None = None
    definition_hash: str | None = None
    goal: str | None = None
    benchmark: str | None = None

    @property
    def ci(self) -> tuple[float, float] | None:
        return None if self.ci_low is None or self.ci_high is None else (self.ci_low, self.ci_high)

    def goals(self) -> list[dict[str, Any]]:
        return json.loads(self.goal) if self.goal else []


@dataclass(frozen=True)
class NoteLine:
    """A note of the team: the decision or the context, tied to a KPI or to the whole review."""

    text: str
    kpi_id: str | None = None


@dataclass(frozen=True)
class StoredReview:
    review_id: str
    period: str
    period_start: str
    period_end: str
    version: int
    created_at: str
    data_cutoff: str | None
    kpis: tuple[KpiLine, ...]
    notes: tuple[NoteLine, ...] = ()
    previous_review_id: str | None = None
    template: str | None = None
    goals_source: str | None = None
    goals_sha256: str | None = None
    afterclick_version: str | None = None
    seq: int = 0
    content_hash: str = ""
    prev_hash: str = GENESIS

    def kpi(self, kpi_id: str) -> KpiLine | None:
        return next((k for k in self.kpis if k.kpi_id == kpi_id), None)

    @property
    def title(self) -> str:
        return f"the {self.period} review (version {self.version}, {self.created_at[:10]})"

    def digest(self) -> str:
        """The hash of everything this review says, chained to the review before it."""
        head = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("kpis", "notes", "content_hash", "seq")}
        body = {"head": head, "kpis": [asdict(k) for k in self.kpis], "notes": [asdict(n) for n in self.notes]}
        text = json.dumps(body, sort_keys=True, ensure_ascii=True, default=_plain, allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    raise TypeError(f"cannot hash {type(v).__name__}")


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else float(v)


def _txt(v: Any) -> str | None:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


class ReviewLog:
    """The reviews of one store: read (verified) and append. Open the ``Store`` for writing to save."""

    def __init__(self, store: Store):
        self.store = store

    # -- tables ------------------------------------------------------------------------------
    def _exists(self) -> bool:
        have = {r[0] for r in self.store.raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND database_name = current_database()").fetchall()}
        return REVIEWS in have

    def ensure(self) -> None:
        for name, cols in _DDL.items():
            self.store.raw.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')

    # -- reading -----------------------------------------------------------------------------
    def reviews(self) -> list[StoredReview]:
        """Every stored review, oldest first, each checked against its hash and the chain."""
        if not self.store.is_duckdb or not self._exists():
            return []
        raw = self.store.raw
        heads = raw.execute(f"SELECT * FROM {REVIEWS} ORDER BY seq").fetchdf()
        kpis = raw.execute(f"SELECT * FROM {REVIEW_KPIS} ORDER BY review_id, position").fetchdf()
        notes = raw.execute(f"SELECT * FROM {REVIEW_NOTES} ORDER BY review_id, position").fetchdf()
        by_kpi = {rid: g for rid, g in kpis.groupby("review_id", sort=False)}
        by_note = {rid: g for rid, g in notes.groupby("review_id", sort=False)}
        out: list[StoredReview] = []
        previous = GENESIS
        for n, h in enumerate(heads.itertuples(index=False), start=1):
            review = _review(h, by_kpi.get(h.review_id), by_note.get(h.review_id))
            where = f"review {review.period} version {review.version} in {self.store.location}"
            if review.seq != n or review.prev_hash != previous:
                raise ReviewChanged(f"{where} does not follow the review stored before it (a stored review "
                                    "was deleted or its order changed); stored reviews are never changed: "
                                    "restore the store from a copy")
            if review.digest() != review.content_hash:
                raise ReviewChanged(f"{where} was changed after it was stored (its rows no longer match the "
                                    "hash kept with them); stored reviews are never changed: run a new review "
                                    "of the period instead, or restore the store from a copy")
            previous = review.content_hash
            out.append(review)
        return out

    def latest(self, period: str) -> StoredReview | None:
        """The last version of the review of ``period`` (None if it was never reviewed)."""
        found = [r for r in self.reviews() if r.period == period]
        return found[-1] if found else None

    # -- writing -----------------------------------------------------------------------------
    def save(self, draft: StoredReview) -> StoredReview:
        """Append ``draft`` as the next version of its period; returns it as stored (id, version, hashes)."""
        if self.store.read_only:
            raise StoreError(f"{self.store.location} is open read-only: the review cannot be kept")
        self.ensure()
        before = self.reviews()
        if any(r.review_id == draft.review_id for r in before):
            raise ReviewExists(f"review {draft.review_id} is already stored in {self.store.location}; stored "
                               "reviews are never changed: run a new review of the period instead")
        version = 1 + max((r.version for r in before if r.period == draft.period), default=0)
        body = {**{f.name: getattr(draft, f.name) for f in fields(draft)}, "version": version,
                "seq": len(before) + 1, "prev_hash": before[-1].content_hash if before else GENESIS,
                "review_id": draft.review_id or uuid.uuid4().hex, "content_hash": ""}
        review = StoredReview(**body)
        review = StoredReview(**{**body, "review_id": review.review_id, "content_hash": review.digest()})
        self._insert(review)
        return review

    def _insert(self, r: StoredReview) -> None:
        raw = self.store.raw
        kpi_cols = [f.name for f in fields(KpiLine)]
        kpi_rows = [(r.review_id, i, *(getattr(k, c) for c in kpi_cols)) for i, k in enumerate(r.kpis)]
        note_rows = [(r.review_id, i, n.kpi_id, n.text) for i, n in enumerate(r.notes)]
        head_cols = [c.split(" ")[0] for c in _DDL[REVIEWS].split(", ")]
        head = tuple(getattr(r, c) for c in head_cols)
        # the rows first, then the header (the commit marker) in a transaction of its own
        _transaction(raw, [(f"INSERT INTO {REVIEW_KPIS} VALUES ({', '.join('?' * (len(kpi_cols) + 2))})", kpi_rows),
                           (f"INSERT INTO {REVIEW_NOTES} VALUES (?, ?, ?, ?)", note_rows)])
        _transaction(raw, [(f"INSERT INTO {REVIEWS} VALUES ({', '.join('?' * len(head_cols))})", [head])])


def _transaction(raw: duckdb.DuckDBPyConnection, statements: list[tuple[str, list[tuple]]]) -> None:
    raw.execute("BEGIN TRANSACTION")
    try:
        for sql, rows in statements:
            if rows:
                raw.executemany(sql, rows)
        raw.execute("COMMIT")
    except BaseException:
        try:
            raw.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def _review(h: Any, kpis: pd.DataFrame | None, notes: pd.DataFrame | None) -> StoredReview:
    lines = []
    for k in ([] if kpis is None else kpis.itertuples(index=False)):
        lines.append(KpiLine(kpi_id=k.kpi_id, name=k.name, unit=k.unit, direction=k.direction, status=k.status,
                             reason=_txt(k.reason), value=_num(k.value), ci_low=_num(k.ci_low),
                             ci_high=_num(k.ci_high), kpi_period=_txt(k.kpi_period),
                             definition_hash=_txt(k.definition_hash), goal=_txt(k.goal),
                             benchmark=_txt(k.benchmark)))
    said = tuple(NoteLine(text=str(n.text), kpi_id=_txt(n.kpi_id))
                 for n in ([] if notes is None else notes.itertuples(index=False)))
    return StoredReview(
        review_id=h.review_id, period=h.period, period_start=h.period_start, period_end=h.period_end,
        version=int(h.version), created_at=h.created_at, data_cutoff=_txt(h.data_cutoff), kpis=tuple(lines),
        notes=said, previous_review_id=_txt(h.previous_review_id), template=_txt(h.template),
        goals_source=_txt(h.goals_source), goals_sha256=_txt(h.goals_sha256),
        afterclick_version=_txt(h.afterclick_version), seq=int(h.seq), content_hash=h.content_hash,
        prev_hash=h.prev_hash)


def now_iso() -> str:
    return iso(datetime.now(UTC))
