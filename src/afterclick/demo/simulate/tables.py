"""The simulation turned into canonical tables: events, transactions, customers, content, campaigns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _DAY_US,
    _EV,
    _N_DAYS,
    _PUBLISH_HOUR,
    _START_US,
    CHANNELS,
    EVENTS,
    _fixed_ids,
    _fixed_strings,
    _str_ids,
    _take,
    _ts,
)
from afterclick.schemas import TABLES


class Tables:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""


    def _events_frame(self) -> pd.DataFrame:
        """The events as a DataFrame, column by column to keep the peak memory low.

        Rows are ordered by hour (a radix sort on the hour index; within an hour the order is
        arbitrary): a full timestamp sort of ten million rows costs several seconds for nothing.
        """
        cols = self.ev.concat()
        t = cols.pop("t")
        keep = (t >= 0) & (t < _N_DAYS)
        if not keep.all():
            t = t[keep]
            for k in cols:
                cols[k] = cols[k][keep]
        del keep
        hours = (t * 24).astype(np.uint16)
        order = np.argsort(hours, kind="stable")
        del hours
        t = t[order]
        np.multiply(t, _DAY_US, out=t)
        np.floor(t, out=t)
        us = t.astype(np.int64)
        del t
        us += _START_US
        out: dict[str, pd.Series] = {}
        out["ts"] = pd.Series(us.view("datetime64[us]")).dt.tz_localize("UTC")
        del us

        def column(name: str) -> np.ndarray:
            return cols.pop(name)[order]

        ev = column("ev")
        seen = np.zeros(self.n + self.n_audience, dtype=bool)
        cust = column("cust")
        seen[cust[ev != _EV["impression"]]] = True
        self.event_people = np.flatnonzero(seen)
        del seen
        makers = {
            "customer_id": lambda: _fixed_strings(self.person_bytes, cust),
            "event": lambda: _take(pa.array(EVENTS), ev),
            "channel": lambda: _take(pa.array(CHANNELS), column("ch")),
            "campaign_id": lambda: _take(pa.array(self.camp_ids), column("camp")),
            "content_id": lambda: _take(self.content_dict, column("content")),
            "session_id": lambda: _fixed_strings(_fixed_ids("S", np.arange(self.S) + 1, 9), column("sess")),
            "duration_s": lambda: column("dur").astype(np.float64),
            "value": lambda: column("val").astype(np.float64),
        }

        for name, make in makers.items():
            x = make()
            out[name] = pd.Series(x.to_pandas() if isinstance(x, pa.Array) else x, copy=False)
            del x
            if name == "customer_id":
                del cust
            elif name == "event":
                del ev
        del order
        return pd.DataFrame({c: out.pop(c) for c in TABLES["events"].columns}, copy=False)

    def _transactions_table(self) -> pa.Table:
        order = np.argsort(self.o_ts, kind="stable")
        camp = np.where(self.o_first, self.acq[self.o_cust], -1)
        camp = np.where(camp >= self.K, -1, camp)
        return pa.table({
            "order_id": _str_ids("O", np.arange(order.size) + 1, 8),
            "customer_id": _take(self.person_ids, self.o_cust[order]),
            "ts": _ts(self.o_ts[order]),
            "amount": pa.array(self.o_amount[order], type=pa.float64()),
            "campaign_id": _take(pa.array(self.camp_ids, type=pa.string()), camp[order]),
        })

    def _customers_table(self) -> pa.Table:
        rng = self.rng
        # everyone who did more than see an impression
        people = np.union1d(np.union1d(np.arange(self.n), self.event_people), self.msg_people)
        people = people[people >= 0]
        clicker = people < self.n
        m = people.size
        seg_p = np.array([0.38, 0.2, 0.16, 0.16, 0.1])
        seg = rng.choice(len(B.SEGMENTS), size=m, p=seg_p)
        a = np.where(clicker, self.acq[np.minimum(people, self.n - 1)], -1)
        bait = a == self.camp_index[B.CLICK_BAIT_CAMPAIGN]
        seg[bait & (rng.random(m) < 0.6)] = B.SEGMENTS.index("deal_seeker")
        learners = clicker & self.learner[np.minimum(people, self.n - 1)]
        seg[learners & (rng.random(m) < 0.4)] = B.SEGMENTS.index("collector")
        seg_names = np.array(B.SEGMENTS + (B.SOCIAL_ONLY_SEGMENT,), dtype=object)
        seg = np.where(clicker, seg, len(B.SEGMENTS))
        reg = rng.choice(len(B.REGIONS), size=m, p=np.array(B.REGION_WEIGHTS) / sum(B.REGION_WEIGHTS))
        plan = np.zeros(m, dtype=np.int64)
        pc_ = np.minimum(people, self.n - 1)
        # Care Club members: frequent buyers still alive (BG/NBD) at the end
        club = (clicker & np.isfinite(self.t1[pc_]) & (self.lam[pc_] > 0.006)
                & ~np.isfinite(self.death[pc_]))
        u = rng.random(m)
        plan[club & (u < 0.55)] = 1
        plan[club & (u >= 0.55) & (u < 0.8)] = 2
        acq = np.where(a >= self.K, -1, a)
        return pa.table({
            "customer_id": _take(self.person_ids, people),
            "segment": pa.array(seg_names[seg], type=pa.string()),
            "acquisition_campaign_id": _take(pa.array(self.camp_ids, type=pa.string()), acq),
            "region": _take(pa.array(B.REGIONS), reg),
            "plan": _take(pa.array(B.PLANS), plan),
        })

    def _content_table(self) -> pa.Table:
        C = B.CONTENT
        return pa.table({
            "content_id": pa.array([c.content_id for c in C]),
            "kind": pa.array([c.kind for c in C]),
            "title": pa.array([c.title for c in C]),
            "published_at": pa.array([pd.Timestamp(c.published, tz="UTC") + pd.Timedelta(hours=_PUBLISH_HOUR)
                                      for c in C],
                                     type=pa.timestamp("us", tz="UTC")),
            "campaign_id": pa.array([c.campaign_id for c in C], type=pa.string()),
            "topic": pa.array([c.topic for c in C]),
            "goal": pa.array([CONTENT_GOALS.get(c.kind) for c in C], type=pa.string()),
        })

    def _campaigns_table(self) -> pa.Table:
        C = B.CAMPAIGNS
        return pa.table({
            "campaign_id": pa.array([c.campaign_id for c in C]),
            "name": pa.array([c.name for c in C]),
            "channel": pa.array([c.channel for c in C]),
            "objective": pa.array([c.objective for c in C]),
            "start": pa.array([pd.Timestamp(c.start, tz="UTC") for c in C], type=pa.timestamp("us", tz="UTC")),
            "end": pa.array([pd.Timestamp(c.end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
                             for c in C], type=pa.timestamp("us", tz="UTC")),
            "spend": pa.array([round(c.spend * self.scale, 2) for c in C], type=pa.float64()),
        })


#: The behaviour each kind of demo content is meant to cause (its ``goal``); product pages declare
#: none (their job is a sale). Posts and videos aim for shares, which the viral meme hardly gets.
CONTENT_GOALS = {
    "guide": "download", "tutorial": "tutorial_view", "article": "save", "comparison": "save",
    "newsletter": "share", "podcast": "share", "webinar": "lead", "post": "share", "video": "share",
}
