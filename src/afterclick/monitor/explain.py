"""Why a rate KPI moved between two periods: who came (mix) and how they behaved (rate).

The rate is R = Σᵢ wᵢ·rᵢ with wᵢ = dᵢ/D a segment's share of the denominator and rᵢ = nᵢ/dᵢ its
own rate. Kitagawa's (1955) symmetric two-factor decomposition ("Components of a difference
between two rates", JASA 50(272), 1168–1194; Das Gupta (1993), *Standardization and
Decomposition of Rates*, eq. 2.6) splits the change exactly, with no interaction term:

    R₁ − R₀ = Σᵢ (w₁ᵢ − w₀ᵢ)·(r₀ᵢ + r₁ᵢ)/2   (mix: who came)
            + Σᵢ (r₁ᵢ − r₀ᵢ)·(w₀ᵢ + w₁ᵢ)/2   (rate: how they behaved)

Per segment, the mix term is centred on the mean of the two overall rates R̄ = (R₀ + R₁)/2:
(w₁ᵢ − w₀ᵢ)·((r₀ᵢ + r₁ᵢ)/2 − R̄). The shares' changes sum to zero, so the total mix is unchanged,
but a segment that gains share now lowers the rate only when its own rate is below average (the
uncentred term would credit every growing segment with its whole rate).

A segment present in one period only has no rate in the other; its rate there is taken equal to
the rate it has, so all of its contribution is mix (it came or stopped coming).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from afterclick.monitor.series import format_difference, format_level
from afterclick.results import Unit


@dataclass(frozen=True)
class SegmentEffect:
    segment: str
    share_before: float
    share_after: float
    rate_before: float | None
    rate_after: float | None
    mix: float
    rate: float

    @property
    def total(self) -> float:
        return self.mix + self.rate


@dataclass(frozen=True)
class MoveExplanation:
    """``change`` = ``mix`` + ``rate`` (exactly); ``segments`` sorted by |total| contribution,
    the largest first; ``top`` the segment that contributed most in the direction of the move."""

    name: str
    rate_before: float
    rate_after: float
    mix: float
    rate: float
    segments: tuple[SegmentEffect, ...]
    top: SegmentEffect | None
    sentence: str

    @property
    def change(self) -> float:
        return self.rate_after - self.rate_before

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rate_before": self.rate_before, "rate_after": self.rate_after,
                "change": self.change, "mix": self.mix, "rate": self.rate,
                "top": None if self.top is None else self.top.segment, "sentence": self.sentence,
                "segments": [{**s.__dict__, "total": s.total} for s in self.segments]}


def _totals(frame: pd.DataFrame, segment: str, numerator: str, denominator: str, label: str) -> pd.DataFrame:
    missing = [c for c in (segment, numerator, denominator) if c not in frame.columns]
    if missing:
        raise ValueError(f"Required column {missing[0]!r} missing from the {label} table")
    out = frame.groupby(frame[segment].astype(str))[[numerator, denominator]].sum()
    if (out[denominator] < 0).any() or out[denominator].sum() <= 0:
        raise ValueError(f"the {label} table needs a positive total {denominator!r} and no negative one")
    return out.rename(columns={numerator: "n", denominator: "d"})


def explain_move(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    segment: str = "segment",
    numerator: str = "numerator",
    denominator: str = "denominator",
    name: str = "The rate",
    unit: Unit | str = Unit.FRACTION,
    labels: tuple[str, str] = ("the earlier period", "the later period"),
    dimension: str = "segment",
) -> MoveExplanation:
    """Split the change of Σn/Σd between two periods into mix and rate effects per segment."""
    unit = Unit(unit)
    b = _totals(before, segment, numerator, denominator, "earlier period's")
    a = _totals(after, segment, numerator, denominator, "later period's")
    both = b.add_suffix("0").join(a.add_suffix("1"), how="outer").fillna(0.0)
    w0, w1 = both["d0"] / both["d0"].sum(), both["d1"] / both["d1"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(both["d0"] > 0, both["n0"] / both["d0"], np.nan)
        r1 = np.where(both["d1"] > 0, both["n1"] / both["d1"], np.nan)
    r0f, r1f = np.where(np.isnan(r0), r1, r0), np.where(np.isnan(r1), r0, r1)
    rb, ra = float(both["n0"].sum() / both["d0"].sum()), float(both["n1"].sum() / both["d1"].sum())
    mix = (w1 - w0) * ((r0f + r1f) / 2 - (rb + ra) / 2)
    rate = (r1f - r0f) * (w0 + w1) / 2
    effects = [SegmentEffect(str(s), float(w0.iloc[i]), float(w1.iloc[i]),
                             None if np.isnan(r0[i]) else float(r0[i]), None if np.isnan(r1[i]) else float(r1[i]),
                             float(mix.iloc[i]), float(rate.iloc[i]))
               for i, s in enumerate(both.index)]
    effects.sort(key=lambda e: -abs(e.total))
    change = ra - rb
    same_way = [e for e in effects if np.sign(e.total) == np.sign(change) and e.total != 0]
    top = (same_way or effects or [None])[0]
    result = MoveExplanation(name, rb, ra, float(mix.sum()), float(rate.sum()), tuple(effects), top, "")
    return MoveExplanation(**{**result.__dict__, "sentence": _sentence(result, unit, labels, dimension)})


def _sentence(m: MoveExplanation, unit: Unit, labels: tuple[str, str], dimension: str) -> str:
    def d(x: float) -> str:
        return format_difference(x, unit, None)

    verb = "rose" if m.change > 0 else "fell" if m.change < 0 else "held"
    head = (f"{m.name} {verb} from {format_level(m.rate_before, unit)} in {labels[0]} to "
            f"{format_level(m.rate_after, unit)} in {labels[1]} ({d(m.change)}): "
            f"{d(m.rate)} from how each {dimension} behaved (rate) and {d(m.mix)} from who came (mix)")
    t = m.top
    if t is None:
        return head + "."
    if t.rate_before is None:
        detail = f"new in {labels[1]}, {t.share_after * 100:.0f}% of the base at {format_level(t.rate_after, unit)}"
    elif t.rate_after is None:
        detail = f"absent in {labels[1]}, it was {t.share_before * 100:.0f}% of the base at {format_level(t.rate_before, unit)}"
    else:
        detail = (f"its rate {format_level(t.rate_before, unit)} → {format_level(t.rate_after, unit)}, "
                  f"its share {t.share_before * 100:.0f}% → {t.share_after * 100:.0f}%")
    return f"{head}; most from {dimension} {t.segment!r} ({d(t.total)}: {detail})."
