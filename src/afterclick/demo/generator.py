"""Vectorised simulation of the Mossbrook demo brand: all seven canonical tables.

The simulation works on people, sessions and visits as NumPy arrays (no Python loop per event;
loops run over campaigns, content items, event kinds or text templates only), and turns the
integer codes into strings through Arrow at the very end. See ``docs/demo.md`` for the story,
the parameters and every planted truth.

Outline
-------
1. *Clickers* (people who clicked at least once) get an acquisition campaign and first-click time
   ``t0``, a latent engagement propensity ``e`` (log-normal), a "learner" flag, an interest lifetime
   ``D ~ Exponential`` and a session rate while interested.
2. *Purchases* follow BG/NBD: after a first order (trial), repeat purchases arrive at rate
   ``lambda ~ Gamma(r, alpha)``; after each repeat purchase the customer dies with probability
   ``p ~ Beta(a, b)``; order values follow Gamma-Gamma.
3. *Sessions*: the acquisition session, return sessions while interested (and rarely after), one
   session per order, and an early tutorial session for learners. Each session holds page views
   (``visit``) a minute or so apart and the deep events done on those pages.
4. *Social* likes, saves, shares and follows, with the people doing them drawn from the clickers
   still interested at that moment or from the wider audience (who then become customers too).
5. *Impressions*: one before every click and every social interaction, then topped up per campaign
   so that clicks / impressions hits the campaign's click-through rate.
6. *Messages* and *survey responses* with texts assembled from the catalogue in :mod:`brand`.

Each step is a part of :mod:`afterclick.demo.simulate` (people, sessions, social, messages,
responses, tables); ``_Sim`` here puts them together and runs them in this order, so the same seed
always gives the same data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from afterclick.demo import brand as B
from afterclick.demo.experiments import experiment_tables
from afterclick.demo.simulate.common import (
    AUDIENCE_PER_CLICKER,
    BGNBD,
    EARLY_SIGNAL_DAYS,
    EARLY_SIGNAL_EVENT,
    GAMMA_GAMMA,
    SIZES,
    _Events,
    _fixed_ids,
    _fixed_strings,
)
from afterclick.demo.simulate.messages import Messages
from afterclick.demo.simulate.people import People
from afterclick.demo.simulate.responses import Responses
from afterclick.demo.simulate.sessions import Sessions
from afterclick.demo.simulate.social import Social
from afterclick.demo.simulate.tables import Tables
from afterclick.schemas import TABLES

__all__ = ["BGNBD", "BRAND_TABLES", "EARLY_SIGNAL_DAYS", "EARLY_SIGNAL_EVENT", "GAMMA_GAMMA", "SIZES", "generate",
           "write_demo"]

#: The tables the demo brand (a B2C shop with a community) writes, its four planted experiments
#: included; it has no B2B side (``afterclick.demo.b2b`` is the B2B brand).
BRAND_TABLES = ("events", "transactions", "messages", "responses", "content", "campaigns", "customers",
                "experiments", "assignments")  # planted by afterclick.demo.experiments


class _Sim(People, Sessions, Social, Messages, Responses, Tables):
    def __init__(self, n_clickers: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.n = int(n_clickers)
        self.scale = self.n / SIZES["small"]
        self.n_audience = self.n * AUDIENCE_PER_CLICKER
        self._campaign_arrays()
        self._content_arrays()
        self.ev = _Events()

    # ---------------------------------------------------------------- assembly
    def run(self) -> dict[str, pd.DataFrame]:
        rng = self.rng
        P = self.n + self.n_audience
        self.person_bytes = _fixed_ids("C", rng.permutation(P) + 1, 7)
        self.person_ids = _fixed_strings(self.person_bytes, np.arange(P))
        self.person_ids_with_brand = pa.concat_arrays(
            [pa.array([B.BRAND_AUTHOR_ID], type=pa.large_string()), self.person_ids])
        self.content_dict = pa.array(self.content_ids, type=pa.string())
        self.people()
        self.purchases()
        self.sessions()
        self.deep_events()
        self.social()
        self.impressions()
        out = {"events": self._events_frame()}
        tables: dict[str, pa.Table] = {
            "messages": self.messages(),
            "responses": self.responses(),
            "transactions": self._transactions_table(),
            "customers": self._customers_table(),
            "content": self._content_table(),
            "campaigns": self._campaigns_table(),
            **experiment_tables(out["events"], self._transactions_table(), self.rng),
        }
        for name, tab in tables.items():
            for col in TABLES[name].columns:  # optional columns the brand never fills (refund_of: no refunds)
                if col not in tab.column_names:
                    tab = tab.append_column(col, pa.nulls(tab.num_rows, pa.string()))
            out[name] = tab.select(list(TABLES[name].columns)).to_pandas()
        return {name: out[name] for name in BRAND_TABLES}


def generate(size: str = "small", seed: int = 0) -> dict[str, pd.DataFrame]:
    """All seven canonical tables of the Mossbrook demo brand, as pandas DataFrames.

    ``size`` is one of :data:`SIZES` (``small`` ~0.2M events, ``medium`` ~1M, ``large`` ~10M);
    the same ``seed`` always gives the same data. The calendar is fixed: 2025-05-01 to 2026-10-31 UTC.
    """
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; choose one of {', '.join(SIZES)}")
    from afterclick.demo.monitoring import (
        plant,  # the monitoring truths (docs/demo.md §11)
    )

    return plant(_Sim(SIZES[size], seed).run(), seed)


def write_demo(folder: str | Path, size: str = "small", seed: int = 0) -> dict[str, Path]:
    """Generate the demo and write one Parquet file per table (``<table>.parquet``) into folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = generate(size, seed)
    paths: dict[str, Path] = {}
    for name in BRAND_TABLES:
        path = folder / f"{name}.parquet"
        tables.pop(name).to_parquet(path, index=False)
        paths[name] = path
    return paths
