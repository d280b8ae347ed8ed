"""What every part of the demo's simulation shares: its parameters, the calendar as day numbers,
fast id and string building through Arrow, and the event parts collected before one concatenation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from afterclick.demo import brand as B
from afterclick.schemas import EVENT_VOCABULARY

#: Number of clicking customers per size. Events: small ~0.2M, medium ~1M, large ~10M.
SIZES: dict[str, int] = {"small": 2_200, "medium": 11_000, "large": 105_000}

EARLY_SIGNAL_EVENT = "tutorial_view"
EARLY_SIGNAL_DAYS = 14

#: BG/NBD parameters: CDNOW estimates (Fader, Hardie & Lee 2005, in weeks) with alpha in days.
BGNBD = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}
#: Gamma-Gamma spend parameters: CDNOW estimates with the scale raised 30% (mean order ~GBP 46).
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44 * 1.3}
#: Learners buy more often, drop out less and stay interested far longer.
LEARNER_EFFECT = {"interest": 5.0, "rate": 2.0, "dropout": 0.6, "conversion": 1.5, "sessions": 1.25}
#: Sessions per day while interested, for e = 1.
SESSION_RATE = 1 / 8
#: Sessions per day after interest ended (or after a BG/NBD death), for e = 1.
RESIDUAL_RATE = 0.0006
#: Share of return sessions that start with a click on a running campaign.
RETURN_CLICK_SHARE = 0.12
#: People in the wider audience (impressions only, unless they like or follow), per clicker.
AUDIENCE_PER_CLICKER = 10
#: Of whom this many per clicker are social fans who like posts again and again.
FANS_PER_CLICKER = 0.4
#: Share of audience likes, saves and shares that come from those fans.
FAN_SHARE = 0.85
#: Referrals only happen this many days after the first order.
REFERRAL_AFTER_DAYS = 21

EVENTS = tuple(EVENT_VOCABULARY)
_EV = {name: np.int8(i) for i, name in enumerate(EVENTS)}
CHANNELS = ("web", "social", "search", "email", "display", "influencer", "video", "organic")
_CH = {name: np.int8(i) for i, name in enumerate(CHANNELS)}

_DAY_US = 86_400_000_000
#: Content goes live at 09:00 UTC on its publication day.
_PUBLISH_HOUR = 9
_START_US = B.DATA_START.value // 1000
_N_DAYS = float(B.N_DAYS)
_HOUR_WEIGHTS = np.array([0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.4, 2.8, 3.0, 3.2,
                          3.6, 3.4, 3.0, 2.9, 3.0, 3.3, 3.8, 4.4, 4.8, 4.5, 3.2, 1.6])
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()

# kinds of session
_ACQ, _RETURN, _PURCHASE, _LEARN = 0, 1, 2, 3
#: Content kinds that are pages on the shop's website (the others live on social platforms).
_WEB_KINDS = ("product_page", "guide", "tutorial", "article", "comparison", "webinar", "podcast",
              "newsletter", "review")


def _day(text: str) -> float:
    return float((pd.Timestamp(text, tz="UTC") - B.DATA_START).days)


def _tod(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day (fraction of a day) following an online-activity profile."""
    return (rng.choice(24, size=n, p=_HOUR_P) + rng.random(n)) / 24.0


def _rediurnal(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Keep the day of each time but redraw its time of day from the activity profile."""
    return np.floor(t) + _tod(rng, t.size)


def _fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids like C0001234 as a NumPy bytes array (fixed width, so they gather fast)."""
    x = np.asarray(numbers, dtype=np.int64).copy()
    if x.size and (x.min() < 0 or x.max() >= 10**width):
        raise ValueError(f"{prefix} ids need more than {width} digits")
    p = len(prefix)
    m = np.empty((x.size, p + width), dtype=np.uint8)
    m[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for k in range(p + width - 1, p - 1, -1):
        m[:, k] = 48 + x % 10
        x //= 10
    return m.reshape(-1).view(f"S{p + width}")


def _fixed_strings(dictionary: np.ndarray, codes: np.ndarray) -> pa.Array:
    """Arrow large strings for codes into a fixed-width bytes dictionary; negative codes are null.

    Built straight from buffers (no per-value work), and large_string so pandas takes it as is.
    """
    codes = np.asarray(codes)
    w = dictionary.dtype.itemsize
    n = codes.size
    valid = codes >= 0
    if valid.all():
        data = dictionary[codes]
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    data = dictionary[codes[valid]]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(valid, out=offsets[1:])
    offsets *= w
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap,
                                            null_count=int(n - valid.sum()))


def _str_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return _fixed_strings(_fixed_ids(prefix, numbers, width), np.arange(np.asarray(numbers).size))


def _take(dictionary: pa.Array, codes: np.ndarray) -> pa.Array:
    """Strings for integer codes; negative codes become nulls."""
    codes = np.asarray(codes)
    idx = pa.array(codes, mask=codes < 0)
    return pc.take(dictionary.cast(pa.large_string()), idx)


def _ts(days: np.ndarray) -> pa.Array:
    us = _START_US + np.floor(np.asarray(days, dtype=np.float64) * _DAY_US).astype(np.int64)
    return pa.array(us, type=pa.timestamp("us", tz="UTC"))


def _ragged_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: the owning group and the position of each element."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(owner.size) - starts[owner]
    return owner, pos


def _choice_texts(rng: np.random.Generator, templates: tuple[str, ...], n: int) -> np.ndarray:
    """n texts drawn from templates; ``{plant}`` is filled with a random plant name."""
    expanded = []
    for t in templates:
        if "{plant}" in t:
            expanded.extend(t.replace("{plant}", p) for p in B.PLANTS)
        else:
            expanded.append(t)
    # weight so that each template (not each expansion) is equally likely
    weights = np.array([1.0 / len(B.PLANTS) if "{plant}" in t else 1.0
                        for t in templates for _ in (B.PLANTS if "{plant}" in t else (0,))])
    arr = np.array(expanded, dtype=object)
    return arr[rng.choice(arr.size, size=n, p=weights / weights.sum())]


class _Events:
    """Columns of event parts, concatenated at the end."""

    COLS = {"cust": np.int32, "t": np.float64, "ev": np.int8, "ch": np.int8, "camp": np.int16,
            "content": np.int16, "sess": np.int64, "dur": np.float32, "val": np.float32}
    DEFAULTS = {"ch": -1, "camp": -1, "content": -1, "sess": -1, "dur": np.nan, "val": np.nan}

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, cust, t, ev, **cols) -> None:
        n = np.asarray(cust).size
        if n == 0:
            return
        part = {"cust": cust, "t": t, "ev": ev}
        part.update(cols)
        out = {}
        for name, dtype in self.COLS.items():
            v = part.get(name, self.DEFAULTS.get(name))
            v = np.asarray(v)
            out[name] = (np.full(n, v, dtype=dtype) if v.ndim == 0 else v.astype(dtype, copy=False))
        self.parts.append(out)

    def concat(self) -> dict[str, np.ndarray]:
        cols = {}
        for name in self.COLS:
            cols[name] = np.concatenate([p[name] for p in self.parts])
            for p in self.parts:
                p.pop(name)
        self.parts = []
        return cols
