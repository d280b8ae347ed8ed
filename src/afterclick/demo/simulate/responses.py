"""Survey responses: NPS after purchase and at onboarding, CSAT after support, CES after a first
order, with open answers built from the themes of the catalogue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _N_DAYS,
    _choice_texts,
    _str_ids,
    _take,
    _ts,
)


class _Answers:
    """The survey answers collected so far, and how their open comments are written."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.R: dict[str, list] = {k: [] for k in ("cust", "t", "survey", "score", "comment", "touch")}

    def add(self, cust, t, survey, score, comment, touch):
        ok = t < _N_DAYS
        self.R["cust"].append(cust[ok]); self.R["t"].append(t[ok])
        self.R["survey"].append(np.full(ok.sum(), survey, dtype=object))
        self.R["score"].append(score[ok].astype(np.float64)); self.R["comment"].append(comment[ok])
        self.R["touch"].append(np.full(ok.sum(), touch, dtype=object))

    def phrase(self, theme: str, mask: np.ndarray) -> np.ndarray:
        out = np.full(mask.size, "", dtype=object)
        out[mask] = _choice_texts(self.rng, B.THEME_PHRASES[theme], int(mask.sum()))
        return out

    def compose(self, themes: list[tuple[str, np.ndarray]], score01: np.ndarray, has_comment: np.ndarray):
        m = score01.size
        body = np.full(m, "", dtype=object)
        # random order of the theme sentences: shuffle the list per call, and flip half the rows
        parts = [self.phrase(name, mask) for name, mask in themes]
        flip = self.rng.random(m) < 0.5
        for p in parts:
            body = np.where(flip, p + " " + body, body + " " + p)
        empty = np.array([len(x.strip()) == 0 for x in body])
        gen = np.where(score01 >= 0.75, _choice_texts(self.rng, B.GENERIC_GOOD, m),
                       np.where(score01 >= 0.5, _choice_texts(self.rng, B.GENERIC_MEH, m),
                                _choice_texts(self.rng, B.GENERIC_BAD, m)))
        add_generic = empty | (self.rng.random(m) < 0.25)
        body = np.where(add_generic, body + " " + gen, body)
        body = pd.Series(body).str.split().str.join(" ").to_numpy(object)
        opener = _choice_texts(self.rng, B.OPENERS, m)
        text = [(o + (b[:1].lower() + b[1:] if o.endswith(", ") and b[1:2].islower()
                 and not b.startswith("Priya") else b)
                 + c).strip() for o, b, c in zip(opener, body, _choice_texts(self.rng, B.CLOSERS, m))]
        # people type differently: all lower case, no final full stop, an exclamation mark
        style = self.rng.random(m)
        text = [x.lower() if u < 0.12 else x[:-1] if u < 0.22 and x.endswith(".")
                else x[:-1] + "!" if u < 0.27 and x.endswith(".") else x for x, u in zip(text, style)]
        return np.where(has_comment, np.array(text, dtype=object), None)


class Responses:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""

    def responses(self) -> pa.Table:
        a = _Answers(self.rng)
        self._nps_after_purchase(a)
        self._nps_at_onboarding(a)
        self._csat_after_support(a)
        self._ces_after_first_order(a)
        return self._response_table(a)

    def _nps_after_purchase(self, a: _Answers) -> None:
        rng, learner = self.rng, self.learner
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
        a.add(cust, self.o_ts[oi] + 4 + 8 * rng.random(oi.size), "nps", score,
            a.compose(themes, score / 10, hc), "post_purchase")

    def _nps_at_onboarding(self, a: _Answers) -> None:
        rng, learner = self.rng, self.learner
        # NPS at onboarding (a week after the first click)
        ob = np.flatnonzero(rng.random(self.n) < 0.05 * self.f)
        nav = rng.random(ob.size) < 0.2
        score = np.clip(np.round(8.0 + 1.3 * rng.standard_normal(ob.size) - 2.8 * nav + 0.6 * learner[ob]), 0, 10)
        hc = rng.random(ob.size) < 0.5
        r = lambda p: rng.random(ob.size) < p  # noqa: E731
        themes = [("navigation", nav & r(0.85)), ("support", (score >= 9) & r(0.15))]
        t = self.t0[ob] + 3 + 7 * rng.random(ob.size)
        a.add(ob, t, "nps", score, a.compose(themes, score / 10, hc), "onboarding")

    def _csat_after_support(self, a: _Answers) -> None:
        rng = self.rng
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
        a.add(self.o_cust[oi], self.support_t[si] + 1 + 2 * rng.random(si.size), "csat", score.astype(float),
            a.compose(themes, (score - 1) / 4, r(0.6)), "support")

    def _ces_after_first_order(self, a: _Answers) -> None:
        rng, no = self.rng, self.o_cust.size
        # CES right after the first order (7 = very easy)
        fo = np.flatnonzero(self.o_first & (rng.random(no) < 0.25))
        nav = rng.random(fo.size) < 0.22
        score = np.clip(np.round(np.where(nav, 3.0, 6.0) + 0.9 * rng.standard_normal(fo.size)), 1, 7)
        r = lambda p: rng.random(fo.size) < p  # noqa: E731
        themes = [("navigation", nav & r(0.85))]
        a.add(self.o_cust[fo], self.o_ts[fo] + (10 / 1440) + rng.random(fo.size), "ces", score,
            a.compose(themes, (score - 1) / 6, r(0.45)), "checkout")

    def _response_table(self, a: _Answers) -> pa.Table:
        cust = np.concatenate(a.R["cust"]); t = np.concatenate(a.R["t"])
        order = np.argsort(t, kind="stable")
        return pa.table({
            "response_id": _str_ids("R", np.arange(order.size) + 1, 8),
            "customer_id": _take(self.person_ids, cust[order]),
            "ts": _ts(t[order]),
            "survey": pa.array(np.concatenate(a.R["survey"])[order], type=pa.string()),
            "score": pa.array(np.concatenate(a.R["score"])[order], type=pa.float64()),
            "comment": pa.array(np.concatenate(a.R["comment"])[order], type=pa.string()),
            "touchpoint": pa.array(np.concatenate(a.R["touch"])[order], type=pa.string()),
        })
