"""Emotional resonance: does content move people to act deeply, or only to tap a heart?

The text-based signals (sentiment, gratitude, personal stories) arrive with the text scorer; the
behavioural ones are here.
"""

from __future__ import annotations

import ibis

from afterclick.core.texts import DEFAULT_SCORER, left_out_facts, left_out_notes
from afterclick.kpis._common import (
    DEEP,
    ENGAGED,
    content_event_counts,
    events,
    in_period,
    period_index,
    period_start,
    safe_ratio,
)
from afterclick.kpis.base import Computation, Params, Tables, block, kpi, measure
from afterclick.results import Direction, Family, MeasureKind, Unit

SHALLOW = ("click", "like", "follow")


@kpi("resonance.depth_ratio", name="Depth ratio (deep / shallow)", family=Family.RESONANCE,
     unit=Unit.RATIO, direction=Direction.HIGHER, uses=("content",))
def depth_ratio(t: Tables, p: Params) -> Computation:
    """Depth ratio = deep interactions / shallow interactions on content.

    Deep: save, share, download, signup, subscribe, lead, referral, review_read, tutorial_view;
    shallow: click, like, follow; only events that name a ``content_id`` count. NULL when there
    is no shallow interaction. Rows per content item, with likes, saves, downloads and shares,
    so a post with many likes and nothing deeper stands beside a guide people keep.
    """
    c = content_event_counts(t, p)
    zero = ibis.literal(0).cast("int64")

    def n(cond):
        return ibis.ifelse(cond, c.n, zero).sum()

    deep, shallow = c.event.isin(DEEP), c.event.isin(SHALLOW)
    rows = c.group_by("content_id").aggregate(
        shallow=n(shallow), deep=n(deep), likes=n(c.event == "like"), saves=n(c.event == "save"),
        downloads=n(c.event == "download"), shares=n(c.event == "share"),
    )
    rows = rows.filter((rows.shallow + rows.deep) > 0)
    rows = rows.mutate(depth_ratio=safe_ratio(rows.deep, rows.shallow))
    value = safe_ratio(n(deep).fill_null(0), n(shallow).fill_null(0))
    if "content" in t:
        info = t["content"]
        rows = rows.left_join(info, "content_id").select(rows, title=info.title, kind=info.kind)
    # the most-liked first, so a report's first rows show the vanity leaders beside their depth
    return Computation(value=value, rows=rows, order_by=("-likes", "-deep", "content_id"))


@measure("resonance.depth_ratio", MeasureKind.RATIO)
def _depth_per_customer(t: Tables, p: Params):
    """Per customer with an event on a content item: num = deep events, den = shallow events."""
    ev = events(t, p)
    ev = ev.filter(ev.content_id.notnull() & ev.event.isin((*DEEP, *SHALLOW)))
    return ev.group_by("customer_id").aggregate(num=ev.event.isin(DEEP).cast("int64").sum(),
                                                den=ev.event.isin(SHALLOW).cast("int64").sum())


# ------------------------------------------------------------------------------ what people write
# Scores come from the derived table ``text_scores`` (afterclick.text: VADER sentiment and the
# relationship signals, one row per message, computed once and kept in the store).

#: A message shows a signal when its probability is at least this.
SIGNAL_THRESHOLD = 0.5


def scored_messages(t: Tables, p: Params, *, left_out: bool = False):
    """Customer messages of the period (not the brand's) with their stored scores; with
    ``left_out``, also those the scorer left out (another language: NULL scores)."""
    m = _scored_messages(t, p)
    return m if left_out else m.filter(m.not_scored.isnull())


@block
def _scored_messages(t: Tables, p: Params):
    """Customer messages of the period with their scores: author_id, ts, content_id and every
    score column. Not the text, kind or ids: the block is written out as a table and no KPI
    reads them."""
    m = in_period(t["messages"], p)
    m = m.filter(~m.is_brand.fill_null(False)).select("message_id", "author_id", "ts", "content_id")
    s = t["text_scores"]
    s = s.filter((s.source == "messages") & (s.scorer == DEFAULT_SCORER)).drop("source", "scorer")
    return m.join(s, m.message_id == s.text_id).drop("text_id", "message_id")


def language_notes(t: Tables, p: Params) -> dict:
    """Notes on the messages left out as another language (afterclick.core.texts)."""
    return dict(facts=left_out_facts(scored_messages(t, p, left_out=True)), explain=left_out_notes)


@kpi("resonance.message_sentiment", name="Sentiment of customer messages", family=Family.RESONANCE,
     unit=Unit.SCORE, direction=Direction.HIGHER, requires=("messages", "text_scores"))
def message_sentiment(t: Tables, p: Params) -> Computation:
    """Mean sentiment of customers' messages, from -1 (negative) to +1 (positive).

    Sentiment is VADER's compound score (Hutto & Gilbert 2014); a message is positive at
    >= 0.05 and negative at <= -0.05 (VADER's own thresholds). Rows per month with the shares
    of positive and negative messages.
    """
    m = scored_messages(t, p)
    rows = m.group_by(period=m.ts.truncate("M")).aggregate(
        messages=m.count(), sentiment=m.sentiment.mean(),
        positive=(m.sentiment >= 0.05).cast("int64").sum(), negative=(m.sentiment <= -0.05).cast("int64").sum())
    rows = rows.mutate(positive_share=safe_ratio(rows.positive, rows.messages),
                       negative_share=safe_ratio(rows.negative, rows.messages))
    return Computation(value=m.sentiment.mean(), rows=rows, order_by=("period",), **language_notes(t, p))


def _signal_rate(t: Tables, p: Params, signal: str) -> Computation:
    m = scored_messages(t, p)
    hit = (m[signal] >= SIGNAL_THRESHOLD).cast("int64")
    rows = m.group_by(period=m.ts.truncate("M")).aggregate(messages=m.count(), **{signal: hit.sum()})
    rows = rows.mutate(rate=safe_ratio(rows[signal], rows.messages))
    return Computation(value=safe_ratio(hit.sum(), m.count()), rows=rows, order_by=("period",),
                       **language_notes(t, p))


@kpi("resonance.gratitude_rate", name="Gratitude rate", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("messages", "text_scores"))
def gratitude_rate(t: Tables, p: Params) -> Computation:
    """Gratitude rate = customer messages expressing thanks ("this really helped me") / customer
    messages; a message counts when its gratitude probability is >= 0.5. Rows per month."""
    return _signal_rate(t, p, "gratitude")


@kpi("resonance.personal_story_rate", name="Personal-story rate", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("messages", "text_scores"))
def personal_story_rate(t: Tables, p: Params) -> Computation:
    """Personal-story rate = customer messages telling something of the writer's own life
    ("my grandmother gave me this fern") / customer messages (probability >= 0.5). Rows per month."""
    return _signal_rate(t, p, "personal_story")


@kpi("resonance.thoughtful_rate", name="Thoughtful-comment rate", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("messages", "text_scores"))
def thoughtful_rate(t: Tables, p: Params) -> Computation:
    """Thoughtful-comment rate = substantive customer messages (about 12 or more distinct words,
    probability >= 0.5) / customer messages: sentences, not a one-word reaction. Rows per month."""
    return _signal_rate(t, p, "thoughtful")


@block
def content_events_per_month(t: Tables, p: Params):
    """Events that name a content item, per calendar month (``period``) and event: n. One pass
    over the events for the save and share rates, their headline and their rows."""
    ev = events(t, p)
    ev = ev.filter(ev.content_id.notnull())
    # grouped on the month's number, truncated once per group: truncating every event cost more
    c = ev.group_by(idx=period_index(ev.ts, "month"), event=ev.event).aggregate(
        period=period_start(ev.ts.min(), "month"), n=ev.count())
    return c.drop("idx")


def _event_rate(t: Tables, p: Params, name: str) -> Computation:
    c = content_events_per_month(t, p)
    zero = ibis.literal(0, "int64")
    num = ibis.ifelse(c.event == name, c.n, zero)
    den = ibis.ifelse(c.event.isin(ENGAGED), c.n, zero)
    rows = c.group_by("period").aggregate(**{f"{name}s": num.sum()}, interactions=den.sum())
    rows = rows.mutate(rate=safe_ratio(rows[f"{name}s"], rows.interactions))
    return Computation(value=safe_ratio(num.sum(), den.sum()), rows=rows, order_by=("period",))


def _event_rate_per_customer(t: Tables, p: Params, name: str):
    ev = events(t, p)
    ev = ev.filter(ev.content_id.notnull())
    return ev.group_by("customer_id").aggregate(num=(ev.event == name).cast("int64").sum(),
                                                den=ev.event.isin(ENGAGED).cast("int64").sum())


@kpi("resonance.save_rate", name="Save rate", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER)
def save_rate(t: Tables, p: Params) -> Computation:
    """Save rate = ``save`` events on content / shallow interactions and visits on content
    (click, like, follow, visit with a ``content_id``): how often attention turns into keeping
    something for later. Rows per month."""
    return _event_rate(t, p, "save")


@kpi("resonance.share_rate", name="Share rate", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER)
def share_rate(t: Tables, p: Params) -> Computation:
    """Share rate = ``share`` events on content / shallow interactions and visits on content
    (click, like, follow, visit with a ``content_id``). Rows per month."""
    return _event_rate(t, p, "share")


@measure("resonance.save_rate", MeasureKind.RATIO)
def _saves_per_customer(t: Tables, p: Params):
    """Per customer with an event on content: num = saves, den = shallow interactions and visits on content."""
    return _event_rate_per_customer(t, p, "save")


@measure("resonance.share_rate", MeasureKind.RATIO)
def _shares_per_customer(t: Tables, p: Params):
    """Per customer with an event on content: num = shares, den = shallow interactions and visits on content."""
    return _event_rate_per_customer(t, p, "share")


@kpi("resonance.content_resonance", name="Resonance per content", family=Family.RESONANCE, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("messages", "text_scores"), uses=("events", "content"), headline=False,
     value_label="Gratitude rate of comments on content")
def content_resonance(t: Tables, p: Params) -> Computation:
    """Per content item: what its comments say beside what people did with it.

    Comments (customer messages with that ``content_id``), their mean sentiment, gratitude and
    thoughtful rates (probability >= 0.5), and the depth ratio (deep / shallow interactions, as
    ``resonance.depth_ratio``). The value is the gratitude rate over all comments on content.
    """
    m = scored_messages(t, p)
    m = m.filter(m.content_id.notnull())
    g = (m.gratitude >= SIGNAL_THRESHOLD).cast("int64")
    th = (m.thoughtful >= SIGNAL_THRESHOLD).cast("int64")
    text = m.group_by("content_id").aggregate(comments=m.count(), sentiment=m.sentiment.mean(),
                                              grateful=g.sum(), thoughtful=th.sum())
    if "events" in t:
        c = content_event_counts(t, p)  # the depth ratio's per-item counts: no pass over the events
        zero = ibis.literal(0, "int64")
        acts = c.group_by(cid=c.content_id).aggregate(
            deep=ibis.ifelse(c.event.isin(DEEP), c.n, zero).sum(),
            shallow=ibis.ifelse(c.event.isin(SHALLOW), c.n, zero).sum())
        rows = text.left_join(acts, text.content_id == acts.cid).drop("cid")
        rows = rows.mutate(deep=rows.deep.fill_null(0), shallow=rows.shallow.fill_null(0))
    else:  # no behaviour stored: the depth ratio stays empty
        rows = text.mutate(deep=ibis.null().cast("int64"), shallow=ibis.null().cast("int64"))
    rows = rows.mutate(gratitude_rate=safe_ratio(rows.grateful, rows.comments),
                       thoughtful_rate=safe_ratio(rows.thoughtful, rows.comments),
                       depth_ratio=safe_ratio(rows.deep, rows.shallow))
    if "content" in t:
        c = t["content"]
        rows = rows.left_join(c, rows.content_id == c.content_id).select(rows, title=c.title, kind=c.kind)
    return Computation(value=safe_ratio(g.sum(), m.count()), rows=rows, order_by=("-comments", "content_id"),
                       **language_notes(t, p))
