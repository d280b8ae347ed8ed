"""Community: is there one? People taking part, coming back, creating, and answering each other.

Everything here reads the ``messages`` table. A **member** is any author whose message is not the
brand's (``is_brand`` false or missing). **Public** messages are every kind except the private
``dm`` and ``support`` conversations with the brand (a message without a kind counts as public).
A **reply** is a public message with a ``parent_id`` naming a message in the table (replies
whose parent is unknown are left out). Periods follow the ``grain`` parameter (Monday weeks by
default, or calendar months); headlines read the last complete period, the last that ends by the
last message's day. Events are read only where stored (the engagement levels weigh deep
interactions too).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import (
    DEEP,
    data_bounds,
    epoch_s,
    events,
    in_last_complete_period,
    in_period,
    last_complete_period,
    period_index,
    period_start,
    safe_ratio,
)
from afterclick.kpis.base import Analysis, Computation, Params, Tables, block, kpi
from afterclick.results import Direction, Family, Unit

PRIVATE_KINDS = ("dm", "support")
#: Kinds that are a member's own creation rather than a reaction to someone else's.
UGC_KINDS = ("community_post", "review")

#: Orbit-style activity weights (per message or event) over the last 90 days.
MESSAGE_WEIGHTS = {"community_post": 5, "reply": 3, "review": 3, "comment": 2, "mention": 2}
#: A public message of another (or no) kind.
OTHER_MESSAGE_WEIGHT = 1
EVENT_WEIGHTS = {"referral": 3, "share": 2, **{e: 1 for e in DEEP if e not in ("referral", "share")}}
LEVEL_WINDOWS = 3  # the month and the two before; presence: months of the three with activity
#: (level, name, minimum weighted activity, minimum presence), highest first.
LEVELS = (
    (1, "advocates", 30, 3),
    (2, "contributors", 10, 2),
    (3, "participants", 3, 1),
    (4, "observers", 1, 1),
)


# ------------------------------------------------------------------------------ building blocks


def _messages(t: Tables, p: Params) -> ir.Table:
    """Messages of the review period, with ``brand`` (never NULL), ``public``, ``idx``, ``period``."""
    m = in_period(t["messages"], p)
    return m.mutate(
        brand=m.is_brand.fill_null(False),
        public=m.kind.isnull() | ~m.kind.isin(PRIVATE_KINDS),
        idx=period_index(m.ts, p.grain),
        period=period_start(m.ts, p.grain),
    )


def _headline(rows: ir.Table, t: Tables, p: Params) -> ir.Table:
    last = last_complete_period(t, p, table="messages")
    return rows.cross_join(last).filter(lambda r: r.idx == r.last_idx)


@block
def participation(t: Tables, p: Params) -> ir.Table:
    """Per period: participants, new ones, repeat ones (also in the previous period), UGC creators."""

    m = _messages(t, p)
    m = m.filter(m.public & ~m.brand)
    per = m.group_by(["author_id", "idx", "period"]).aggregate(
        ugc=m.kind.isin(UGC_KINDS).fill_null(False).cast("int64").sum()
    )
    w = ibis.window(group_by=per.author_id, order_by=per.idx)
    per = per.mutate(prev=per.idx.lag().over(w))
    rows = per.group_by(["idx", "period"]).aggregate(
        participants=per.count(),
        new_participants=per.prev.isnull().cast("int64").sum(),
        repeat_participants=(per.prev == per.idx - 1).fill_null(False).cast("int64").sum(),
        ugc_creators=(per.ugc > 0).cast("int64").sum(),
    )
    return rows.mutate(repeat_share=safe_ratio(rows.repeat_participants, rows.participants))


@block
def replies(t: Tables, p: Params) -> ir.Table:
    """Public replies of the period joined to the message they answer (from the whole table).

    Columns: author_id, brand, parent_author, parent_brand, idx, period, m2m (member answering
    another member).
    """

    m = _messages(t, p)
    r = m.filter(m.public & m.parent_id.notnull())
    allm = t["messages"]
    par = allm.select(pid=allm.message_id, parent_author=allm.author_id,
                      parent_brand=allm.is_brand.fill_null(False))
    j = r.join(par, r.parent_id == par.pid).select(
        "author_id", "brand", "parent_author", "parent_brand", "idx", "period",
    )
    return j.mutate(m2m=~j.brand & ~j.parent_brand & (j.author_id != j.parent_author))


@block
def first_responses(t: Tables, p: Params) -> ir.Table:
    """Members' top-level messages of the period and the brand's first direct answer, if any.

    Columns: message_id, kind, idx, period, answered (bool), response_s (NULL when unanswered).
    """

    m = _messages(t, p)
    top = m.filter(m.parent_id.isnull() & ~m.brand)
    allm = t["messages"]
    b = allm.filter(allm.is_brand.fill_null(False) & allm.parent_id.notnull())
    first = b.group_by(pid=b.parent_id).aggregate(first_ts=b.ts.min())
    j = top.left_join(first, top.message_id == first.pid).select(
        top.message_id, kind=top.kind.fill_null("(none)"), idx=top.idx, period=top.period,
        response_s=epoch_s(first.first_ts) - epoch_s(top.ts),
    )
    return j.mutate(answered=j.response_s.notnull())


# ------------------------------------------------------------------------------ KPIs


def _kpi(id: str, name: str, unit: Unit, direction: Direction = Direction.HIGHER, **kw):
    return kpi(id, name=name, family=Family.COMMUNITY, unit=unit, direction=direction,
               requires=("messages",), **kw)


@_kpi("community.active_participants", "Active community participants", Unit.COUNT, span="last_complete")
def active_participants(t: Tables, p: Params) -> Computation:
    """Active participants = distinct members with a public message in the period.

    Members are non-brand authors; public messages are all kinds but ``dm`` and ``support``.
    Rows per period (week by default) with new participants (first message in the data), repeat
    participants and UGC creators. Headline: the last complete period.
    """
    rows = participation(t, p)
    value = _headline(rows, t, p).participants.max()
    return Computation(value=value, rows=rows.drop("idx"), order_by=("period",))


@_kpi("community.repeat_participants", "Repeat participants", Unit.FRACTION, span="last_complete")
def repeat_participants(t: Tables, p: Params) -> Computation:
    """Repeat share = participants of a period who also took part in the previous one / participants.

    Taking part = a public message by a member (as for active participants). A community exists
    when the same people come back to talk. Rows per period; headline: the last complete period.
    """
    rows = participation(t, p)
    value = _headline(rows, t, p).repeat_share.max()
    return Computation(
        value=value,
        rows=rows.select("period", "participants", "repeat_participants", "repeat_share"),
        order_by=("period",),
    )


@_kpi("community.ugc_creators", "User-generated content creators", Unit.COUNT)
def ugc_creators(t: Tables, p: Params) -> Computation:
    """UGC creators = distinct members who wrote a ``community_post`` or a ``review`` in the review
    period (their own creation, not a reaction to someone else's).

    Rows per period: creators and the items they wrote.
    """
    m = _messages(t, p)
    u = m.filter(~m.brand & m.kind.isin(UGC_KINDS))
    rows = u.group_by("period").aggregate(
        creators=u.author_id.nunique(),
        community_posts=(u.kind == "community_post").cast("int64").sum(),
        reviews=(u.kind == "review").cast("int64").sum(),
    )
    return Computation(value=u.author_id.nunique(), rows=rows, order_by=("period",))


@_kpi("community.member_reply_share", "Member-to-member reply share", Unit.FRACTION)
def member_reply_share(t: Tables, p: Params) -> Computation:
    """Member-to-member share = replies where neither side is the brand / all replies.

    A reply is a public message whose ``parent_id`` names a known message. Member-to-member: the
    reply's author and the parent's author are both members and are different people (a member
    answering themselves is not talking to the community). Over the review period; rows per
    period with brand replies and members' replies to the brand.
    """
    r = replies(t, p)
    rows = r.group_by("period").aggregate(
        replies=r.count(),
        member_to_member=r.m2m.cast("int64").sum(),
        brand_replies=r.brand.cast("int64").sum(),
        replies_to_brand=(~r.brand & r.parent_brand).cast("int64").sum(),
    )
    rows = rows.mutate(member_reply_share=safe_ratio(rows.member_to_member, rows.replies))
    value = safe_ratio(r.m2m.cast("int64").sum(), r.count())
    return Computation(value=value, rows=rows, order_by=("period",))


@_kpi("community.brand_response_rate", "Brand response rate", Unit.FRACTION)
def brand_response_rate(t: Tables, p: Params) -> Computation:
    """Response rate = members' top-level messages the brand answered / members' top-level messages.

    Top-level: no ``parent_id`` (a post, comment, review, mention, DM or support request that
    starts a conversation). Answered: a brand message (``is_brand``) names it as ``parent_id``,
    at any time (so the latest messages may still be waiting). Over the review period; rows per
    kind with the median hours to the first answer.
    """
    f = first_responses(t, p)
    rows = f.group_by("kind").aggregate(
        messages=f.count(),
        answered=f.answered.cast("int64").sum(),
        median_response_h=f.response_s.median() / 3600,
    )
    rows = rows.mutate(response_rate=safe_ratio(rows.answered, rows.messages))
    value = safe_ratio(f.answered.cast("int64").sum(), f.count())
    return Computation(value=value, rows=rows, order_by=("-messages", "kind"))


@_kpi("community.time_to_first_response", "Time to first brand response (median)", Unit.SECONDS,
      Direction.LOWER)
def time_to_first_response(t: Tables, p: Params) -> Computation:
    """Median time from a member's top-level message to the brand's first direct answer, in seconds.

    Only answered messages count (the response rate says how many are); rows per period of the
    member's message with the 90th percentile, since a few long waits are what people remember.
    """
    f = first_responses(t, p)
    a = f.filter(f.answered)
    rows = a.group_by("period").aggregate(
        answered=a.count(), median_s=a.response_s.median(), p90_s=a.response_s.quantile(0.9)
    )
    return Computation(value=a.response_s.median(), rows=rows, order_by=("period",))


def _weighted_activity(t: Tables, p: Params) -> ir.Table:
    """(person, ts, weight) of every weighted message and event in the review period."""
    m = _messages(t, p)
    m = m.filter(m.public & ~m.brand)
    w_msg = ibis.cases(*((m.kind == k, w) for k, w in MESSAGE_WEIGHTS.items()), else_=OTHER_MESSAGE_WEIGHT)
    acts = m.select(person=m.author_id, ts=m.ts, weight=w_msg.cast("float64"))
    if "events" not in t:
        return acts
    ev = events(t, p)
    ev = ev.filter(ev.event.isin(tuple(EVENT_WEIGHTS)))
    w_ev = ibis.cases(*((ev.event == k, w) for k, w in EVENT_WEIGHTS.items()), else_=0)
    if t.ids is not None:
        # events name customers by key, messages their authors by id: an author who is a customer
        # takes the key, one the store knows no customer of a negative number of their own
        k = t.ids
        j = acts.left_join(k, acts.person == k.customer_id)
        stranger = -(ibis.dense_rank().over(order_by=j.person) + 1)
        acts = j.select(person=j.customer_key.fill_null(stranger), ts=j.ts, weight=j.weight)
    return acts.union(ev.select(person=ev.customer_id, ts=ev.ts, weight=w_ev.cast("float64")))


#: The engagement levels weigh messages and events: their months end where the later of the two does.
LEVELS_CLOCK = ("messages", "events")


@_kpi("community.engagement_levels", "Community core (Orbit levels 1-2)", Unit.COUNT, span="last_complete_month",
      uses=("events",), timed_by=LEVELS_CLOCK)
def engagement_levels(t: Tables, p: Params) -> Computation:
    """Orbit-style engagement levels per month: advocates, contributors, participants, observers;
    headline = members in levels 1 and 2 (the core) in the last complete month.

    Weighted activity (after Orbit's "love" score): public messages count community_post 5,
    reply 3, review 3, comment 2, mention 2, other kinds 1 (DMs and support 0: private); events
    count referral 3, share 2, other deep interactions 1 (likes, clicks and visits 0). For each
    month, over the trailing window of that month and the two before (about 90 days, as the
    ladder): score = weighted activity, presence = months of the three with any. Level 1
    advocates: score ≥ 30 and presence 3; level 2 contributors: ≥ 10 and presence ≥ 2; level 3
    participants: ≥ 3; level 4 observers: any weighted activity. Rows: every month and level with
    its members and share of the month's members.
    """
    acts = _weighted_activity(t, p)
    acts = acts.filter(acts.weight > 0)
    pm = acts.group_by(person=acts.person, m=period_index(acts.ts, "month"),
                       month=acts.ts.truncate("M")).aggregate(score=acts.weight.sum())
    # each person-month counts in its own window and in the next two months' windows
    spread = [pm.select("person", "score", idx=pm.m + k, period=pm.month + ibis.interval(months=k))
              for k in range(LEVEL_WINDOWS)]
    win = spread[0].union(spread[1], distinct=False)
    for more in spread[2:]:
        win = win.union(more, distinct=False)
    b = data_bounds(t, p, LEVELS_CLOCK)
    win = win.cross_join(b.select(max_idx=period_index(b.data_end, "month")))
    win = win.filter(win.idx <= win.max_idx)
    per = win.group_by(["person", "idx", "period"]).aggregate(score=win.score.sum(), presence=win.count())
    level = ibis.cases(
        *(((per.score >= lo) & (per.presence >= pres), lv) for lv, _, lo, pres in LEVELS[:-1]),
        else_=LEVELS[-1][0],
    )
    per = per.mutate(level=level)
    counts = per.group_by(["idx", "level"]).aggregate(members=per.count())
    months = per.group_by(["idx", "period"]).aggregate(total=per.count())
    levels = ibis.memtable({
        "level": [lv for lv, *_ in LEVELS],
        "name": [n for _, n, *_ in LEVELS],
        "min_score": [float(sc) for *_, sc, _ in LEVELS],
        "min_presence": [pr for *_, pr in LEVELS],
    })
    grid = months.cross_join(levels)
    rows = grid.left_join(counts, [grid.idx == counts.idx, grid.level == counts.level]).select(
        grid.idx, grid.period, grid.level, grid.name, grid.min_score, grid.min_presence,
        members=counts.members.fill_null(0), share=safe_ratio(counts.members.fill_null(0), grid.total),
    )
    core = rows.filter(rows.level <= 2)
    value = in_last_complete_period(core, t, p, table=LEVELS_CLOCK, grain="month").members.sum()
    return Computation(value=value, rows=rows.drop("idx"), order_by=("period", "level"))


@_kpi("community.reply_network", "Largest connected group of members", Unit.COUNT, span="last_complete")
def reply_network(t: Tables, p: Params) -> Computation:
    """The reply network per period: members joined by member-to-member replies.

    A tie links two different members when one replied to the other in the period. Per period:
    participants, members connected (with at least one tie), ties, groups (connected components
    of two or more members, by breadth-first search in SciPy's ``connected_components``) and the
    largest group, also as a share of participants. Headline: the largest group in the last
    complete period. The engine lists the ties; the components are found on that small list.
    """
    r = replies(t, p)
    r = r.filter(r.m2m)
    ties = r.select(
        "idx", a=ibis.least(r.author_id, r.parent_author), b=ibis.greatest(r.author_id, r.parent_author),
    ).distinct()
    part = participation(t, p).select("idx", "period", "participants")
    rows = part.left_join(ties, "idx").select(part.idx, part.period, part.participants, ties.a, ties.b)
    rows = rows.cross_join(last_complete_period(t, p, table="messages"))
    return Computation(rows=rows, finish=Analysis("afterclick.analysis.community:network_summary"),
                       order_by=("idx", "a", "b"))
