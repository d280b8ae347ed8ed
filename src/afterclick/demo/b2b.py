"""The Larchwood B2B demo: a synthetic software vendor's leads, deals and subscriptions with
planted truths the B2B KPIs must recover (documented in ``docs/demo.md``).

Calendar: leads enter from 1 July 2024 to 30 September 2026; the data ends on 31 October 2026.
Every lead is a person (``customers``) of its own account, but one in ten has none; an account has
up to three more contacts, who visit once or twice in the four months after the lead arrives.

Planted truths:

1. **The webinar series converts slowly but more**: 45% of its leads reach an opportunity, most
   of them 4 to 12 months after the MQL (20% within 90 days), so it looks weak at 90 days and
   strongest at 365.
2. **The paid campaign fills the MQL count and rarely converts**: the most leads, 6% reaching an
   opportunity, within two months.
3. **Sales leave a third of MQLs untouched for a week**: two thirds are followed up within five
   days; of the rest half are touched after 8 to 40 days and half never. Those left waiting
   convert at **half the rate** (the opportunity decided before the follow-up, its odds halved).
4. **Rejected leads buy anyway**: sales reject a quarter of the touched leads that would not
   have converted; **20% of the rejected** come back and win a deal 100 to 300 days after the
   rejection (within the year), and 60% visit again after it.
5. **Awareness grows**: of the colleagues' visits not following a campaign click, the share arriving
   direct or by branded search rises from 15% to 45% over the data's span.

Colleagues click one of the three campaigns before 30% of their visits: the journeys the
influence models (``b2b.pipeline_influenced``) share each deal over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

BRAND_NAME = "Larchwood"
START = pd.Timestamp("2024-07-01", tz="UTC")
LAST_ENTRY = pd.Timestamp("2026-09-30", tz="UTC")
DATA_END = pd.Timestamp("2026-10-31 23:59:59", tz="UTC")
WEBINAR, PAID, EVENTS = "webinar-series", "paid-social", "trade-events"
#: campaign: (leads, opportunity odds, (low, high) days from MQL to opportunity, won share, mean deal)
CAMPAIGNS = {
    WEBINAR: (700, 0.45, None, 0.5, 14000.0),
    PAID: (1500, 0.06, (10, 60), 0.25, 6000.0),
    EVENTS: (500, 0.25, (15, 120), 0.35, 10000.0),
}
SPEND = {WEBINAR: 40000.0, PAID: 120000.0, EVENTS: 60000.0}
#: The channel each campaign reaches people through.
CHANNELS = {WEBINAR: "email", PAID: "paid-social", EVENTS: "events"}
#: Colleagues' visits: the share that follows a campaign click (a touch of one of the three
#: campaigns, chosen evenly), and the share of the others arriving direct or by branded search,
#: rising from the first to the last day of the data (awareness growing); the rest organic search.
CLICK_SHARE, DIRECT_BRANDED = 0.3, (0.15, 0.45)
FAST_SHARE, SLOW_ODDS = 2 / 3, 0.5
REJECT_SHARE, BUY_ANYWAY, VISIT_AGAIN = 0.25, 0.20, 0.60
REASONS = (("not ready to buy", 0.5), ("not a fit", 0.3), ("no budget", 0.2))


class _World:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        # the marketing side (channels, clicks) draws from its own stream: leads and deals stay
        # what they were before it existed
        self.web = np.random.default_rng(seed + 1)
        self.leads, self.deals, self.events, self.people, self.n_deals = [], [], [], [], 0

    def at(self, base: pd.Timestamp, days: float) -> pd.Timestamp:
        return base + pd.Timedelta(microseconds=round(days * 86400e6))

    def deal(self, account, person, created, campaign, won_share, mean, stage_days=(20, 90)):
        rng = self.rng
        self.n_deals += 1
        won = rng.random() < won_share
        closed = self.at(created, rng.uniform(*stage_days))
        if closed > DATA_END:
            won, closed = None, None
        self.deals.append({"deal_id": f"OPP{self.n_deals:05d}", "account_id": account, "created_at": created,
                           "stage": "closed" if closed is not None else "proposal",
                           "amount": float(np.round(rng.gamma(4.0, mean / 4.0), 2)), "closed_at": closed,
                           "outcome": None if won is None else ("won" if won else "lost"),
                           "lost_reason": "price" if won is False else None, "source_campaign_id": campaign,
                           "primary_contact_id": person})

    def lead(self, i: int, campaign: str) -> None:
        rng = self.rng
        _, odds, window, won_share, mean = CAMPAIGNS[campaign]
        person, account = f"P{i:05d}", (f"ACC{i:05d}" if rng.random() < 0.9 else None)
        self.people.append({"customer_id": person, "account_id": account})
        entered = self.at(START, rng.uniform(0, (LAST_ENTRY - START).days))
        row = {"lead_id": f"LEAD{i:05d}", "customer_id": person, "account_id": account, "campaign_id": campaign,
               "owner": rng.choice(["ana", "ben", "chloe"]), "reason": None}
        mql = self.at(entered, rng.uniform(0, 2))
        self.leads += [dict(row, ts=entered, status="inquiry"), dict(row, ts=mql, status="mql")]
        self.events += [{"customer_id": person, "ts": self.at(entered, -0.01), "event": "visit",
                         "channel": CHANNELS[campaign], "campaign_id": None},
                        {"customer_id": person, "ts": entered, "event": "lead", "channel": CHANNELS[campaign],
                         "campaign_id": campaign}]  # the form filled
        if account is not None:  # colleagues: up to three more contacts, each visiting once or twice
            for k in range(rng.integers(0, 4)):
                self.people.append({"customer_id": f"{person}-{k}", "account_id": account})
                for _ in range(rng.integers(1, 3)):
                    when = self.at(entered, rng.uniform(0, 120))
                    if when < DATA_END:
                        self.colleague_visit(f"{person}-{k}", when)
        fast = rng.random() < FAST_SHARE
        touch = rng.uniform(0.05, 5) if fast else (rng.uniform(8, 40) if rng.random() < 0.5 else None)
        converts = rng.random() < odds * (1 if fast else SLOW_ODDS)
        if converts:
            days = (rng.uniform(10, 90) if rng.random() < 0.2 else rng.uniform(120, 360)) if window is None \
                else rng.uniform(*window)
            if not fast:  # a deal is a touch: the waiting lead's comes after its first week
                days = max(days, rng.uniform(8.5, 12), (touch or 0) + 1)
            created = self.at(mql, days)
            if created < DATA_END:
                self.deal(account or f"SOLO{i:05d}", person, created, campaign, won_share, mean)
        if touch is None:
            return
        t = self.at(mql, touch)
        if not converts and rng.random() < REJECT_SHARE:
            reason = rng.choice([r for r, _ in REASONS], p=[w for _, w in REASONS])
            self.leads.append(dict(row, ts=t, status="rejected", reason=reason))
            self.after_rejection(i, person, account, t)
        else:
            self.leads.append(dict(row, ts=t, status="sal"))

    def colleague_visit(self, person: str, when: pd.Timestamp) -> None:
        web = self.web
        if web.random() < CLICK_SHARE:
            campaign = str(web.choice(list(CAMPAIGNS)))
            self.events.append({"customer_id": person, "ts": self.at(when, -0.001), "event": "click",
                                "channel": CHANNELS[campaign], "campaign_id": campaign})
            channel = CHANNELS[campaign]
        else:
            low, high = DIRECT_BRANDED
            progress = (when - START) / (DATA_END - START)
            if web.random() < low + (high - low) * progress:
                channel = "direct" if web.random() < 0.5 else "branded_search"
            else:
                channel = "organic_search"
        self.events.append({"customer_id": person, "ts": when, "event": "visit", "channel": channel,
                            "campaign_id": None})

    def after_rejection(self, i, person, account, rejected) -> None:
        rng = self.rng
        if rng.random() < VISIT_AGAIN:
            for _ in range(rng.integers(1, 4)):
                when = self.at(rejected, rng.uniform(1, 200))
                if when < DATA_END:
                    self.events.append({"customer_id": person, "ts": when, "event": "visit",
                                        "channel": "direct", "campaign_id": None})
        if rng.random() < BUY_ANYWAY:
            created = self.at(rejected, rng.uniform(100, 300))
            if created < DATA_END:
                self.deal(account or f"SOLO{i:05d}", person, created, None, 1.0, 9000.0, stage_days=(10, 60))


def subscriptions(deals: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Won deals pay monthly (a twelfth of the amount) from the month after they close: each month
    2% cancel, 3% grow by a fifth, 1% shrink by a fifth."""
    rows = []
    last = DATA_END.tz_localize(None).to_period("M")
    for d in deals[deals.outcome == "won"].itertuples():
        month, mrr = d.closed_at.tz_localize(None).to_period("M") + 1, round(d.amount / 12, 2)
        while month <= last:
            rows.append({"account_id": d.account_id, "month": month.to_timestamp().tz_localize("UTC"), "mrr": mrr,
                         "plan": "team"})
            u = rng.random()
            if u < 0.02:
                break
            mrr = round(mrr * (1.2 if u < 0.05 else 0.8 if u < 0.06 else 1.0), 2)
            month += 1
    return pd.DataFrame(rows)


def generate_b2b(seed: int = 7) -> dict[str, pd.DataFrame]:
    """The demo's tables: accounts, customers, lead_status, deals, deal_stages, subscriptions,
    events and campaigns, as pandas DataFrames (the same seed gives the same data)."""
    w = _World(seed)
    order = [c for c, (n, *_) in CAMPAIGNS.items() for _ in range(n)]
    for i, campaign in enumerate(w.rng.permutation(order)):
        w.lead(i, str(campaign))
    deals = pd.DataFrame(w.deals)
    people = pd.DataFrame(w.people)
    accounts = sorted(set(people.account_id.dropna()) | set(deals.account_id))
    bands = w.rng.choice(["1-49", "50-249", "250-999", "1000+"], len(accounts), p=[0.4, 0.3, 0.2, 0.1])
    return {
        "accounts": pd.DataFrame({"account_id": accounts, "name": [f"Company {a[-5:]}" for a in accounts],
                                  "industry": "manufacturing", "size_band": bands, "owner": "ana"}),
        "customers": people,
        "lead_status": pd.DataFrame(w.leads),
        "deals": deals,
        "deal_stages": deals.assign(stage="created", ts=deals.created_at)[["deal_id", "stage", "ts"]],
        "subscriptions": subscriptions(deals, w.rng),
        "events": pd.DataFrame(w.events),
        "campaigns": pd.DataFrame({"campaign_id": list(SPEND), "name": list(SPEND),
                                   "channel": [CHANNELS[c] for c in SPEND],
                                   "objective": "conversion", "spend": list(SPEND.values())}),
    }


def write_b2b_demo(folder: str | Path, seed: int = 7) -> dict[str, Path]:
    """Generate the B2B demo and write one Parquet file per table into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in generate_b2b(seed).items():
        paths[name] = folder / f"{name}.parquet"
        df.to_parquet(paths[name], index=False)
    return paths
