"""Experiments on relationship outcomes: the statistics, from sufficient statistics to a verdict.

Layers, each usable alone:

* ``sufficient`` — what a warehouse aggregate returns per arm, as frozen dataclasses that add:
  ``MeanStats`` (n, Σx, Σx²), ``RatioStats`` (numerator and denominator sums, squares and cross
  product), ``CovariateStats`` (outcome and pre-assignment covariate, for CUPED); shares and
  NPS reuse ``Proportion`` and ``NPS`` from ``afterclick.stats.proportions``.
* ``effects`` — ``welch_test``, ``proportion_test``, ``ratio_test``, ``cuped_test``, ``nps_test``
  (each a ``Comparison`` with an absolute and a relative ``Effect``), ``two_proportion_z`` and
  ``pre_period_balance``.
* ``inference`` — how an interval and p-value are read: ``FixedHorizon`` (t/z) or
  ``AlwaysValid`` (confidence sequence for teams who look every day); pass ``tuning=N*``.
* ``guardrails`` — ``srm_test`` (sample-ratio mismatch), ``adjust_p_values`` (Holm,
  Benjamini–Hochberg), ``novelty_check`` (lift by exposure week), ``percentile_caps``
  (pooled winsorising).
* ``power`` — ``power_relative``, ``mde_relative``, ``plan``/``plan_for`` (days more at current
  traffic),
  ``power_absolute``/``n_for_power`` (Cohen's d).
* ``survival`` — ``RiskTable`` per arm and ``logrank_test`` for retention curves.
* ``verdict`` — one sentence per variant, vanity metric beside relationship metric.

Why scipy and statsmodels rather than tea-tasting: the formulas are short and afterclick needs
them on sums that its own Ibis KPI expressions produce (on DuckDB and Spark alike), in the
GrowthBook shape that its reference values come from (symmetric delta-method relative
intervals; tea-tasting builds them on the log scale), with statuses instead of exceptions, and
with NPS on Rocks' variance, which tea-tasting does not have. tea-tasting 1.14 (the last for
Python 3.11) would add narwhals and its own Ibis pins beside ours for what is here ~1,000 lines;
scipy gives the distributions, statsmodels serves as the test oracle (power vs R ``pwr``,
proportions, ``survdiff``, ``multipletests``).
"""

from afterclick.stats.experiment.effects import (
    Comparison, Effect, cuped_test, nps_test, pre_period_balance, proportion_test, ratio_test,
    two_proportion_z, welch_test,
)
from afterclick.stats.experiment.guardrails import (
    SRM_THRESHOLD, Caps, Novelty, SampleRatio, adjust_p_values, adjusted_p_values,
    novelty_check, percentile_caps, srm_test,
)
from afterclick.stats.experiment.inference import (
    DEFAULT_TUNING, AlwaysValid, FixedHorizon, Moments,
)
from afterclick.stats.experiment.power import (
    PowerPlan, lift_variance, mde_relative, n_for_power, plan, plan_for, power_absolute,
    power_relative,
)
from afterclick.stats.experiment.sufficient import (
    CovariateStats, MeanStats, RatioStats, pooled_theta,
)
from afterclick.stats.experiment.survival import LogRank, RiskTable, logrank_test
from afterclick.stats.experiment.verdict import describe_effect, verdict
from afterclick.stats.proportions import NPS, Proportion

__all__ = [
    "DEFAULT_TUNING", "NPS", "SRM_THRESHOLD", "AlwaysValid", "Caps", "Comparison",
    "CovariateStats", "Effect", "FixedHorizon", "LogRank", "MeanStats", "Moments", "Novelty",
    "PowerPlan", "Proportion", "RatioStats", "RiskTable", "SampleRatio", "adjust_p_values",
    "adjusted_p_values", "cuped_test", "describe_effect", "lift_variance", "logrank_test",
    "mde_relative", "n_for_power", "novelty_check", "nps_test", "percentile_caps", "plan",
    "plan_for", "pooled_theta", "power_absolute", "power_relative", "pre_period_balance",
    "proportion_test", "ratio_test", "srm_test", "two_proportion_z", "verdict", "welch_test",
]
