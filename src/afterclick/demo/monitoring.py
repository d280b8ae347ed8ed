"""The demo brand's monitoring truths, planted on the simulated tables (docs/demo.md §11).

They are applied after the simulation, with a random stream of their own, so every other planted
truth keeps its numbers draw for draw:

1. **Site outage** (:data:`OUTAGE`, one Monday week): the shop is down; 95 % of the on-site
   events (page views and what people do on pages) in that week are lost, except the pages of
   buying sessions (orders went through the app), while ads keep being shown and clicked: visits
   collapse and the share of clicks that lead nowhere jumps.
2. **Campaign change** (:data:`CAMPAIGN_CHANGE`): the new acquisition campaign drops the welcome
   e-mails, and newcomers stop coming back in their first weeks: of the people whose first
   activity is on or after that day, :data:`LOST_SHARE` show no activity from day 7 to day 35 after
   it (:data:`QUIET_FROM`, :data:`QUIET_UNTIL`; their orders stay, and those who stay customers
   come back later, so 90-day retention and the campaign truths keep their numbers). The week-4
   return of each first-touch cohort (``retention.cohort_weekly``'s series, the "30-day return")
   shifts down from that week's cohort on.
3. **December CSAT dip**: a steady flow of CSAT answers after orders (:data:`CSAT_PER_ORDER` of
   orders get a survey) with 88 % satisfied, 35 % in every December (delivery delays).
4. Everything else (NPS, message sentiment, average order value, pages per session…) has no
   planted change.

:data:`ANNOTATIONS` are the dated notes a team would have written for 1 and 2 (the December dip
is seasonal, so it carries none); :func:`write_annotations` writes them as a TOML notes file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUTAGE = (pd.Timestamp("2026-02-09", tz="UTC"), pd.Timestamp("2026-02-16", tz="UTC"))
OUTAGE_LOSS = 0.95
#: Pages in the half hour before an order stay (the buying session), in both plants.
BUYING = pd.Timedelta(minutes=30)
#: Events that happen on the site (lost in the outage); impressions, clicks and social actions are not.
ON_SITE = ("visit", "save", "download", "signup", "subscribe", "lead", "referral", "review_read", "tutorial_view")

CAMPAIGN_CHANGE = pd.Timestamp("2026-05-04", tz="UTC")
LOST_SHARE = 0.85
QUIET_FROM, QUIET_UNTIL = pd.Timedelta(days=7), pd.Timedelta(days=35)

CSAT_PER_ORDER = 0.6
CSAT_SATISFIED = 0.88
CSAT_SATISFIED_DECEMBER = 0.35

ANNOTATIONS = (
    {"date": OUTAGE[0].date().isoformat(), "text": "site outage: the shop was down for a week"},
    {"date": CAMPAIGN_CHANGE.date().isoformat(), "text": "acquisition campaign changed"},
)

_SEED_OFFSET = 15_015  # the monitoring truths' own random stream


def _buying(events: pd.DataFrame, candidates: np.ndarray, orders: pd.DataFrame) -> np.ndarray:
    """Which candidate events lie in the half hour before an order of the same person (a buyer is
    on the site when buying: those pages stay)."""
    rows = events.loc[candidates, ["customer_id", "ts"]].reset_index().sort_values("ts")
    ahead = orders[["customer_id", "ts"]].rename(columns={"ts": "order_ts"}).sort_values("order_ts")
    near = pd.merge_asof(rows, ahead, left_on="ts", right_on="order_ts", by="customer_id",
                         direction="forward", tolerance=BUYING)
    out = np.zeros(len(events), dtype=bool)
    out[near.loc[near["order_ts"].notna(), "index"].to_numpy()] = True
    return out


def _outage(events: pd.DataFrame, orders: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    ts = events["ts"]
    hit = ((ts >= OUTAGE[0]) & (ts < OUTAGE[1])).to_numpy() & events["event"].isin(ON_SITE).to_numpy()
    lost = hit & (rng.random(len(events)) < OUTAGE_LOSS)
    lost &= ~_buying(events, lost, orders)
    return events[~lost]


def _campaign_change(tables: dict[str, pd.DataFrame], rng: np.random.Generator) -> None:
    events = tables["events"]
    active = events[events["event"] != "impression"]
    first = active.groupby("customer_id", observed=True)["ts"].min()
    late = first[first >= CAMPAIGN_CHANGE]
    lost = late[rng.random(len(late)) < LOST_SHARE]
    since = events["customer_id"].map(lost)
    age = (events["ts"] - since).to_numpy()
    quiet = since.notna().to_numpy() & (age >= QUIET_FROM.to_timedelta64()) & (age < QUIET_UNTIL.to_timedelta64())
    quiet &= (events["event"] != "impression").to_numpy()
    quiet &= ~_buying(events, quiet, tables["transactions"])
    tables["events"] = events[~quiet].reset_index(drop=True)


def _csat(tables: dict[str, pd.DataFrame], rng: np.random.Generator) -> None:
    orders = tables["transactions"]
    asked = orders[rng.random(len(orders)) < CSAT_PER_ORDER]
    when = asked["ts"] + pd.to_timedelta(1 + 4 * rng.random(len(asked)), unit="D")
    keep = (when < orders["ts"].max()).to_numpy()
    asked, when = asked[keep], when[keep]
    december = (when.dt.month == 12).to_numpy()
    p = np.where(december, CSAT_SATISFIED_DECEMBER, CSAT_SATISFIED)
    satisfied = rng.random(len(asked)) < p
    score = np.where(satisfied, rng.choice([4.0, 5.0], len(asked), p=[0.4, 0.6]),
                     rng.choice([1.0, 2.0, 3.0], len(asked), p=[0.2, 0.3, 0.5]))
    responses = tables["responses"]
    extra = pd.DataFrame({
        "response_id": [f"RC{i:07d}" for i in range(len(asked))],
        "customer_id": asked["customer_id"].to_numpy(),
        "ts": when.to_numpy(),
        "survey": "csat",
        "score": score,
        "comment": None,
        "touchpoint": "post_purchase",
    })
    for col in responses.columns:
        if col not in extra.columns:
            extra[col] = None
    extra = extra[list(responses.columns)].astype(responses.dtypes.to_dict(), errors="ignore")
    tables["responses"] = pd.concat([responses, extra], ignore_index=True).sort_values("ts", kind="stable")


def plant(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """The simulated tables with the monitoring truths planted (a new dict; frames replaced)."""
    rng = np.random.default_rng([seed, _SEED_OFFSET])
    out = dict(tables)
    out["events"] = _outage(out["events"].reset_index(drop=True), out["transactions"], rng).reset_index(drop=True)
    _campaign_change(out, rng)
    _csat(out, rng)
    out["responses"] = out["responses"].reset_index(drop=True)
    return out


def write_annotations(path: str | Path) -> Path:
    """Write :data:`ANNOTATIONS` as a TOML notes file (``[[note]]`` tables) and return its path."""
    path = Path(path)
    lines = ["# Dated notes for the demo brand's KPI monitoring (afterclick alerts, the report)"]
    for note in ANNOTATIONS:
        lines += ["", "[[note]]", f'date = {note["date"]}', f'text = "{note["text"]}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
