"""The messages people write: comments, community threads, direct messages, mentions, support
contacts and reviews, with the brand's replies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from afterclick.demo import brand as B
from afterclick.demo.simulate.common import (
    _N_DAYS,
    _choice_texts,
    _ragged_offsets,
    _rediurnal,
    _str_ids,
    _take,
    _ts,
)


class _Written:
    """The messages written so far, column by column; ``add`` returns the new messages' numbers."""

    COLUMNS = ("author", "t", "text", "kind", "content", "parent", "brand")

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.cols: dict[str, list] = {k: [] for k in self.COLUMNS}
        self.n = 0

    def add(self, author, t, text, kind, content=-1, parent=-1, brand=False) -> np.ndarray:
        m = np.asarray(t).size
        ids = np.arange(self.n, self.n + m)
        self.n += m
        M = self.cols
        M["author"].append(np.broadcast_to(np.asarray(author, dtype=np.int64), (m,)).copy())
        M["t"].append(np.asarray(t, dtype=np.float64))
        M["text"].append(np.asarray(text, dtype=object))
        M["kind"].append(np.full(m, kind, dtype=object))
        M["content"].append(np.broadcast_to(np.asarray(content, dtype=np.int64), (m,)).copy())
        M["parent"].append(np.broadcast_to(np.asarray(parent, dtype=np.int64), (m,)).copy())
        M["brand"].append(np.full(m, brand))
        return ids

    def brand_reply(self, parent_ids, parent_t, share, median_h, texts, kind, content=-1):
        """The brand answers a ``share`` of the messages after a log-normal delay (median in hours)."""
        rng = self.rng
        hit = np.flatnonzero(rng.random(parent_ids.size) < share)
        t = parent_t[hit] + rng.lognormal(np.log(median_h), 0.9, hit.size) / 24
        # the team answers 07:00-22:00; night-time replies wait for the morning
        hour = (t - np.floor(t)) * 24
        morning = (7 + 2 * rng.random(t.size)) / 24
        t = np.where(hour >= 22, np.floor(t) + 1 + morning, np.where(hour < 7, np.floor(t) + morning, t))
        ok = t < _N_DAYS
        hit, t = hit[ok], t[ok]
        cont = content[hit] if isinstance(content, np.ndarray) else content
        return self.add(-1, t, _choice_texts(rng, texts, hit.size), kind, cont, parent_ids[hit], True), t


class Messages:
    """Part of the demo's simulation (a mixin of ``afterclick.demo.generator._Sim``)."""

    def messages(self) -> pa.Table:
        w = _Written(self.rng)
        self._comments(w)
        self._conversations(w)
        self._about_orders(w)
        return self._message_table(w)

    def _comments(self, w: _Written) -> None:
        """Comments on content, a share answered by the brand."""
        rng, sc = self.rng, self.scale
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
            ids = w.add(who, t, texts, "comment", j)
            w.brand_reply(ids, t, 0.3, 3.0, B.BRAND_REPLIES, "reply", j)

    def _conversations(self, w: _Written) -> None:
        """Community threads (members answer, the poster thanks), direct messages, mentions."""
        rng = self.rng
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
        post_ids = w.add(op, t, _choice_texts(rng, B.COMMUNITY_POSTS, op.size), "community_post")
        n_rep = rng.poisson(1.6, op.size)
        own, pos = _ragged_offsets(n_rep)
        rt = t[own] + (5 / 1440) + rng.exponential(8 / 24, own.size) * (1 + pos)
        rw = self._pick_active(rt, rounds=20)
        ok = (rw >= 0) & (rw != op[own]) & (rt < _N_DAYS)
        own, rt, rw, pos = own[ok], rt[ok], rw[ok], pos[ok]
        rep_ids = w.add(rw, rt, _choice_texts(rng, B.MEMBER_REPLIES, own.size), "reply", -1, post_ids[own])
        # the original poster thanks the first member who answered
        first_rep = np.unique(own, return_index=True)[1]
        thank = first_rep[rng.random(first_rep.size) < 0.35]
        tt = rt[thank] + rng.exponential(6 / 24, thank.size)
        okt = tt < _N_DAYS
        thank, tt = thank[okt], tt[okt]
        w.add(op[own[thank]], tt, _choice_texts(rng, B.OP_THANKS, thank.size), "reply", -1, rep_ids[thank])
        w.brand_reply(post_ids, t, 0.5, 3.5, B.BRAND_REPLIES, "reply")

        # direct messages asking for advice
        who, t = per_person(0.0015 * self.f)
        ids = w.add(who, t, _choice_texts(rng, B.DMS, who.size), "dm")
        w.brand_reply(ids, t, 0.9, 2.0, B.BRAND_DM_REPLIES, "dm")

        # mentions
        who, t = per_person(0.0008 * self.f)
        w.add(who, t, _choice_texts(rng, B.MENTIONS, who.size), "mention")

    def _about_orders(self, w: _Written) -> None:
        """Support contacts (late deliveries the usual reason) and reviews of product pages."""
        rng = self.rng
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
        sup_ids = w.add(self.o_cust[ci], tc, texts, "support")
        _, reply_t = w.brand_reply(sup_ids, tc, 0.97, 5.0, B.BRAND_SUPPORT_REPLIES, "support")
        self.support_order, self.support_t = ci, tc

        # reviews of product pages
        ri = np.flatnonzero(rng.random(no) < 0.08)
        tr = self.o_ts[ri] + 7 + 13 * rng.random(ri.size)
        okr = tr < _N_DAYS
        ri, tr = ri[okr], tr[okr]
        bad = self.o_late[ri] & (rng.random(ri.size) < 0.7)
        texts = np.where(bad, _choice_texts(rng, B.REVIEWS_BAD, ri.size), _choice_texts(rng, B.REVIEWS_GOOD, ri.size))
        page = self.product_pages[rng.integers(0, self.product_pages.size, ri.size)]
        w.add(self.o_cust[ri], tr, texts, "review", page)

    def _message_table(self, w: _Written) -> pa.Table:
        rng = self.rng
        author, t, text, kind, content, parent, is_brand = (np.concatenate(w.cols[k]) for k in _Written.COLUMNS)
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
