"""The people who click: their campaigns, engagement and interest (the catalogue as arrays), and
their purchases under BG/NBD with Gamma-Gamma order values."""

from __future__ import annotations

import numpy as np

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _CH,
    _N_DAYS,
    _PUBLISH_HOUR,
    BGNBD,
    GAMMA_GAMMA,
    LEARNER_EFFECT,
    SESSION_RATE,
    _day,
    _ragged_offsets,
    _rediurnal,
    _tod,
)


class People:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""

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
