"""Simplified Shapley attribution (Zhao, Mahboobi & Bagheri 2018).

Zhao et al. ("Shapley Value Methods for Attribution Modeling in Online Advertising", 2018)
show that when a coalition's worth is the sum of the conversions of journeys whose
*set* of channels lies inside it, the Shapley value of channel j reduces to
``phi_j = sum over channel sets S containing j of R(S) / |S|``, with R(S) the conversions of
journeys touching exactly the channels S: each journey's outcome is split equally among its
distinct channels, order and repeats ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from afterclick.attribution.paths import PathSet, credit_frame, parse_paths


def shapley(paths: pd.DataFrame | PathSet) -> pd.DataFrame:
    """Simplified Shapley credit: one row per channel with ``channel``, ``conversions``, ``value``."""
    ps = paths if isinstance(paths, PathSet) else parse_paths(paths)
    n = len(ps.channels)
    # distinct (path, channel) pairs: each carries 1 / (distinct channels of its path)
    pair = np.unique(ps.path_of_touch * n + ps.codes)
    path, chan = pair // n, pair % n
    distinct = np.bincount(path, minlength=ps.n_paths)
    share = 1.0 / distinct[path]
    conv = np.bincount(chan, weights=share * ps.conversions[path], minlength=n)
    value = None if ps.value is None else np.bincount(chan, weights=share * ps.value[path], minlength=n)
    return credit_frame(ps, conv, value)
