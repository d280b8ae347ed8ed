"""Who saw impressions, in which months and on which channels: one pass over the impressions.

Six million impressions fold into one row per person (and block of 60 months: a block only adds
rows when the data spans more than five years) holding two sets of bits, the months the person
saw an impression in and the channels they saw one on. "Seen in these months" (the ladder) and
"people per channel" (reach) are then bit tests, instead of distinct counts over every
customer-month or a row per person and channel (the engine's largest grouping on the large demo
before, 3.5 million groups keyed by customer id).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import (
    BLOCK_MONTHS,
    EXPOSURE,
    bit_or,
    event_counts,
    events,
    month_base,
    period_index,
)
from afterclick.kpis.base import Params, Tables, block

#: Channels numbered below this get a bit of ``channels`` (a signed 64-bit integer); a data set
#: with more channels than that has the others' people counted apart, from the impressions.
CHANNEL_BITS = 62


@block
def impression_channels(t: Tables, p: Params) -> ir.Table:
    """The channels impressions came on ("(none)" when missing), numbered from 0 in their order:
    channel, bit. Read off the shared event counts, so it costs no pass of its own."""

    c = event_counts(t, p)
    c = c.filter(c.event.isin(EXPOSURE)).select("channel").distinct()
    return c.select("channel", bit=ibis.row_number().over(order_by="channel").cast("int64"))


def _impressions(t: Tables, p: Params, since: ir.Table | None = None) -> ir.Table:
    """Impressions: customer_id, ts, channel and its bit; only those from ``since``'s ``since_ts``
    on when given (a one-row table, whose columns are added)."""
    ev = events(t, p)
    imp = ev.filter(ev.event.isin(EXPOSURE))
    imp = imp.select("customer_id", "ts", channel=imp.channel.fill_null("(none)"))
    if since is not None:
        imp = imp.cross_join(since)
        imp = imp.filter(imp.ts >= imp.since_ts)
    return imp.join(impression_channels(t, p), "channel")


@block
def exposure_bits(t: Tables, p: Params) -> ir.Table:
    """One row per person who saw an impression and block of 60 months: customer_id, block,
    months (bit ``k``: an impression in month ``base + 60·block + k``, where ``base`` is the
    month of the first event in the period, see ``month_base``) and channels (bit ``i``: an
    impression on the channel whose ``bit`` is ``i`` in :func:`impression_channels`)."""

    one = ibis.literal(1).cast("int64")
    base = month_base(t, p)

    def fold(imp: ir.Table, **block: Any) -> ir.Table:
        r = period_index(imp.ts, "month") - imp.base
        # a channel past the bits sets none (the shift stays in range either way)
        chan = (one << (imp.bit % CHANNEL_BITS)) * (imp.bit < CHANNEL_BITS).cast("int64")
        imp = imp.select("customer_id", r=r, chan=chan.cast("int64"))
        return imp.group_by("customer_id", **{k: f(imp) for k, f in block.items()}).aggregate(
            months=bit_or((one << (imp.r % BLOCK_MONTHS)).cast("int64")), channels=bit_or(imp.chan))

    # month base + 60 starts the second block: the blocks are told apart by comparing times,
    # which the scan applies, instead of computing each impression's month twice
    bound = base.mutate(since_ts=ibis.date((base.base + BLOCK_MONTHS) // 12, (base.base + BLOCK_MONTHS) % 12 + 1,
                                           1).cast("timestamp"))
    # the first 60 months (all of them, unless the data spans more than five years) grouped by
    # person alone: a second grouping key costs a fifth of the pass
    first = _impressions(t, p).cross_join(bound)
    first = fold(first.filter(first.ts < first.since_ts))
    first = first.select("customer_id", block=ibis.literal(0).cast("int64"), months=first.months,
                         channels=first.channels)
    # the months after (none, usually), read apart: the two passes then share no relation to
    # compute once and keep for the other (that costs more than a scan), and this one keeps only
    # the impressions from the first later month on before anything else
    later = fold(_impressions(t, p, bound), block=lambda i: (i.r // BLOCK_MONTHS).cast("int64"))
    return first.union(later)


def people_reached(t: Tables, p: Params) -> ir.Scalar:
    """Distinct people with an impression.

    Counted, not de-duplicated: a person's first block is block 0 unless the data runs past five
    years, so the rows of block 0 are counted and only the people first seen in a later block go
    through a distinct (none, usually: a few ms instead of a distinct over a million ids).
    """
    ex = exposure_bits(t, p)
    first = ex.filter(ex.block == 0)
    later = ex.filter(ex.block > 0).select("customer_id").distinct().anti_join(first, "customer_id")
    both = first.aggregate(n=first.count()).union(later.aggregate(n=later.count()))
    return both.n.sum()


def people_per_channel(t: Tables, p: Params) -> ir.Table:
    """Distinct people with an impression on each channel: channel, people.

    Each person's row of block 0 counts once for each channel bit it holds; a person seen in a
    later block adds the channels that block 0 lacks (nobody, usually).
    """
    ex = exposure_bits(t, p)
    first = ex.filter(ex.block == 0).select("customer_id", "channels")
    later = ex.filter(ex.block > 0)
    later = later.group_by("customer_id").aggregate(later=bit_or(later.channels))
    j = later.left_join(first, "customer_id")
    known = j.channels.fill_null(0)
    added = j.select(channels=j.later - (j.later & known))
    people = first.select("channels").union(added)
    ch = impression_channels(t, p)
    pairs = people.cross_join(ch.filter(ch.bit < CHANNEL_BITS))
    counted = pairs.group_by("channel").aggregate(people=((pairs.channels >> pairs.bit) & 1).sum())
    # the channels past the bits (none, usually: this join then reads nothing)
    imp = _impressions(t, p)
    past = imp.filter(imp.bit >= CHANNEL_BITS)
    past = past.group_by("channel").aggregate(people=past.customer_id.nunique())
    return counted.union(past)
