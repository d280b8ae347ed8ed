"""Multi-touch attribution: which channels, campaigns and content deserve credit.

>>> from afterclick import attribution                        # doctest: +SKIP
>>> attribution.markov(paths)    # ChannelAttribution-format DataFrame -> one row per channel

Heuristics (first, last, linear, position-based), the exact Markov-chain removal effect and
simplified Shapley all read the aggregated path format (``path`` with " > ",
``total_conversions``, ``total_conversion_value``, ``total_null``) or a :class:`PathSet`;
:func:`journey_paths` builds the latter from one row per touch (:func:`aggregate_paths`, the
former).
"""

from __future__ import annotations

import pandas as pd

from afterclick.attribution.heuristics import HEURISTICS, heuristic, heuristics
from afterclick.attribution.markov import markov
from afterclick.attribution.paths import PathSet, aggregate_paths, check_paths, journey_paths, parse_paths, paths_frame
from afterclick.attribution.shapley import shapley

MODELS = (*HEURISTICS, "markov", "shapley")


def attribute(paths: pd.DataFrame | PathSet, models: tuple[str, ...] = MODELS) -> pd.DataFrame:
    """Every model's credit in one long table: ``model``, ``channel``, ``conversions``, ``value``
    (``removal_effect`` filled for markov only). Parses the paths once."""
    ps = paths if isinstance(paths, PathSet) else parse_paths(paths)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown attribution model(s) {unknown}; choose from {', '.join(MODELS)}")
    parts = []
    for m in models:
        df = markov(ps) if m == "markov" else shapley(ps) if m == "shapley" else heuristic(ps, m)
        parts.append(df.assign(model=m))
    out = pd.concat(parts, ignore_index=True)
    cols = ["model", "channel", "conversions"] + [c for c in ("value", "removal_effect") if c in out.columns]
    return out[cols]


__all__ = ["HEURISTICS", "MODELS", "PathSet", "aggregate_paths", "attribute", "check_paths", "heuristic",
           "heuristics", "journey_paths", "markov", "parse_paths", "paths_frame", "shapley"]
