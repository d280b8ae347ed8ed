"""Planted experiments of the Mossbrook demo brand: the ``experiments`` and ``assignments`` tables.

The brand's behaviour is simulated first (``afterclick.demo.generator``); the experiments are
then planted by *how customers are assigned*, given what they went on to do, so every truth is
real in the data the analysis reads (no event is added or changed):

* ``welcome-subject`` — the welcome e-mail's subject line, assigned at each customer's first
  click (Aug 2025 - Jun 2026). Customers are paired by first-click time; in a pair, B goes with
  probability ``LEAN`` to the one who clicked more afterwards and came back less within 30 days.
  Truth: B **wins clicks and CTR and loses 30-day return**.
* ``onboarding-series`` — an onboarding e-mail series after the first purchase (Jul 2025 - Jun
  2026), assigned at that purchase. Buyers are paired on what they did before it (active in the
  30 days before, clicks in the 90 days before, then purchase time), so the arms stay alike
  before assignment; in a pair, B goes with probability ``LEAN`` to the one who came back within
  90 days and, on a tie, spent more afterwards. Truth: B **lifts 90-day return and CLV**.
* ``homepage-aa`` — an A/A test: two identical home pages, a fair coin per customer at the first
  click (Jun 2025 - Jun 2026). Truth: **nothing significant after the Holm correction**.
* ``banner-split`` — a banner test planned 50/50 over everyone the brand reached (impressions
  included), assigned on a random moment of 1-14 May 2026; the assignment code sent 48 % to B.
  Truth: a **sample-ratio mismatch** (52/48 against a planned 50/50).

Everything is drawn from one generator seeded from the simulation's, so a seed gives the same
tables every time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

#: In a pair, the probability that B goes to the customer the planted truth favours.
LEAN = 0.85
#: Share of the banner test's customers the broken assignment sends to B (planned: 0.5).
BROKEN_B_SHARE = 0.48
DAY = pd.Timedelta(days=1)
#: a return is a new session: more than 30 minutes after assignment (in days)
GAP = 1 / 48

EXPERIMENTS = (
    ("welcome-subject", "Welcome e-mail subject line",
     "A discount teaser in the subject (B) gets more people to click than the story subject (A)",
     "2025-08-01", "2026-07-01", "return_30d", "ctr, clicks, csat"),
    ("onboarding-series", "Onboarding series after the first order",
     "Five care e-mails after the first order (B) bring buyers back and raise their value",
     "2025-07-01", "2026-07-01", "return_90d", "clv, revenue_90d, nps"),
    ("homepage-aa", "Home page A/A test",
     "Two identical home pages: nothing should differ (a check of the experiment pipeline)",
     "2025-06-01", "2026-07-01", "return_30d", "ctr"),
    ("banner-split", "Spring banner (planned 50/50)",
     "A spring banner (B) against none (A), shown to everyone the brand reaches",
     "2026-05-01", "2026-05-15", "return_30d", "ctr"),
)


def _first(ev: pd.DataFrame, event: str) -> pd.Series:
    rows = ev[ev["event"] == event]
    return rows.groupby("customer_id", sort=True)["ts"].min()


def _window(ts: pd.Series, start: str, end: str) -> pd.Series:
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    return ts[(ts >= lo) & (ts < hi)]


def _deltas(facts: pd.DataFrame, assigned: pd.Series) -> pd.DataFrame:
    """The rows of ``facts`` of assigned customers, with d = days since their assignment."""
    rows = facts[facts["customer_id"].isin(assigned.index)]
    at = rows["customer_id"].map(assigned)
    return rows.assign(d=(rows["ts"] - at) / DAY)


def _per(assigned: pd.Series, rows: pd.DataFrame, value: pd.Series | None = None) -> np.ndarray:
    """Per assigned customer (in ``assigned`` order): the count (or sum of ``value``) of ``rows``."""
    grouped = (rows.groupby("customer_id").size() if value is None
               else value.groupby(rows["customer_id"]).sum())
    return assigned.index.map(grouped).fillna(0).to_numpy(dtype=float)


def _paired(rng: np.random.Generator, order: np.ndarray,
            prefer: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """B or not per unit: neighbours in ``order`` form pairs; ``prefer(i, j)`` > 0 says the
    truth favours i for B (< 0: j, 0: a fair coin); B follows the truth with probability LEAN."""
    b = rng.random(order.size) < 0.5  # the odd one out, if any
    m = order.size // 2 * 2
    i, j = order[:m:2], order[1:m:2]
    p = np.sign(prefer(i, j))
    lean = rng.random(i.size) < LEAN
    coin = rng.random(i.size) < 0.5
    i_b = np.where(p > 0, lean, np.where(p < 0, ~lean, coin))
    b[i], b[j] = i_b, ~i_b
    return b


def _subject(rng, ev: pd.DataFrame, first_click: pd.Series) -> tuple[pd.Series, np.ndarray]:
    at = _window(first_click, "2025-08-01", "2026-07-01")
    d = _deltas(ev, at)
    clicks = _per(at, d[(d["event"] == "click") & (d["d"] >= 0)])
    back = _per(at, d[(d["event"] != "impression") & (d["d"] > GAP) & (d["d"] <= 30)]) > 0
    order = np.argsort(at.to_numpy(), kind="stable")
    b = _paired(rng, order, lambda i, j: np.sign(clicks[i] - clicks[j])
                - np.sign(back[i].astype(int) - back[j].astype(int)))
    return at, b


def _onboarding(rng, ev: pd.DataFrame, tx: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    at = _window(tx[tx["amount"] > 0].groupby("customer_id", sort=True)["ts"].min(),
                 "2025-07-01", "2026-07-01")
    d = _deltas(ev, at)
    active = d["event"] != "impression"
    pre30 = _per(at, d[active & (d["d"] < 0) & (d["d"] >= -30)]) > 0
    pre_clicks = _per(at, d[(d["event"] == "click") & (d["d"] < 0) & (d["d"] >= -90)])
    back = (_per(at, d[active & (d["d"] > GAP) & (d["d"] <= 90)]) > 0).astype(int)
    t = _deltas(tx, at)
    later = t[t["d"] > 0]
    spend = _per(at, later, later["amount"])
    order = np.lexsort((at.to_numpy(), pre_clicks, pre30))
    b = _paired(rng, order, lambda i, j: np.where(back[i] != back[j], back[i] - back[j],
                                                  np.sign(spend[i] - spend[j])))
    return at, b


def _rows(eid: str, at: pd.Series, b: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"experiment_id": eid, "customer_id": at.index.to_numpy(),
                         "variant": np.where(b, "B", "A"), "ts": at.to_numpy()})


def experiment_tables(events: pd.DataFrame, transactions: pa.Table,
                      rng: np.random.Generator) -> dict[str, pa.Table]:
    """The ``experiments`` and ``assignments`` tables planted on the simulated brand."""
    r = np.random.default_rng(int(rng.integers(2**32)))
    ev = events[["customer_id", "ts", "event"]]
    tx = transactions.select(["customer_id", "ts", "amount"]).to_pandas()
    first_click = _first(ev, "click")
    parts = [_rows("welcome-subject", *_subject(r, ev, first_click)),
             _rows("onboarding-series", *_onboarding(r, ev, tx))]
    aa = _window(first_click, "2025-06-01", "2026-07-01")
    parts.append(_rows("homepage-aa", aa, r.random(aa.size) < 0.5))
    everyone = np.sort(ev["customer_id"].unique())
    when = pd.Timestamp("2026-05-01", tz="UTC") + pd.to_timedelta(
        np.floor(r.random(everyone.size) * 14 * 86_400), unit="s")
    reached = pd.Series(when, index=everyone)
    parts.append(_rows("banner-split", reached, r.random(everyone.size) < BROKEN_B_SHARE))
    assignments = pd.concat(parts, ignore_index=True)
    assignments["ts"] = assignments["ts"].astype("datetime64[us, UTC]")
    design = pd.DataFrame(EXPERIMENTS, columns=["experiment_id", "name", "hypothesis", "start",
                                                "end", "primary_metric", "guardrail_metrics"])
    for col in ("start", "end"):
        design[col] = pd.to_datetime(design[col], utc=True).astype("datetime64[us, UTC]")
    design["control_variant"], design["planned_split"] = "A", "A:50, B:50"
    return {"experiments": pa.Table.from_pandas(design, preserve_index=False),
            "assignments": pa.Table.from_pandas(assignments, preserve_index=False)}
