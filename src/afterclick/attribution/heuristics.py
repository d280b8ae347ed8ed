"""Rule-based attribution: first touch, last touch, linear and position-based (U-shaped).

Each journey's conversions (and value) go to its touches by a fixed rule; repeated channels
count once per touch, as in ChannelAttribution's ``heuristic_models``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from afterclick.attribution.paths import PathSet, credit_frame, parse_paths


def _spread(ps: PathSet, touch_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Credit per channel when touch t of path i receives ``touch_weight[t]`` of its outcomes."""
    n = len(ps.channels)
    path = ps.path_of_touch
    conv = np.bincount(ps.codes, weights=touch_weight * ps.conversions[path], minlength=n)
    value = None if ps.value is None else np.bincount(ps.codes, weights=touch_weight * ps.value[path], minlength=n)
    return conv, value


def _position(ps: PathSet) -> np.ndarray:
    return np.arange(len(ps.codes)) - np.repeat(ps.starts[:-1], ps.lengths)


def touch_weights(ps: PathSet, model: str, *, first_share: float = 0.4, last_share: float = 0.4) -> np.ndarray:
    """Each touch's share of its journey's outcome under a rule (shares of a path sum to 1).

    position-based: ``first_share`` to the first touch, ``last_share`` to the last, the rest
    split evenly among the touches between; a one-touch path gives it all, a two-touch path
    splits ``first_share : last_share`` rescaled to 1.
    """
    pos = _position(ps)
    length = np.repeat(ps.lengths, ps.lengths)
    is_first, is_last = pos == 0, pos == length - 1
    if model == "first_touch":
        return is_first.astype(float)
    if model == "last_touch":
        return is_last.astype(float)
    if model == "linear":
        return 1.0 / length
    if model == "position_based":
        if not (0 <= first_share and 0 <= last_share and first_share + last_share <= 1):
            raise ValueError(f"position_based: shares must be >= 0 and sum to at most 1, got {first_share}, {last_share}")
        middle = (1.0 - first_share - last_share) / np.maximum(length - 2, 1)
        w = np.where(is_first, first_share, np.where(is_last, last_share, middle))
        two = length == 2
        w = np.where(two, np.where(is_first, first_share, last_share) / (first_share + last_share or 1.0), w)
        return np.where(length == 1, 1.0, w)
    raise ValueError(f"unknown heuristic model {model!r}; use first_touch, last_touch, linear or position_based")


HEURISTICS = ("first_touch", "last_touch", "linear", "position_based")


def heuristic(paths: pd.DataFrame | PathSet, model: str = "linear", **shares: float) -> pd.DataFrame:
    """One rule's credit: one row per channel with ``channel``, ``conversions``, ``value``."""
    ps = paths if isinstance(paths, PathSet) else parse_paths(paths)
    conv, value = _spread(ps, touch_weights(ps, model, **shares))
    return credit_frame(ps, conv, value)


def heuristics(paths: pd.DataFrame | PathSet) -> pd.DataFrame:
    """All four rules side by side, in ChannelAttribution's wide layout.

    Columns: ``channel``, then ``<model>_conversions`` and ``<model>_value`` for first_touch,
    last_touch, linear (ChannelAttribution's ``linear_touch``) and position_based (40/20/40).
    """
    ps = paths if isinstance(paths, PathSet) else parse_paths(paths)
    out = pd.DataFrame({"channel": ps.channels})
    for model in HEURISTICS:
        conv, value = _spread(ps, touch_weights(ps, model))
        out[f"{model}_conversions"] = conv
        if value is not None:
            out[f"{model}_value"] = value
    return out
