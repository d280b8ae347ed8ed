"""Vectorised simulation of the Mossbrook demo brand: all seven canonical tables.

The simulation works on people, sessions and visits as NumPy arrays (no Python loop per event;
loops run over campaigns, content items, event kinds or text templates only), and turns the
integer codes into strings through Arrow at the very end. See ``docs/demo.md`` for the story,
the parameters and every planted truth.

Outline
-------
1. *Clickers* (people who clicked at least once) get an acquisition campaign and first-click time
   ``t0``, a latent engagement propensity ``e`` (log-normal), a "learner" flag, an interest lifetime
   ``D ~ Exponential`` and a session rate while interested.
2. *Purchases* follow BG/NBD: after a first order (trial), repeat purchases arrive at rate
   ``lambda ~ Gamma(r, alpha)``; after each repeat purchase the customer dies with probability
   ``p ~ Beta(a, b)``; order values follow Gamma-Gamma.
3. *Sessions*: the acquisition session, return sessions while interested (and rarely after), one
   session per order, and an early tutorial session for learners. Each session holds page views
   (``visit``) a minute or so apart and the deep events done on those pages.
4. *Social* likes, saves, shares and follows, with the people doing them drawn from the clickers
   still interested at that moment or from the wider audience (who then become customers too).
5. *Impressions*: one before every click and every social interaction, then topped up per campaign
   so that clicks / impressions hits the campaign's click-through rate.
6. *Messages* and *survey responses* with texts assembled from the catalogue in :mod:`brand`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from afterclick.demo import brand as B
from afterclick.demo.experiments import experiment_tables
from afterclick.schemas import EVENT_VOCABULARY, TABLES

#: The tables the demo brand (a B2C shop with a community) writes, its four planted experiments
#: included; it has no B2B side (``afterclick.demo.b2b`` is the B2B brand).
BRAND_TABLES = ("events", "transactions", "messages", "responses", "content", "campaigns", "customers",
                "experiments", "assignments")  # planted by afterclick.demo.experiments

#: Number of clicking customers per size. Events: small ~0.2M, medium ~1M, large ~10M.
SIZES: dict[str, int] = {"small": 2_200, "medium": 11_000, "large": 105_000}

EARLY_SIGNAL_EVENT = "tutorial_view"
EARLY_SIGNAL_DAYS = 14

#: BG/NBD parameters: CDNOW estimates (Fader, Hardie & Lee 2005, in weeks) with alpha in days.
BGNBD = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}
#: Gamma-Gamma spend parameters: CDNOW estimates with the scale raised 30% (mean order ~GBP 46).
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44 * 1.3}
#: Learners buy more often, drop out less and stay interested far longer.
LEARNER_EFFECT = {"interest": 5.0, "rate": 2.0, "dropout": 0.6, "conversion": 1.5, "sessions": 1.25}
#: Sessions per day while interested, for e = 1.
SESSION_RATE = 1 / 8
#: Sessions per day after interest ended (or after a BG/NBD death), for e = 1.
RESIDUAL_RATE = 0.0006
#: Share of return sessions that start with a click on a running campaign.
RETURN_CLICK_SHARE = 0.12
#: People in the wider audience (impressions only, unless they like or follow), per clicker.
AUDIENCE_PER_CLICKER = 10
#: Of whom this many per clicker are social fans who like posts again and again.
FANS_PER_CLICKER = 0.4
#: Share of audience likes, saves and shares that come from those fans.
FAN_SHARE = 0.85
#: Referrals only happen this many days after the first order.
REFERRAL_AFTER_DAYS = 21

EVENTS = tuple(EVENT_VOCABULARY)
_EV = {name: np.int8(i) for i, name in enumerate(EVENTS)}
CHANNELS = ("web", "social", "search", "email", "display", "influencer", "video", "organic")
_CH = {name: np.int8(i) for i, name in enumerate(CHANNELS)}

_DAY_US = 86_400_000_000
#: Content goes live at 09:00 UTC on its publication day.
_PUBLISH_HOUR = 9
_START_US = B.DATA_START.value // 1000
_N_DAYS = float(B.N_DAYS)
_HOUR_WEIGHTS = np.array([0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.4, 2.8, 3.0, 3.2,
                          3.6, 3.4, 3.0, 2.9, 3.0, 3.3, 3.8, 4.4, 4.8, 4.5, 3.2, 1.6])
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()

# kinds of session
_ACQ, _RETURN, _PURCHASE, _LEARN = 0, 1, 2, 3
#: Content kinds that are pages on the shop's website (the others live on social platforms).
_WEB_KINDS = ("product_page", "guide", "tutorial", "article", "comparison", "webinar", "podcast",
              "newsletter", "review")


def _day(text: str) -> float:
    return float((pd.Timestamp(text, tz="UTC") - B.DATA_START).days)


def _tod(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day (fraction of a day) following an online-activity profile."""
    return (rng.choice(24, size=n, p=_HOUR_P) + rng.random(n)) / 24.0


def _rediurnal(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Keep the day of each time but redraw its time of day from the activity profile."""
    return np.floor(t) + _tod(rng, t.size)


def _fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids like C0001234 as a NumPy bytes array (fixed width, so they gather fast)."""
    x = np.asarray(numbers, dtype=np.int64).copy()
    if x.size and (x.min() < 0 or x.max() >= 10**width):
        raise ValueError(f"{prefix} ids need more than {width} digits")
    p = len(prefix)
    m = np.empty((x.size, p + width), dtype=np.uint8)
    m[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for k in range(p + width - 1, p - 1, -1):
        m[:, k] = 48 + x % 10
        x //= 10
    return m.reshape(-1).view(f"S{p + width}")


def _fixed_strings(dictionary: np.ndarray, codes: np.ndarray) -> pa.Array:
    """Arrow large strings for codes into a fixed-width bytes dictionary; negative codes are null.

    Built straight from buffers (no per-value work), and large_string so pandas takes it as is.
    """
    codes = np.asarray(codes)
    w = dictionary.dtype.itemsize
    n = codes.size
    valid = codes >= 0
    if valid.all():
        data = dictionary[codes]
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    data = dictionary[codes[valid]]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(valid, out=offsets[1:])
    offsets *= w
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap,
                                            null_count=int(n - valid.sum()))


def _str_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return _fixed_strings(_fixed_ids(prefix, numbers, width), np.arange(np.asarray(numbers).size))


def _take(dictionary: pa.Array, codes: np.ndarray) -> pa.Array:
    """Strings for integer codes; negative codes become nulls."""
    codes = np.asarray(codes)
    idx = pa.array(codes, mask=codes < 0)
    return pc.take(dictionary.cast(pa.large_string()), idx)


def _ts(days: np.ndarray) -> pa.Array:
    us = _START_US + np.floor(np.asarray(days, dtype=np.float64) * _DAY_US).astype(np.int64)
    return pa.array(us, type=pa.timestamp("us", tz="UTC"))


def _ragged_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: the owning group and the position of each element."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(owner.size) - starts[owner]
    return owner, pos


def _choice_texts(rng: np.random.Generator, templates: tuple[str, ...], n: int) -> np.ndarray:
    """n texts drawn from templates; ``{plant}`` is filled with a random plant name."""
    expanded = []
    for t in templates:
        if "{plant}" in t:
            expanded.extend(t.replace("{plant}", p) for p in B.PLANTS)
        else:
            expanded.append(t)
    # weight so that each template (not each expansion) is equally likely
    weights = np.array([1.0 / len(B.PLANTS) if "{plant}" in t else 1.0
                        for t in templates for _ in (B.PLANTS if "{plant}" in t else (0,))])
    arr = np.array(expanded, dtype=object)
    return arr[rng.choice(arr.size, size=n, p=weights / weights.sum())]


class _Events:
    """Columns of event parts, concatenated at the end."""

    COLS = {"cust": np.int32, "t": np.float64, "ev": np.int8, "ch": np.int8, "camp": np.int16,
            "content": np.int16, "sess": np.int64, "dur": np.float32, "val": np.float32}
    DEFAULTS = {"ch": -1, "camp": -1, "content": -1, "sess": -1, "dur": np.nan, "val": np.nan}

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, cust, t, ev, **cols) -> None:
        n = np.asarray(cust).size
        if n == 0:
            return
        part = {"cust": cust, "t": t, "ev": ev}
        part.update(cols)
        out = {}
        for name, dtype in self.COLS.items():
            v = part.get(name, self.DEFAULTS.get(name))
            v = np.asarray(v)
            out[name] = (np.full(n, v, dtype=dtype) if v.ndim == 0 else v.astype(dtype, copy=False))
        self.parts.append(out)

    def concat(self) -> dict[str, np.ndarray]:
        cols = {}
        for name in self.COLS:
            cols[name] = np.concatenate([p[name] for p in self.parts])
            for p in self.parts:
                p.pop(name)
        self.parts = []
        return cols


class _Sim:
    def __init__(self, n_clickers: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.n = int(n_clickers)
        self.scale = self.n / SIZES["small"]
        self.n_audience = self.n * AUDIENCE_PER_CLICKER
        self._campaign_arrays()
        self._content_arrays()
        self.ev = _Events()

    # ---------------------------------------------------------------- catalogue as arrays
    def _campaign_arrays(self) -> None:
        camps = list(B.CAMPAIGNS) + [B.ORGANIC]
        self.K = len(B.CAMPAIGNS)  # index K = organic (no campaign)
        self.camp_ids = [c.campaign_id for c in B.CAMPAIGNS]
        self.camp_index = {cid: i for i, cid in enumerate(self.camp_ids)}
        f = lambda attr: np.array([getattr(c, attr) for c in camps], dtype=np.float64)  # noqa: E731
        self.c_start = np.array([_day(c.start) for c in camps])
        self.c_end = np.minimum(np.array([_day(c.end) + 1 for c in camps]), _N_DAYS)
        self.c_ctr = f("ctr")
        self.c_acq = f("acquisition_weight")
        self.c_interest = f("interest_days")
        self.c_conv = f("conversion")
        self.c_rate = f("rate_mult")
        self.c_drop = f("dropout_mult")
        self.c_spend = f("spend_mult")
        self.c_learn = f("learner_share")
        self.c_eng = f("engagement_mult")
        self.c_return = f("return_weight")
        self.c_bounce = f("bounce")
        self.c_channel = np.array([_CH[c.channel] for c in camps], dtype=np.int8)

    def _content_arrays(self) -> None:
        C = B.CONTENT
        self.J = len(C)
        self.content_ids = [c.content_id for c in C]
        self.j_index = {cid: i for i, cid in enumerate(self.content_ids)}
        self.j_kind = np.array([c.kind for c in C])
        self.j_pub = np.array([_day(c.published) for c in C]) + _PUBLISH_HOUR / 24
        self.j_camp = np.array([self.camp_index[c.campaign_id] if c.campaign_id else -1 for c in C],
                               dtype=np.int16)
        self.j_views = np.array([c.views for c in C])
        self.product_pages = np.flatnonzero(self.j_kind == "product_page")
        self.tutorials = np.flatnonzero(self.j_kind == "tutorial")
        # campaign content (what an impression / click shows), sorted by publication
        self.camp_content = []
        for k in range(self.K + 1):
            items = np.flatnonzero(self.j_camp == k) if k < self.K else np.array([], dtype=int)
            items = items[np.argsort(self.j_pub[items], kind="stable")]
            self.camp_content.append(items)
        camps = list(B.CAMPAIGNS) + [B.ORGANIC]
        self.camp_landing = [np.array([self.j_index[x] for x in c.landing]) for c in camps]

    def _available(self, items: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A uniformly chosen item among ``items`` (sorted by publication) published by time t."""
        if items.size == 0:
            return np.full(t.size, -1, dtype=np.int64)
        n_av = np.searchsorted(self.j_pub[items], t, side="right")
        pick = np.floor(self.rng.random(t.size) * np.maximum(n_av, 1)).astype(np.int64)
        return items[np.minimum(pick, items.size - 1)]

    # ---------------------------------------------------------------- people
    def people(self) -> None:
        rng, n, K = self.rng, self.n, self.K
        w = self.c_acq / self.c_acq.sum()
        a = rng.choice(K + 1, size=n, p=w)
        day = np.floor(self.c_start[a] + rng.random(n) * (self.c_end[a] - self.c_start[a]))
        self.t0 = day + _tod(rng, n)
        self.acq = a
        self.e = rng.lognormal(0.0, 0.6, n) * self.c_eng[a]
        self.f = np.clip(self.e, 0.3, 3.0) ** 0.6  # engagement factor on event probabilities
        self.learner = rng.random(n) < self.c_learn[a]
        L = LEARNER_EFFECT
        mean_interest = self.c_interest[a] * np.where(self.learner, L["interest"], 1.0) * self.e ** 0.3
        self.D = rng.exponential(mean_interest)
        self.rate = SESSION_RATE * np.clip(self.e, 0.2, 4.0) ** 0.7 * np.where(self.learner, L["sessions"], 1.0)

    # ---------------------------------------------------------------- purchases (BG/NBD)
    def purchases(self) -> None:
        rng, n, a = self.rng, self.n, self.acq
        L = LEARNER_EFFECT
        conv = np.clip(self.c_conv[a] * np.where(self.learner, L["conversion"], 1.0)
                       * np.clip(self.e, 0.3, 3.0) ** 0.3, 0, 0.95)
        buyer = rng.random(n) < conv
        in_session = rng.random(n) < 0.35
        t1 = np.where(in_session, self.t0 + 0.005,
                      np.maximum(_rediurnal(rng, self.t0 + rng.exponential(12.0, n)), self.t0 + 1 / 24))
        buyer &= t1 < _N_DAYS - 0.01
        self.first_in_session = buyer & in_session
        # BG/NBD latent traits
        lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n) * self.c_rate[a] * np.where(self.learner, L["rate"], 1.0)
        lam = np.minimum(lam, 1 / 7)
        p = rng.beta(BGNBD["a"], BGNBD["b"], n) * self.c_drop[a] * np.where(self.learner, L["dropout"], 1.0)
        p = np.clip(p, 1e-4, 0.95)
        self.lam = lam
        b_idx = np.flatnonzero(buyer)
        horizon = _N_DAYS - t1[b_idx]
        n_poisson = rng.poisson(lam[b_idx] * horizon)
        k_death = rng.geometric(p[b_idx])  # dies right after its k-th repeat purchase
        n_obs = np.minimum(n_poisson, k_death)
        died = k_death <= n_poisson
        owner, pos = _ragged_offsets(n_poisson)
        tr = t1[b_idx][owner] + rng.random(owner.size) * horizon[owner]
        tr = _rediurnal(rng, tr)
        same_day = tr <= t1[b_idx][owner] + 1 / 24
        tr[same_day] = t1[b_idx][owner][same_day] + (1 + 5 * rng.random(same_day.sum())) / 24
        tr = tr[np.lexsort((tr, owner))]  # owner is already grouped, so pos is the rank in time
        keep = pos < n_obs[owner]
        if keep.any():
            # a repeat purchase too close to the end would have no room for its session
            n_obs = np.minimum(n_obs, np.bincount(owner[keep & (tr < _N_DAYS - 0.01)], minlength=b_idx.size))
            keep = pos < n_obs[owner]
        rep_owner, rep_t = b_idx[owner[keep]], tr[keep]
        # death time = time of the k-th repeat purchase
        died &= n_obs == k_death
        death = np.full(n, np.inf)
        last = np.cumsum(n_obs) - 1  # index (in kept arrays) of the last observed repeat per buyer
        d_mask = died & (n_obs > 0)
        death[b_idx[d_mask]] = rep_t[last[d_mask]]
        self.death = death
        # order list: first orders then repeats (planned times; in-session ones fixed later)
        self.o_cust = np.concatenate([b_idx, rep_owner])
        self.o_plan = np.concatenate([t1[b_idx], rep_t])
        self.o_first = np.concatenate([np.ones(b_idx.size, bool), np.zeros(rep_owner.size, bool)])
        self.buyer = buyer
        self.t1 = np.where(buyer, t1, np.inf)
        # Gamma-Gamma order values
        G = GAMMA_GAMMA
        nu = rng.gamma(G["q"], 1.0 / G["gamma"], n)
        z = rng.gamma(G["p"], 1.0 / nu[self.o_cust]) * self.c_spend[a[self.o_cust]]
        self.o_amount = np.maximum(np.round(z, 2), 4.0)
        self.act_end = np.minimum(np.minimum(self.t0 + self.D, death), _N_DAYS)

    # ---------------------------------------------------------------- sessions and visits
    def sessions(self) -> None:
        rng, n = self.rng, self.n
        # acquisition sessions
        s_cust = [np.arange(n)]
        s_start = [self.t0]
        s_type = [np.full(n, _ACQ)]
        # return sessions while interested
        active_len = np.maximum(self.act_end - self.t0, 0)
        cnt = rng.poisson(self.rate * active_len)
        own, _ = _ragged_offsets(cnt)
        t = self.t0[own] + rng.random(own.size) * active_len[own]
        s_cust.append(own); s_start.append(t); s_type.append(np.full(own.size, _RETURN))
        # residual sessions after interest ended
        rest = np.maximum(_N_DAYS - self.act_end, 0)
        cnt = rng.poisson(RESIDUAL_RATE * np.clip(self.e, 0.1, 4.0) * rest)
        own, _ = _ragged_offsets(cnt)
        t = self.act_end[own] + rng.random(own.size) * rest[own]
        s_cust.append(own); s_start.append(t); s_type.append(np.full(own.size, _RETURN))
        # one session per order (except first orders placed in the acquisition session)
        sep = ~(self.o_first & self.first_in_session[self.o_cust])
        s_cust.append(self.o_cust[sep]); s_start.append(self.o_plan[sep])
        s_type.append(np.full(sep.sum(), _PURCHASE))
        # early tutorial session for learners
        ln = np.flatnonzero(self.learner)
        s_cust.append(ln); s_start.append(self.t0[ln] + 0.05 + 13.0 * rng.random(ln.size))
        s_type.append(np.full(ln.size, _LEARN))

        cust = np.concatenate(s_cust).astype(np.int64)
        start = np.concatenate(s_start)
        stype = np.concatenate(s_type).astype(np.int8)
        ret = stype == _RETURN
        start[ret] = np.maximum(_rediurnal(rng, start[ret]), self.t0[cust[ret]] + (1 + rng.random(ret.sum())) / 24)
        ok = start < _N_DAYS
        cust, start, stype = cust[ok], start[ok], stype[ok]
        order = np.argsort(start, kind="stable")
        cust, start, stype = cust[order], start[order], stype[order]
        S = cust.size
        # clicks: acquisition sessions always; some return sessions
        camp = np.full(S, -1, dtype=np.int64)
        acq = stype == _ACQ
        camp[acq] = self.acq[cust[acq]]
        ridx = np.flatnonzero((stype == _RETURN) & (rng.random(S) < RETURN_CLICK_SHARE))
        if ridx.size:
            tt = start[ridx][:, None]
            active = (self.c_start[None, :self.K] <= tt) & (tt < self.c_end[None, :self.K])
            w = active * self.c_return[None, :self.K]
            tot = w.sum(1)
            cum = np.cumsum(w, 1)
            u = rng.random(ridx.size) * tot
            pick = (cum < u[:, None]).sum(1)
            has = tot > 0
            camp[ridx[has]] = pick[has]
        has_click = camp >= 0
        click_content = np.full(S, -1, dtype=np.int64)
        for k in range(self.K):
            m = np.flatnonzero(camp == k)
            click_content[m] = self._available(self.camp_content[k], start[m])
        self.S = S

        # the click (and the impression just before it)
        ci = np.flatnonzero(has_click)
        ch = self.c_channel[camp[ci]]
        out_camp = np.where(camp[ci] == self.K, -1, camp[ci])
        self.ev.add(cust[ci], start[ci], _EV["click"], ch=ch, camp=out_camp, content=click_content[ci], sess=ci)
        imp_t = start[ci] - (2 + 598 * rng.random(ci.size)) / 86400
        imp_t = np.maximum(imp_t, np.minimum(self.c_start[camp[ci]], start[ci]))  # not before the campaign
        self.ev.add(cust[ci], imp_t, _EV["impression"], ch=ch, camp=out_camp, content=click_content[ci])

        # visits
        fs = self.f[cust]
        purchase_acq = acq & self.first_in_session[cust]
        nv = np.ones(S, dtype=np.int64)
        buying = (stype == _PURCHASE) | purchase_acq
        learning = stype == _LEARN
        browsing = ~buying & ~learning
        nv[buying] += 2 + rng.poisson(1.5, buying.sum())
        nv[learning] += rng.poisson(1.0, learning.sum())
        nv[browsing] += rng.poisson(1.3 * np.sqrt(fs[browsing]))
        # clicks to nowhere: some click sessions (never a buying one) show no page at all
        bounced = has_click & browsing & (rng.random(S) < self.c_bounce[np.maximum(camp, 0)])
        nv[bounced] = 0
        v_s, v_pos = _ragged_offsets(nv)
        V = v_s.size
        dur = np.clip(rng.lognormal(np.log(40.0), 0.9, V), 3, 1500)
        inc = dur + 2 + 38 * rng.random(V)
        cs = np.cumsum(inc)
        before = cs - inc
        first_of = np.minimum(np.cumsum(nv) - nv, V - 1)  # (clipped: sessions without pages)
        last_of = np.maximum(np.cumsum(nv) - 1, 0)
        off = before - before[first_of][v_s] + (1 + 5 * rng.random(S))[v_s]
        v_t = start[v_s] + off / 86400
        v_cust = cust[v_s]
        last_pos = (nv - 1)[v_s]
        # content of each visit: browse / product / tutorial modes
        stv = stype[v_s]
        mode = np.zeros(V, dtype=np.int8)
        prod_sess = (stv == _PURCHASE) | purchase_acq[v_s]
        mode[prod_sess] = 1
        learner_v = self.learner[v_cust]
        mode[(mode == 0) & learner_v & (rng.random(V) < 0.25)] = 2
        mode[(stv == _LEARN) & (v_pos == 0)] = 2
        views = np.where(np.isin(self.j_kind, _WEB_KINDS), self.j_views, 0.0)
        content = np.full(V, -1, dtype=np.int64)
        m0 = np.flatnonzero(mode == 0)
        content[m0] = rng.choice(self.J, size=m0.size, p=views / views.sum())
        content[m0[rng.random(m0.size) < B.NULL_PAGE_SHARE]] = -1
        m1 = np.flatnonzero(mode == 1)
        pw = self.j_views[self.product_pages]
        content[m1] = self.product_pages[rng.choice(pw.size, size=m1.size, p=pw / pw.sum())]
        m2 = np.flatnonzero(mode == 2)
        content[m2] = self._available(self.tutorials[np.argsort(self.j_pub[self.tutorials])], v_t[m2])
        # landing page of click sessions
        land = np.flatnonzero(has_click[v_s] & (v_pos == 0))
        lc = camp[v_s[land]]
        for k in range(self.K + 1):
            m = land[lc == k]
            items = self.camp_landing[k]
            items = items[np.argsort(self.j_pub[items], kind="stable")]
            content[m] = self._available(items, v_t[m])
        # checkout page closes a buying session
        content[prod_sess & (v_pos == last_pos) & (last_pos > 0)] = -1
        late = (content >= 0) & (self.j_pub[np.maximum(content, 0)] > v_t)
        content[late] = self.product_pages[rng.integers(0, self.product_pages.size, late.sum())]
        v_camp = np.where(camp[v_s] >= self.K, -1, camp[v_s])
        keep = v_t < _N_DAYS
        self.v_s, self.v_t, self.v_cust, self.v_content = v_s[keep], v_t[keep], v_cust[keep], content[keep]
        self.v_dur, self.v_camp = dur[keep], v_camp[keep]
        self.ev.add(self.v_cust, self.v_t, _EV["visit"], ch=_CH["web"], camp=self.v_camp,
                    content=self.v_content, sess=self.v_s, dur=np.round(self.v_dur, 1))

        # order timestamps: just after the last page view of their session
        sess_end = start + (before[last_of] - before[first_of] + dur[last_of]) / 86400  # buying sessions
        o_ts = self.o_plan.copy()
        first_acq = self.o_first & self.first_in_session[self.o_cust]
        acq_sess_of = np.full(self.n, -1)
        acq_sess_of[cust[acq]] = np.flatnonzero(acq)
        o_ts[first_acq] = sess_end[acq_sess_of[self.o_cust[first_acq]]] + (20 + 100 * rng.random(first_acq.sum())) / 86400
        # separate purchase sessions: map each to its order through (cust, planned time)
        ps = np.flatnonzero(stype == _PURCHASE)
        sep = np.flatnonzero(~first_acq)
        key_s = np.lexsort((start[ps], cust[ps]))
        key_o = np.lexsort((self.o_plan[sep], self.o_cust[sep]))
        # both lists hold the same (cust, time) pairs except sessions dropped past the end
        if ps.size == sep.size:
            o_ts[sep[key_o]] = sess_end[ps[key_s]] + (20 + 100 * rng.random(ps.size)) / 86400
        else:  # pragma: no cover - every planned order is before the end
            raise AssertionError("purchase sessions and orders out of step")
        self.o_ts = o_ts
        okk = o_ts < _N_DAYS
        self.o_cust, self.o_ts, self.o_amount, self.o_first = (self.o_cust[okk], self.o_ts[okk],
                                                               self.o_amount[okk], self.o_first[okk])
        first_ts = np.full(self.n, np.inf)
        first_ts[self.o_cust[self.o_first]] = self.o_ts[self.o_first]
        self.t1 = first_ts

    # ---------------------------------------------------------------- deep events in sessions
    def deep_events(self) -> None:
        rng = self.rng
        V = self.v_t.size
        c = self.v_content
        fv = self.f[self.v_cust]

        def table(by_kind: dict[str, float], deep_guide: float | None = None) -> np.ndarray:
            """Per-visit probabilities from a lookup by content kind (and for the deep guide)."""
            tab = np.array([0.0] + [by_kind.get(k, 0.0) for k in self.j_kind])
            if deep_guide is not None:
                tab[self.j_index[B.DEEP_GUIDE] + 1] = deep_guide
            return tab[c + 1]

        def emit(name: str, prob: np.ndarray, **extra) -> np.ndarray:
            hit = np.flatnonzero(rng.random(V) < prob)
            t = self.v_t[hit] + self.v_dur[hit] * (0.2 + 0.7 * rng.random(hit.size)) / 86400
            cols = {k: (v[hit] if isinstance(v, np.ndarray) and v.size == V else v) for k, v in extra.items()}
            self.ev.add(self.v_cust[hit], t, _EV[name], ch=_CH["web"], camp=self.v_camp[hit],
                        content=c[hit], sess=self.v_s[hit], **cols)
            return hit

        reading = {"article": 0.03, "comparison": 0.03, "newsletter": 0.03, "podcast": 0.03}
        emit("save", table({"guide": 0.05, "tutorial": 0.03, **reading}, 0.30) * fv)
        emit("download", table({"guide": 0.07}, 0.45) * np.minimum(fv, 1.5))
        emit("share", table({"guide": 0.01, "tutorial": 0.01, **{k: 0.015 for k in reading}}, 0.05) * fv)
        emit("review_read", table({"product_page": 0.12}))
        emit("lead", table({"product_page": 0.004, "webinar": 0.25}) * fv, val=np.float32(25.0))
        learner_v = self.learner[self.v_cust]
        tut = table({"tutorial": 1.0})
        watch = np.clip(rng.lognormal(np.log(240.0), 0.6, V), 20, 1800).round(1)
        emit("tutorial_view", tut * np.where(learner_v, 0.9, 0.12), dur=watch)
        ref_p = np.where(self.v_t > self.t1[self.v_cust] + REFERRAL_AFTER_DAYS, 0.012 * np.where(learner_v, 2.0, 1.0), 0.0)
        emit("referral", ref_p, val=np.float32(10.0))

        # once-per-customer events at one of a customer's early page views
        order = np.lexsort((self.v_t, self.v_cust))
        vc = self.v_cust[order]
        counts = np.bincount(vc, minlength=self.n)
        first = np.cumsum(counts) - counts

        def once(name: str, prob: np.ndarray, within: int) -> None:
            who = np.flatnonzero((rng.random(self.n) < prob) & (counts > 0))
            k = np.floor(rng.random(who.size) * np.minimum(counts[who], within)).astype(np.int64)
            vi = order[first[who] + k]
            t = self.v_t[vi] + self.v_dur[vi] * (0.3 + 0.6 * rng.random(vi.size)) / 86400
            self.ev.add(self.v_cust[vi], t, _EV[name], ch=_CH["web"], camp=self.v_camp[vi],
                        content=self.v_content[vi], sess=self.v_s[vi])

        once("signup", np.clip(0.15 + 0.15 * self.buyer, 0, 1) * self.f, 6)
        sub_p = np.select([self.acq == self.camp_index[B.RELATIONSHIP_CAMPAIGN],
                           self.acq == self.camp_index["care-club-referral"]], [0.6, 0.5], 0.07 * self.f)
        once("subscribe", sub_p, 4)
        # page views are all emitted now
        del self.v_s, self.v_t, self.v_cust, self.v_content, self.v_dur, self.v_camp

    # ---------------------------------------------------------------- social
    def _pick_active(self, T: np.ndarray, rounds: int = 8) -> np.ndarray:
        """A clicker who is interested at time T (t0 < T < end of interest), or -1."""
        if not hasattr(self, "_t0_order"):
            self._t0_order = np.argsort(self.t0, kind="stable")
            self._t0_sorted = self.t0[self._t0_order]
        n_el = np.searchsorted(self._t0_sorted, T, side="left")
        out = np.full(T.size, -1, dtype=np.int64)
        pending = np.flatnonzero(n_el > 0)
        for _ in range(rounds):
            if pending.size == 0:
                break
            cand = self._t0_order[np.floor(self.rng.random(pending.size) * n_el[pending]).astype(np.int64)]
            ok = self.act_end[cand] > T[pending]
            out[pending[ok]] = cand[ok]
            pending = pending[~ok]
        return out

    def _audience(self, m: int) -> np.ndarray:
        """People of the wider audience for social interactions: mostly the recurring fans."""
        fans = max(int(self.n * FANS_PER_CLICKER), 1)
        fan = self.rng.random(m) < FAN_SHARE
        return self.n + np.where(fan, self.rng.integers(0, fans, m), self.rng.integers(0, self.n_audience, m))

    def social(self) -> None:
        rng, sc = self.rng, self.scale
        tau = {"post": 2.0, "video": 12.0}
        clicker_share = {"post": 0.35, "video": 0.5}
        who_all, t_all, j_all, ev_all = [], [], [], []
        for j, item in enumerate(B.CONTENT):
            for name, mean in (("like", item.likes), ("save", item.social_saves), ("share", item.social_shares)):
                if item.kind not in ("post", "video") and name != "like":
                    continue
                cnt = rng.poisson(mean * sc)
                if cnt == 0:
                    continue
                t = max(self.j_pub[j], 0.0) + rng.exponential(tau.get(item.kind, 60.0), cnt) + rng.random(cnt) / 24
                t = t[t < _N_DAYS]
                share = clicker_share.get(item.kind, 0.9)
                if item.content_id == B.VIRAL_POST:
                    share = 0.08
                elif item.campaign_id == B.CLICK_BAIT_CAMPAIGN:
                    share = 0.2
                if name != "like":
                    share = max(share, 0.6)
                who = np.full(t.size, -1, dtype=np.int64)
                want = rng.random(t.size) < share
                who[want] = self._pick_active(t[want])
                aud = who < 0
                if item.kind not in ("post", "video"):
                    # likes on web pages come from visitors only
                    t, who = t[~aud], who[~aud]
                else:
                    who[aud] = self._audience(aud.sum())
                who_all.append(who); t_all.append(t)
                j_all.append(np.full(t.size, j)); ev_all.append(np.full(t.size, _EV[name]))
        who = np.concatenate(who_all); t = np.concatenate(t_all)
        j = np.concatenate(j_all); evc = np.concatenate(ev_all)
        # one like / save / share per person and item
        key = (who.astype(np.int64) * self.J + j) * len(EVENTS) + evc
        _, first = np.unique(key, return_index=True)
        who, t, j, evc = who[first], t[first], j[first], evc[first]
        kind = self.j_kind[j]
        ch = np.where(kind == "video", _CH["video"], np.where(kind == "post", _CH["social"], _CH["web"]))
        camp = self.j_camp[j]
        self.ev.add(who, t, evc, ch=ch, camp=camp, content=j)
        # an impression of the item just before
        social = np.isin(kind, ["post", "video"])
        self.ev.add(who[social], t[social] - (10 + 1790 * rng.random(social.sum())) / 86400, _EV["impression"],
                    ch=ch[social], camp=camp[social], content=j[social])
        # follows: clickers while interested, and some audience members after a like
        fo = np.flatnonzero(rng.random(self.n) < 0.15 * self.f)
        tf = self.t0[fo] + rng.exponential(10.0, fo.size)
        ok = tf < np.minimum(self.act_end[fo], _N_DAYS)
        self.ev.add(fo[ok], tf[ok], _EV["follow"], ch=_CH["social"])
        aud_like = np.flatnonzero((who >= self.n) & (evc == _EV["like"]))
        af = aud_like[rng.random(aud_like.size) < 0.12]
        taf = t[af] + (60 + rng.random(af.size) * 86400 * 2) / 86400
        ok = taf < _N_DAYS
        wf = who[af][ok]
        _, u = np.unique(wf, return_index=True)
        self.ev.add(wf[u], taf[ok][u], _EV["follow"], ch=_CH["social"])

    # ---------------------------------------------------------------- impressions top-up
    def impressions(self) -> None:
        rng, K = self.rng, self.K
        imp_have = np.zeros(K, dtype=np.int64)
        clicks = np.zeros(K, dtype=np.int64)
        for part in self.ev.parts:
            camp = part["camp"]
            has = camp >= 0
            imp_have += np.bincount(camp[has & (part["ev"] == _EV["impression"])], minlength=K)[:K]
            clicks += np.bincount(camp[has & (part["ev"] == _EV["click"])], minlength=K)[:K]
        self.ctr_noise = 1 + 0.03 * rng.standard_normal(K)
        target = np.round(clicks / (self.c_ctr[:K] * self.ctr_noise)).astype(np.int64)
        need = np.maximum(target - imp_have, 0)
        for k in range(K):
            m = int(need[k])
            if m == 0:
                continue
            day = np.floor(self.c_start[k] + rng.random(m) * (self.c_end[k] - self.c_start[k]))
            t = day + _tod(rng, m)
            to_clicker = rng.random(m) < 0.15
            who = self.n + rng.integers(0, self.n_audience, m)
            who[to_clicker] = rng.integers(0, self.n, to_clicker.sum())
            content = self._available(self.camp_content[k], t)
            self.ev.add(who, t, _EV["impression"], ch=self.c_channel[k], camp=k, content=content)
        # reach of non-campaign posts and videos
        for j, item in enumerate(B.CONTENT):
            if item.kind not in ("post", "video") or item.campaign_id:
                continue
            m = int(rng.poisson(item.likes * self.scale * (5 if item.content_id == B.VIRAL_POST else 8)))
            t = self.j_pub[j] + rng.exponential(3.0, m)
            t = t[t < _N_DAYS]
            who = self.n + rng.integers(0, self.n_audience, t.size)
            to_clicker = rng.random(t.size) < 0.1
            who[to_clicker] = rng.integers(0, self.n, to_clicker.sum())
            ch = _CH["video"] if item.kind == "video" else _CH["social"]
            self.ev.add(who, t, _EV["impression"], ch=ch, content=j)

    # ---------------------------------------------------------------- messages
    def messages(self) -> pa.Table:
        rng, sc = self.rng, self.scale
        M: dict[str, list] = {k: [] for k in ("author", "t", "text", "kind", "content", "parent", "brand")}
        n_so_far = [0]

        def add(author, t, text, kind, content=-1, parent=-1, brand=False) -> np.ndarray:
            m = np.asarray(t).size
            ids = np.arange(n_so_far[0], n_so_far[0] + m)
            n_so_far[0] += m
            M["author"].append(np.broadcast_to(np.asarray(author, dtype=np.int64), (m,)).copy())
            M["t"].append(np.asarray(t, dtype=np.float64))
            M["text"].append(np.asarray(text, dtype=object))
            M["kind"].append(np.full(m, kind, dtype=object))
            M["content"].append(np.broadcast_to(np.asarray(content, dtype=np.int64), (m,)).copy())
            M["parent"].append(np.broadcast_to(np.asarray(parent, dtype=np.int64), (m,)).copy())
            M["brand"].append(np.full(m, brand))
            return ids

        def brand_delay(m: int, median_h: float) -> np.ndarray:
            return rng.lognormal(np.log(median_h), 0.9, m) / 24

        def brand_reply(parent_ids, parent_t, share, median_h, texts, kind, content=-1):
            hit = np.flatnonzero(rng.random(parent_ids.size) < share)
            t = parent_t[hit] + brand_delay(hit.size, median_h)
            # the team answers 07:00-22:00; night-time replies wait for the morning
            hour = (t - np.floor(t)) * 24
            morning = (7 + 2 * rng.random(t.size)) / 24
            t = np.where(hour >= 22, np.floor(t) + 1 + morning, np.where(hour < 7, np.floor(t) + morning, t))
            ok = t < _N_DAYS
            hit, t = hit[ok], t[ok]
            cont = content[hit] if isinstance(content, np.ndarray) else content
            return add(-1, t, _choice_texts(rng, texts, hit.size), kind, cont, parent_ids[hit], True), t

        # comments on content
        for j, item in enumerate(B.CONTENT):
            cnt = rng.poisson(item.comments * sc)
            if cnt == 0:
                continue
            tau = {"post": 2.0, "video": 15.0}.get(item.kind, 60.0)
            t = np.maximum(self.j_pub[j], 0.0) + rng.exponential(tau, cnt) + rng.random(cnt) / 24
            t = t[t < _N_DAYS]
            who = self._pick_active(t, rounds=20)
            ok = who >= 0
            t, who = t[ok], who[ok]
            if item.content_id == B.DEEP_GUIDE:
                texts = np.where(rng.random(t.size) < 0.85, _choice_texts(rng, B.GRATITUDE_COMMENTS, t.size),
                                 _choice_texts(rng, B.LEARNING_COMMENTS, t.size))
            elif item.content_id == B.VIRAL_POST:
                texts = _choice_texts(rng, B.MEME_COMMENTS, t.size)
            elif item.campaign_id == B.CLICK_BAIT_CAMPAIGN:
                texts = _choice_texts(rng, B.GIVEAWAY_COMMENTS, t.size)
            elif item.kind == "post":
                texts = _choice_texts(rng, B.POST_COMMENTS, t.size)
            elif item.kind == "product_page":
                texts = _choice_texts(rng, B.PRODUCT_COMMENTS, t.size)
            elif item.kind == "guide":
                texts = np.where(rng.random(t.size) < 0.2, _choice_texts(rng, B.GRATITUDE_COMMENTS, t.size),
                                 _choice_texts(rng, B.LEARNING_COMMENTS, t.size))
            else:
                texts = _choice_texts(rng, B.LEARNING_COMMENTS + B.POST_COMMENTS[:6], t.size)
            ids = add(who, t, texts, "comment", j)
            brand_reply(ids, t, 0.3, 3.0, B.BRAND_REPLIES, "reply", j)

        interested = np.maximum(self.act_end - self.t0, 0.0)
        learner_mult = np.where(self.learner, 2.0, 1.0)

        def per_person(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            cnt = rng.poisson(np.minimum(rate * interested, 30))
            own, _ = _ragged_offsets(cnt)
            t = self.t0[own] + 0.02 + rng.random(own.size) * interested[own]
            t = _rediurnal(rng, t)
            ok = (t > self.t0[own] + 0.01) & (t < _N_DAYS)
            return own[ok], t[ok]

        # community threads
        op, t = per_person(0.002 * self.f * learner_mult)
        post_ids = add(op, t, _choice_texts(rng, B.COMMUNITY_POSTS, op.size), "community_post")
        n_rep = rng.poisson(1.6, op.size)
        own, pos = _ragged_offsets(n_rep)
        rt = t[own] + (5 / 1440) + rng.exponential(8 / 24, own.size) * (1 + pos)
        rw = self._pick_active(rt, rounds=20)
        ok = (rw >= 0) & (rw != op[own]) & (rt < _N_DAYS)
        own, rt, rw, pos = own[ok], rt[ok], rw[ok], pos[ok]
        rep_ids = add(rw, rt, _choice_texts(rng, B.MEMBER_REPLIES, own.size), "reply", -1, post_ids[own])
        # the original poster thanks the first member who answered
        first_rep = np.unique(own, return_index=True)[1]
        thank = first_rep[rng.random(first_rep.size) < 0.35]
        tt = rt[thank] + rng.exponential(6 / 24, thank.size)
        okt = tt < _N_DAYS
        thank, tt = thank[okt], tt[okt]
        add(op[own[thank]], tt, _choice_texts(rng, B.OP_THANKS, thank.size), "reply", -1, rep_ids[thank])
        brand_reply(post_ids, t, 0.5, 3.5, B.BRAND_REPLIES, "reply")

        # direct messages asking for advice
        who, t = per_person(0.0015 * self.f)
        ids = add(who, t, _choice_texts(rng, B.DMS, who.size), "dm")
        brand_reply(ids, t, 0.9, 2.0, B.BRAND_DM_REPLIES, "dm")

        # mentions
        who, t = per_person(0.0008 * self.f)
        add(who, t, _choice_texts(rng, B.MENTIONS, who.size), "mention")

        # support contacts about orders; late deliveries are the usual reason
        no = self.o_cust.size
        self.o_late = rng.random(no) < 0.18
        contact = rng.random(no) < np.where(self.o_late, 0.30, 0.025)
        ci = np.flatnonzero(contact)
        tc = self.o_ts[ci] + np.where(self.o_late[ci], 3 + 7 * rng.random(ci.size), 1 + 3 * rng.random(ci.size))
        okc = tc < _N_DAYS
        ci, tc = ci[okc], tc[okc]
        texts = np.where(self.o_late[ci], _choice_texts(rng, B.SUPPORT_LATE, ci.size),
                         _choice_texts(rng, B.SUPPORT_OTHER, ci.size))
        sup_ids = add(self.o_cust[ci], tc, texts, "support")
        _, reply_t = brand_reply(sup_ids, tc, 0.97, 5.0, B.BRAND_SUPPORT_REPLIES, "support")
        self.support_order, self.support_t = ci, tc

        # reviews of product pages
        ri = np.flatnonzero(rng.random(no) < 0.08)
        tr = self.o_ts[ri] + 7 + 13 * rng.random(ri.size)
        okr = tr < _N_DAYS
        ri, tr = ri[okr], tr[okr]
        bad = self.o_late[ri] & (rng.random(ri.size) < 0.7)
        texts = np.where(bad, _choice_texts(rng, B.REVIEWS_BAD, ri.size), _choice_texts(rng, B.REVIEWS_GOOD, ri.size))
        page = self.product_pages[rng.integers(0, self.product_pages.size, ri.size)]
        add(self.o_cust[ri], tr, texts, "review", page)

        author = np.concatenate(M["author"]); t = np.concatenate(M["t"])
        text = np.concatenate(M["text"]); kind = np.concatenate(M["kind"])
        content = np.concatenate(M["content"]); parent = np.concatenate(M["parent"])
        is_brand = np.concatenate(M["brand"])
        # a few texts that need escaping, and a few carrying personal details
        cand = np.flatnonzero(~is_brand & np.isin(kind, ["comment", "community_post", "dm", "support", "mention"]))
        n_tricky = max(len(B.TRICKY_TEXTS), cand.size // 400)
        n_pii = max(len(B.PII_TEXTS), cand.size // 600)
        chosen = rng.choice(cand, size=min(n_tricky + n_pii, cand.size), replace=False)
        text[chosen[:n_tricky]] = np.resize(np.array(B.TRICKY_TEXTS, dtype=object), n_tricky)
        text[chosen[n_tricky:]] = np.resize(np.array(B.PII_TEXTS, dtype=object), chosen.size - n_tricky)
        # ids in time order
        order = np.argsort(t, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        ids = _str_ids("M", np.arange(order.size) + 1, 8)
        par = parent[order]
        tab = pa.table({
            "message_id": ids,
            "author_id": _take(self.person_ids_with_brand, author[order] + 1),
            "ts": _ts(t[order]),
            "text": pa.array(text[order], type=pa.string()),
            "kind": pa.array(kind[order], type=pa.string()),
            "content_id": _take(self.content_dict, content[order]),
            "parent_id": _take(ids, np.where(par >= 0, rank[np.maximum(par, 0)], -1)),
            "is_brand": pa.array(is_brand[order]),
        })
        self.msg_people = np.unique(author[~is_brand])
        return tab

    # ---------------------------------------------------------------- survey responses
    def responses(self) -> pa.Table:
        rng = self.rng
        T = B.THEME_PHRASES
        R: dict[str, list] = {k: [] for k in ("cust", "t", "survey", "score", "comment", "touch")}

        def add(cust, t, survey, score, comment, touch):
            ok = t < _N_DAYS
            R["cust"].append(cust[ok]); R["t"].append(t[ok])
            R["survey"].append(np.full(ok.sum(), survey, dtype=object))
            R["score"].append(score[ok].astype(np.float64)); R["comment"].append(comment[ok])
            R["touch"].append(np.full(ok.sum(), touch, dtype=object))

        def phrase(theme: str, mask: np.ndarray) -> np.ndarray:
            out = np.full(mask.size, "", dtype=object)
            out[mask] = _choice_texts(rng, T[theme], int(mask.sum()))
            return out

        def compose(themes: list[tuple[str, np.ndarray]], score01: np.ndarray, has_comment: np.ndarray):
            m = score01.size
            body = np.full(m, "", dtype=object)
            # random order of the theme sentences: shuffle the list per call, and flip half the rows
            parts = [phrase(name, mask) for name, mask in themes]
            flip = rng.random(m) < 0.5
            for p in parts:
                body = np.where(flip, p + " " + body, body + " " + p)
            empty = np.array([len(x.strip()) == 0 for x in body])
            gen = np.where(score01 >= 0.75, _choice_texts(rng, B.GENERIC_GOOD, m),
                           np.where(score01 >= 0.5, _choice_texts(rng, B.GENERIC_MEH, m),
                                    _choice_texts(rng, B.GENERIC_BAD, m)))
            add_generic = empty | (rng.random(m) < 0.25)
            body = np.where(add_generic, body + " " + gen, body)
            body = pd.Series(body).str.split().str.join(" ").to_numpy(object)
            opener = _choice_texts(rng, B.OPENERS, m)
            text = [(o + (b[:1].lower() + b[1:] if o.endswith(", ") and b[1:2].islower()
                     and not b.startswith("Priya") else b)
                     + c).strip() for o, b, c in zip(opener, body, _choice_texts(rng, B.CLOSERS, m))]
            # people type differently: all lower case, no final full stop, an exclamation mark
            style = rng.random(m)
            text = [x.lower() if u < 0.12 else x[:-1] if u < 0.22 and x.endswith(".")
                    else x[:-1] + "!" if u < 0.27 and x.endswith(".") else x for x, u in zip(text, style)]
            return np.where(has_comment, np.array(text, dtype=object), None)

        learner = self.learner
        # NPS after purchase
        no = self.o_cust.size
        oi = np.flatnonzero(rng.random(no) < 0.33)
        cust = self.o_cust[oi]
        late = self.o_late[oi]
        nav = rng.random(oi.size) < 0.12
        qbad = rng.random(oi.size) < 0.06
        sup_contact = np.isin(oi, self.support_order)
        helpful = sup_contact & (rng.random(oi.size) < 0.8)
        score = (8.9 + 1.1 * rng.standard_normal(oi.size) + 0.5 * learner[cust] - 4.2 * late - 2.6 * nav
                 - 3.0 * qbad + 1.5 * helpful - 3.0 * (sup_contact & ~helpful))
        score = np.clip(np.round(score), 0, 10)
        prom = score >= 9
        hc = rng.random(oi.size) < np.where(score <= 6, 0.75, 0.55)
        r = lambda p: rng.random(oi.size) < p  # noqa: E731
        themes = [("shipping", late & r(0.85)), ("navigation", nav & r(0.85)), ("quality_bad", qbad & r(0.8)),
                  ("support", (helpful & r(0.85)) | (prom & r(0.4))), ("quality", prom & r(0.3)),
                  ("packaging", prom & r(0.18))]
        add(cust, self.o_ts[oi] + 4 + 8 * rng.random(oi.size), "nps", score,
            compose(themes, score / 10, hc), "post_purchase")

        # NPS at onboarding (a week after the first click)
        ob = np.flatnonzero(rng.random(self.n) < 0.05 * self.f)
        nav = rng.random(ob.size) < 0.2
        score = np.clip(np.round(8.0 + 1.3 * rng.standard_normal(ob.size) - 2.8 * nav + 0.6 * learner[ob]), 0, 10)
        hc = rng.random(ob.size) < 0.5
        r = lambda p: rng.random(ob.size) < p  # noqa: E731
        themes = [("navigation", nav & r(0.85)), ("support", (score >= 9) & r(0.15))]
        t = self.t0[ob] + 3 + 7 * rng.random(ob.size)
        add(ob, t, "nps", score, compose(themes, score / 10, hc), "onboarding")

        # CSAT after a support contact
        si = np.flatnonzero(rng.random(self.support_order.size) < 0.5)
        oi = self.support_order[si]
        helpful = rng.random(si.size) < 0.8
        score = np.where(helpful, rng.choice([4, 5], si.size, p=[0.35, 0.65]),
                         rng.choice([1, 2, 3], si.size, p=[0.4, 0.35, 0.25]))
        late = self.o_late[oi]
        r = lambda p: rng.random(si.size) < p  # noqa: E731
        themes = [("support", helpful & r(0.85)), ("shipping", late & ~helpful & r(0.85)),
                  ("navigation", ~helpful & ~late & r(0.3))]
        add(self.o_cust[oi], self.support_t[si] + 1 + 2 * rng.random(si.size), "csat", score.astype(float),
            compose(themes, (score - 1) / 4, r(0.6)), "support")

        # CES right after the first order (7 = very easy)
        fo = np.flatnonzero(self.o_first & (rng.random(no) < 0.25))
        nav = rng.random(fo.size) < 0.22
        score = np.clip(np.round(np.where(nav, 3.0, 6.0) + 0.9 * rng.standard_normal(fo.size)), 1, 7)
        r = lambda p: rng.random(fo.size) < p  # noqa: E731
        themes = [("navigation", nav & r(0.85))]
        add(self.o_cust[fo], self.o_ts[fo] + (10 / 1440) + rng.random(fo.size), "ces", score,
            compose(themes, (score - 1) / 6, r(0.45)), "checkout")

        cust = np.concatenate(R["cust"]); t = np.concatenate(R["t"])
        order = np.argsort(t, kind="stable")
        return pa.table({
            "response_id": _str_ids("R", np.arange(order.size) + 1, 8),
            "customer_id": _take(self.person_ids, cust[order]),
            "ts": _ts(t[order]),
            "survey": pa.array(np.concatenate(R["survey"])[order], type=pa.string()),
            "score": pa.array(np.concatenate(R["score"])[order], type=pa.float64()),
            "comment": pa.array(np.concatenate(R["comment"])[order], type=pa.string()),
            "touchpoint": pa.array(np.concatenate(R["touch"])[order], type=pa.string()),
        })

    # ---------------------------------------------------------------- assembly
    def run(self) -> dict[str, pd.DataFrame]:
        rng = self.rng
        P = self.n + self.n_audience
        self.person_bytes = _fixed_ids("C", rng.permutation(P) + 1, 7)
        self.person_ids = _fixed_strings(self.person_bytes, np.arange(P))
        self.person_ids_with_brand = pa.concat_arrays(
            [pa.array([B.BRAND_AUTHOR_ID], type=pa.large_string()), self.person_ids])
        self.content_dict = pa.array(self.content_ids, type=pa.string())
        self.people()
        self.purchases()
        self.sessions()
        self.deep_events()
        self.social()
        self.impressions()
        out = {"events": self._events_frame()}
        tables: dict[str, pa.Table] = {
            "messages": self.messages(),
            "responses": self.responses(),
            "transactions": self._transactions_table(),
            "customers": self._customers_table(),
            "content": self._content_table(),
            "campaigns": self._campaigns_table(),
            **experiment_tables(out["events"], self._transactions_table(), self.rng),
        }
        for name, tab in tables.items():
            for col in TABLES[name].columns:  # optional columns the brand never fills (refund_of: no refunds)
                if col not in tab.column_names:
                    tab = tab.append_column(col, pa.nulls(tab.num_rows, pa.string()))
            out[name] = tab.select(list(TABLES[name].columns)).to_pandas()
        return {name: out[name] for name in BRAND_TABLES}

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


def generate(size: str = "small", seed: int = 0) -> dict[str, pd.DataFrame]:
    """All seven canonical tables of the Mossbrook demo brand, as pandas DataFrames.

    ``size`` is one of :data:`SIZES` (``small`` ~0.2M events, ``medium`` ~1M, ``large`` ~10M);
    the same ``seed`` always gives the same data. The calendar is fixed: 2025-05-01 to 2026-10-31 UTC.
    """
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; choose one of {', '.join(SIZES)}")
    from afterclick.demo.monitoring import plant  # the monitoring truths (docs/demo.md §11)

    return plant(_Sim(SIZES[size], seed).run(), seed)


def write_demo(folder: str | Path, size: str = "small", seed: int = 0) -> dict[str, Path]:
    """Generate the demo and write one Parquet file per table (``<table>.parquet``) into folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = generate(size, seed)
    paths: dict[str, Path] = {}
    for name in BRAND_TABLES:
        path = folder / f"{name}.parquet"
        tables.pop(name).to_parquet(path, index=False)
        paths[name] = path
    return paths
