"""Straightforward pandas versions of some afterclick KPIs: the baseline the engine is timed
against, written the way an analyst would in a notebook. The benchmark also checks that they
agree with the engine, a second, independent implementation of the same definitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXPOSURE = {"impression"}
DEEP = {"save", "share", "download", "signup", "subscribe", "lead", "referral", "review_read",
        "tutorial_view"}


def _active(ev: pd.DataFrame) -> pd.DataFrame:
    return ev[~ev["event"].isin(EXPOSURE)]


def ctr(ev: pd.DataFrame) -> float:
    counts = ev["event"].value_counts()
    return counts.get("click", 0) / counts.get("impression", 0)


def repeat_visit_rate(ev: pd.DataFrame) -> float:
    v = ev[ev["event"] == "visit"]
    days = v.assign(day=v["ts"].dt.floor("D")).groupby("customer_id")["day"].nunique()
    return float((days >= 2).mean())


def _weeks(ts: pd.Series) -> pd.Series:
    day = ts.dt.floor("D")
    return day - pd.to_timedelta(day.dt.weekday, unit="D")


def _review_end(ev: pd.DataFrame) -> pd.Timestamp:
    """Midnight after the latest event's day: the data covers whole days, so a week or month
    is complete when it ends by then."""
    return ev["ts"].max().floor("D") + pd.Timedelta(days=1)


def cohort_weekly(ev: pd.DataFrame, k: int = 4) -> float:
    """Week-k "on" retention pooled over the cohorts that reached week k."""
    a = _active(ev)
    cw = pd.DataFrame({"customer_id": a["customer_id"], "week": _weeks(a["ts"])}).drop_duplicates()
    cw["cohort"] = cw.groupby("customer_id")["week"].transform("min")
    cw["k"] = (cw["week"] - cw["cohort"]).dt.days // 7
    sizes = cw[cw["k"] == 0].groupby("cohort").size()
    end_week = _weeks(pd.Series([_review_end(ev)]))[0]
    last_complete = end_week - pd.Timedelta(weeks=1)  # the week the review ends in is partial
    reached = sizes[sizes.index + pd.Timedelta(weeks=k) <= last_complete]
    active_k = cw[(cw["k"] == k) & cw["cohort"].isin(reached.index)].groupby("cohort").size()
    return active_k.sum() / reached.sum()


def lifecycle_quick_ratio(ev: pd.DataFrame) -> float:
    """Quick ratio of the last complete week."""
    a = _active(ev)
    cw = pd.DataFrame({"customer_id": a["customer_id"], "week": _weeks(a["ts"])}).drop_duplicates()
    end_week = _weeks(pd.Series([_review_end(ev)]))[0]
    week = end_week - pd.Timedelta(weeks=1)
    prev = week - pd.Timedelta(weeks=1)
    first = cw.groupby("customer_id")["week"].min()
    now = set(cw.loc[cw["week"] == week, "customer_id"])
    before = set(cw.loc[cw["week"] == prev, "customer_id"])
    new = sum(1 for c in now if first[c] == week)
    resurrecting = sum(1 for c in now - before if first[c] != week)
    dormant = len(before - now)
    return (new + resurrecting) / dormant


def stickiness(ev: pd.DataFrame) -> float:
    """DAU/MAU of the last complete month."""
    a = _active(ev)
    month = (_review_end(ev).tz_localize(None).to_period("M") - 1).to_timestamp().tz_localize("UTC")
    m = a[(a["ts"] >= month) & (a["ts"] < month + pd.offsets.MonthBegin(1))]
    days = m["ts"].dt.floor("D")
    dau = m.assign(day=days).drop_duplicates(["customer_id", "day"]).shape[0] / days.nunique()
    return dau / m["customer_id"].nunique()


def session_duration_median(ev: pd.DataFrame, gap_minutes: int = 30) -> float:
    a = _active(ev).sort_values(["customer_id", "ts", "event"], kind="stable")
    gap = a.groupby("customer_id")["ts"].diff().dt.total_seconds()
    new = (gap.isna() | (gap > gap_minutes * 60)).astype(int)
    gap_session = new.groupby(a["customer_id"]).cumsum()
    session = np.where(a["session_id"].isna(), "gap:" + gap_session.astype(str), "id:" + a["session_id"].astype(str))
    g = a.assign(session=session).groupby(["customer_id", "session"])
    s = g.agg(start=("ts", "min"), end=("ts", "max"), measured=("duration_s", "sum"),
              n_measured=("duration_s", "count"))
    span = (s["end"] - s["start"]).dt.total_seconds()
    return float(np.median(np.where(s["n_measured"] > 0, s["measured"], span)))


def clicks_to_nowhere_rate(ev: pd.DataFrame, minutes: int = 30) -> float:
    a = _active(ev)
    a = a.assign(click_first=(a["event"] != "click").astype(int))
    a = a.sort_values(["customer_id", "ts", "click_first", "event"], kind="stable")
    nxt = a.groupby("customer_id")["ts"].shift(-1)
    # clicks in the last 30 minutes of the data have not had their chance yet
    clicks = (a["event"] == "click") & (a["ts"] <= ev["ts"].max() - pd.Timedelta(minutes=minutes))
    gap = (nxt - a["ts"]).dt.total_seconds()
    nowhere = nxt.isna() | (gap > minutes * 60)
    return float(nowhere[clicks].mean())


def campaign_retention_90d(ev: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """90-day retention per acquisition campaign (customers.acquisition_campaign_id)."""
    a = _active(ev)
    span = a.groupby("customer_id")["ts"].agg(["min", "max"])
    end = ev["ts"].max()
    span = span.join(customers.set_index("customer_id")["acquisition_campaign_id"], how="inner")
    span = span[span["acquisition_campaign_id"].notna()]
    horizon = pd.Timedelta(days=90)
    eligible = span[end - span["min"] >= horizon]
    retained = (eligible["max"] - eligible["min"]) >= horizon
    return retained.groupby(eligible["acquisition_campaign_id"]).mean().sort_index()


#: KPI id -> (function, the tables it needs)
BASELINES = {
    "reach.ctr": (ctr, ("events",)),
    "retention.repeat_visit_rate": (repeat_visit_rate, ("events",)),
    "retention.cohort_weekly": (cohort_weekly, ("events",)),
    "retention.lifecycle": (lifecycle_quick_ratio, ("events",)),
    "retention.stickiness": (stickiness, ("events",)),
    "trust.session_duration_median": (session_duration_median, ("events",)),
    "journey.clicks_to_nowhere_rate": (clicks_to_nowhere_rate, ("events",)),
    "campaigns.clicks_vs_commitment": (campaign_retention_90d, ("events", "customers")),
}
