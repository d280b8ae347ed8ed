"""Customer lifetime value: RFM summaries and the standard buy-till-you-die models.

    >>> from afterclick import clv
    >>> summary = clv.rfm_summary(transactions, "1997-09-30", unit="W")   # doctest: +SKIP
    >>> bg = clv.BetaGeo().fit(summary); bg.params                       # doctest: +SKIP
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}

Every model fits by maximum likelihood on log-parameters (identical customers collapsed with
weights; BG/NBD by Newton's method with its exact Hessian, the others by L-BFGS-B or, after a
warm start on a sample, BFGS) and raises :class:`ConvergenceError` with advice instead of
returning NaN.
"""

from afterclick.clv._fit import ConvergenceError, FitInfo
from afterclick.clv.beta_geo import BetaGeo
from afterclick.clv.gamma_gamma import GammaGamma
from afterclick.clv.lifetime_value import WEEKS_PER_MONTH, expected_clv, expected_value_by_period
from afterclick.clv.pareto_nbd import ParetoNBD
from afterclick.clv.rfm import UNITS, calibration_and_holdout, holdout_expr, rfm_expr, rfm_summary
from afterclick.clv.shifted_beta_geo import ShiftedBetaGeometric, survival_summary

__all__ = [
    "UNITS",
    "WEEKS_PER_MONTH",
    "BetaGeo",
    "ConvergenceError",
    "FitInfo",
    "GammaGamma",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "calibration_and_holdout",
    "expected_clv",
    "expected_value_by_period",
    "holdout_expr",
    "rfm_expr",
    "rfm_summary",
    "survival_summary",
]
