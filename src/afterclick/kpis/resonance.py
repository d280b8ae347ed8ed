"""Emotional resonance: does content move people to act deeply, or only to tap a heart?

The text-based signals (sentiment, gratitude, personal stories) arrive with the text scorer; the
behavioural ones are here.
"""

from __future__ import annotations

from afterclick.kpis._common import DEEP, events, safe_ratio
from afterclick.kpis.base import Computation, Params, Tables, kpi
from afterclick.results import Direction, Family, Unit

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
    ev = events(t, p)
    ev = ev.filter(ev.content_id.notnull())
    deep = ev.event.isin(DEEP).cast("int64")
    shallow = ev.event.isin(SHALLOW).cast("int64")
    rows = ev.group_by("content_id").aggregate(
        shallow=shallow.sum(), deep=deep.sum(),
        likes=(ev.event == "like").cast("int64").sum(),
        saves=(ev.event == "save").cast("int64").sum(),
        downloads=(ev.event == "download").cast("int64").sum(),
        shares=(ev.event == "share").cast("int64").sum(),
    )
    rows = rows.filter((rows.shallow + rows.deep) > 0)
    rows = rows.mutate(depth_ratio=safe_ratio(rows.deep, rows.shallow))
    if "content" in t:
        c = t["content"]
        rows = rows.left_join(c, "content_id").select(rows, title=c.title, kind=c.kind)
    value = safe_ratio(deep.sum(), shallow.sum())
    # the most-liked first, so a report's first rows show the vanity leaders beside their depth
    return Computation(value=value, rows=rows, order_by=("-likes", "-deep", "content_id"))
