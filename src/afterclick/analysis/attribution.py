"""The path models behind the attribution KPIs (``kpis/attribution.py``): every model's credit per
channel or campaign, from the touch rows the engine executed (one row per touch: who, position,
key, the journey's outcome), through ``afterclick.attribution``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from afterclick import attribution as attr
from afterclick.kpis.base import Outcome


def credit(rows: pd.DataFrame, *, label: str, with_value: bool) -> pd.DataFrame:
    """Executed touch rows → every model's credit per key, long: model, ``label`` (channel or
    campaign_id), name (by campaign: the campaigns table's name, else the id), journeys (that
    touched it), conversions, share (of all conversions), per_journey (conversions / journeys),
    value, removal_effect."""
    ps = attr.journey_paths(rows, journey="customer_id", channel="key", order="position",
                            converted="converted", value="value" if with_value else None)
    out = attr.attribute(ps)
    touched = rows.drop_duplicates(["customer_id", "key"]).key.value_counts()
    total = ps.conversions.sum()
    out.insert(2, "journeys", out.channel.map(touched).astype("int64"))
    out.insert(4, "share", out.conversions / total)
    out.insert(5, "per_journey", out.conversions / out.journeys)
    if not with_value:
        out.insert(6, "value", np.nan)
    order = {m: i for i, m in enumerate(attr.MODELS)}
    out = out.sort_values(["model", "channel"], key=lambda s: s.map(order) if s.name == "model" else s,
                          kind="stable").reset_index(drop=True)
    if "campaign_name" in rows.columns:
        names = rows.drop_duplicates("key").set_index("key")["campaign_name"]
        out.insert(2, "name", out.channel.map(names).fillna(out.channel).astype(object))
    return out.rename(columns={"channel": label})


#: Why the purchase KPIs, read from the orders' campaigns, give no headline rate.
ORDER_TOUCHES = ("No events in this store: the touches are the campaigns the orders name, one per first "
                 "purchase, so every model gives each campaign its share of first purchases, and every "
                 "journey ends in a purchase by construction (no conversion rate to read).")


def credit_journeys(rate, rows: pd.DataFrame | None, *, label: str, from_orders: bool,
                    value_note: str | None) -> Outcome:
    """The ``finish`` step of the attribution KPIs: :func:`credit` per ``label`` (channel or
    campaign_id), with the notes that say what the touches are; ``value_note`` says why no value
    is credited (and then none is)."""
    if rows is None or len(rows) == 0 or rows.converted.sum() == 0:
        return Outcome(rate, None, notes=("No journey with a touch reached the outcome, so there "
                                          "is nothing to attribute.",))
    notes = [ORDER_TOUCHES if from_orders else
             "Touches are clicks that carry a channel; each model shares out the same outcomes. "
             "Markov is the exact removal effect of a first-order chain; Shapley is the "
             "simplified Shapley value (Zhao et al. 2018)."]
    if value_note:
        notes.append(value_note)
    return Outcome(rate, credit(rows, label=label, with_value=value_note is None), notes=tuple(notes))
