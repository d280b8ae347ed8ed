"""From the moments of a lift (its estimate and variance) to an interval and a p-value.

Every test in this package first reduces two arms to ``Moments``; an ``Inference`` then only
supplies the p-value and the interval, so a fixed-horizon and an always-valid reading of the
same lift differ in those two methods and nothing else (the shape of GrowthBook's gbstats).

* ``FixedHorizon``: Student t with Welch–Satterthwaite degrees of freedom (Welch 1947,
  Biometrika 34; Satterthwaite 1946), or the normal when the test has none (NPS, log-rank):
  p = 2(1 − T_ν(|est/se|)), interval est ± t_{1−α/2,ν} se.
* ``AlwaysValid``: the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy
  & Ramdas (2023), "Time-uniform central limit theory and asymptotic confidence sequences",
  arXiv:2103.06476v7, eq. 9 (a normal-mixture boundary, the mSPRT's): with N total units,
  s² = se²·N and ρ = √((−2 ln α + ln(−2 ln α + 1))/N*), the half-width is
  s·√(2(Nρ² + 1) ln(√(Nρ² + 1)/α)/(Nρ)²); the always-valid p-value is min(1, 1/E) with the
  e-value E = exp(ρ² S/(2(Nρ² + 1)))/√(Nρ² + 1), S = (est − null)² N/se² (eq. 155).
  N* (``tuning``) is the total sample size where the sequence is tightest; 5000 by default.
  A team that looks every day reads this interval: its coverage holds at every look at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special as _sp

#: GrowthBook's default N* for the confidence sequence (expected total units).
DEFAULT_TUNING = 5000.0


def check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1, not {level!r}")
    return level


@dataclass(frozen=True)
class Moments:
    """A lift's point estimate, the variance of that estimate, Welch's ν (None: use the
    normal) and the total units behind it."""

    estimate: float
    variance: float
    dof: float | None
    n: float

    @property
    def se(self) -> float:
        return math.sqrt(self.variance)


class Inference:
    """How an interval and p-value are read from ``Moments``; subclasses override only these."""

    name = ""

    def p_value(self, m: Moments, level: float, null: float = 0.0) -> float:  # pragma: no cover
        raise NotImplementedError

    def half_width(self, m: Moments, level: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class FixedHorizon(Inference):
    """Read once, at the planned end: t (Welch ν) or z."""

    name = "fixed horizon"

    # scipy.special's distribution functions (the ones scipy.stats.t and norm call) are
    # ufuncs: ~1 µs a call against ~300 µs for a frozen scipy.stats distribution
    def p_value(self, m: Moments, level: float = 0.95, null: float = 0.0) -> float:
        z = abs(m.estimate - null) / m.se
        tail = _sp.ndtr(-z) if m.dof is None else _sp.stdtr(m.dof, -z)
        return float(min(1.0, 2 * tail))

    def half_width(self, m: Moments, level: float) -> float:
        q = 0.5 + check_level(level) / 2
        crit = _sp.ndtri(q) if m.dof is None else _sp.stdtrit(m.dof, q)
        return float(crit * m.se)


@dataclass(frozen=True)
class AlwaysValid(Inference):
    """Valid at every look (Waudby-Smith et al. 2023, eq. 9 and 155); ``tuning`` is N*."""

    tuning: float = DEFAULT_TUNING

    def __post_init__(self) -> None:
        if not self.tuning > 0:
            raise ValueError(f"the sequential tuning N* must be positive, not {self.tuning!r}")

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"always-valid confidence sequence (Waudby-Smith et al. 2023, N*={self.tuning:g})"

    def _rho2(self, alpha: float) -> float:
        return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / self.tuning

    def p_value(self, m: Moments, level: float = 0.95, null: float = 0.0) -> float:
        rho2 = self._rho2(1 - check_level(level))
        s = (m.estimate - null) ** 2 * m.n / m.variance
        t = m.n * rho2 + 1
        log_e = rho2 * s / (2 * t) - 0.5 * math.log(t)
        return float(min(1.0, math.exp(-log_e)))

    def half_width(self, m: Moments, level: float) -> float:
        alpha = 1 - check_level(level)
        rho2 = self._rho2(alpha)
        t = m.n * rho2 + 1
        s = m.se * math.sqrt(m.n)
        return float(s * math.sqrt(2 * t * math.log(math.sqrt(t) / alpha) / (m.n**2 * rho2)))


def sequential(tuning: float | None) -> Inference:
    """``FixedHorizon()`` for None, else ``AlwaysValid(tuning)``."""
    return FixedHorizon() if tuning is None else AlwaysValid(float(tuning))


def welch_dof(v_a: float, n_a: int, v_b: float, n_b: int) -> float | None:
    """ν = (v_a/n_a + v_b/n_b)² / (v_a²/(n_a²(n_a−1)) + v_b²/(n_b²(n_b−1))) (Satterthwaite 1946)."""
    den = v_a**2 / (n_a**2 * (n_a - 1)) + v_b**2 / (n_b**2 * (n_b - 1))
    return None if den == 0 else (v_a / n_a + v_b / n_b) ** 2 / den
