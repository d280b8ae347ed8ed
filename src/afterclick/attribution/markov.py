"""First-order Markov-chain attribution by removal effects, solved exactly.

The chain (Anderl, Becker, von Wangenheim & Schumann 2016, "Mapping the customer journey")
has states (start) → channels → (conversion) | (null). Each distinct path adds its journeys
(``total_conversions + total_null``) to every transition along it, repeated channels kept as
they appear; its last channel moves to (conversion) with ``total_conversions`` and to (null)
with ``total_null``. With Q the channel-to-channel transition probabilities, r the exit
probabilities to (conversion) and s the start distribution, the conversion probability is
``P = s (I - Q)^-1 r``: an absorbing-chain solve, no simulation. Removing channel k sends every
transition into k to (null) (drop k's row and column); its removal effect is ``1 - P_-k / P``.
Conversions are shared out as ``total × RE_k / sum RE``.

For value, the exit to (conversion) from channel c is weighted by the mean conversion value
of the paths ending on c (their value / their conversions), and the value removal effects
share out the total value the same way. ChannelAttribution estimates the same quantities by
Monte-Carlo simulation, so its numbers carry a few percent of noise around these.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from afterclick.attribution.paths import PathSet, credit_frame, parse_paths

#: Above this many channels the chain is solved with sparse matrices.
DENSE_LIMIT = 400


def transitions(ps: PathSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted transition counts: channel→channel (n×n), start→channel, channel→conversion,
    channel→null."""
    n = len(ps.channels)
    journeys = ps.conversions + ps.null
    path = ps.path_of_touch
    # consecutive touches within a path
    inner = np.ones(len(ps.codes), dtype=bool)
    inner[ps.starts[1:] - 1] = False
    src = np.flatnonzero(inner)
    between = np.bincount(ps.codes[src] * n + ps.codes[src + 1], weights=journeys[path[src]],
                          minlength=n * n).reshape(n, n)
    start = np.bincount(ps.first, weights=journeys, minlength=n)
    to_conv = np.bincount(ps.last, weights=ps.conversions, minlength=n)
    to_null = np.bincount(ps.last, weights=ps.null, minlength=n)
    return between, start, to_conv, to_null


def _absorb(q: np.ndarray | sp.csr_matrix, r: np.ndarray) -> np.ndarray:
    """x = (I - Q)^-1 r: from each channel, the expected reward on absorption."""
    n = len(r)
    if sp.issparse(q):
        return spla.spsolve((sp.identity(n, format="csc") - q).tocsc(), r)
    return np.linalg.solve(np.eye(n) - q, r)


def removal_effects(s: np.ndarray, q: np.ndarray, r: np.ndarray) -> tuple[float, np.ndarray]:
    """P = s (I - Q)^-1 r, and for each channel k, ``1 - P_-k / P`` (k made a dead end)."""
    n = len(s)
    dense = n <= DENSE_LIMIT
    mat = q if dense else sp.csr_matrix(q)
    total = float(s @ _absorb(mat, r))
    if total <= 0:
        raise ValueError("markov: no path converts, so removal effects are undefined; check total_conversions")
    effects = np.empty(n)
    keep = np.ones(n, dtype=bool)
    for k in range(n):
        keep[k] = False
        sub = q[np.ix_(keep, keep)] if dense else mat[keep][:, keep]
        effects[k] = 1.0 - float(s[keep] @ _absorb(sub, r[keep])) / total
        keep[k] = True
    return total, effects


def markov(paths: pd.DataFrame | PathSet) -> pd.DataFrame:
    """Exact first-order Markov attribution.

    Returns one row per channel: ``channel``, ``conversions``, ``value`` (if the paths carry
    value), ``removal_effect`` and ``removal_effect_value``.
    """
    ps = paths if isinstance(paths, PathSet) else parse_paths(paths)
    between, start, to_conv, to_null = transitions(ps)
    out_weight = between.sum(axis=1) + to_conv + to_null
    # a channel seen only on paths without journeys never moves: a dead end, like (null)
    safe = np.where(out_weight > 0, out_weight, 1.0)
    q = between / safe[:, None]
    r = to_conv / safe
    s = start / start.sum() if start.sum() > 0 else start
    _, re = removal_effects(s, q, r)
    total = ps.conversions.sum()
    conv = total * re / re.sum()
    extra: dict[str, np.ndarray] = {"removal_effect": re}
    value = None
    if ps.value is not None and ps.value.sum() > 0:
        end_value = np.bincount(ps.last, weights=ps.value, minlength=len(ps.channels))
        mean_value = np.divide(end_value, to_conv, out=np.zeros_like(end_value), where=to_conv > 0)
        _, re_v = removal_effects(s, q, r * mean_value)
        value = ps.value.sum() * re_v / re_v.sum()
        extra["removal_effect_value"] = re_v
    elif ps.value is not None:  # conversions worth nothing: no value to share out
        value = np.zeros(len(ps.channels))
        extra["removal_effect_value"] = np.zeros(len(ps.channels))
    return credit_frame(ps, conv, value, **extra)
