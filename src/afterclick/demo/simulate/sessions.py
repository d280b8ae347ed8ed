"""Sessions and page views: acquisition, return, purchase and learning sessions, their clicks and
impressions, the pages they show, the order times, and the deep events done on those pages."""

from __future__ import annotations

import numpy as np

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _ACQ,
    _CH,
    _EV,
    _LEARN,
    _N_DAYS,
    _PURCHASE,
    _RETURN,
    _WEB_KINDS,
    REFERRAL_AFTER_DAYS,
    RESIDUAL_RATE,
    RETURN_CLICK_SHARE,
    _ragged_offsets,
    _rediurnal,
)


class Sessions:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""

    # ---------------------------------------------------------------- sessions and visits
    def sessions(self) -> None:
        cust, start, stype = self._session_starts()
        camp, has_click = self._session_clicks(cust, start, stype)
        before, first_of, last_of, dur = self._visits(cust, start, stype, camp, has_click)
        self._order_times(cust, start, stype, before, first_of, last_of, dur)

    def _session_starts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every session's customer, start and kind, in time order."""
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
        return cust, start, stype

    def _session_clicks(self, cust, start, stype) -> tuple[np.ndarray, np.ndarray]:
        """The campaign clicked to start each session (-1: none), and the clicks and impressions."""
        rng = self.rng
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
        return camp, has_click

    def _visits(self, cust, start, stype, camp, has_click) -> tuple[np.ndarray, ...]:
        """The page views of the sessions; returns where each session's pages start and end."""
        rng, S, acq = self.rng, cust.size, stype == _ACQ
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
        return before, first_of, last_of, dur

    def _order_times(self, cust, start, stype, before, first_of, last_of, dur) -> None:
        """Each order just after the last page view of its session."""
        rng, acq = self.rng, stype == _ACQ
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
