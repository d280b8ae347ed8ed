"""Social likes, saves, shares and follows, and the impressions topped up to each campaign's
click-through rate."""

from __future__ import annotations

import numpy as np

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _CH,
    _EV,
    _N_DAYS,
    EVENTS,
    FAN_SHARE,
    FANS_PER_CLICKER,
    _tod,
)


class Social:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""

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
