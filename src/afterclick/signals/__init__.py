"""Early signals of a budding relationship: which first-days behaviours predict who stays.

>>> from afterclick.signals import leading_indicators           # doctest: +SKIP
>>> leading_indicators(summary, features=["tutorial_view", "save"], outcome="retained")

The engine computes the summary (one row per customer: what they did in their first days, and
whether they were still around months later); :func:`leading_indicators` fits a regularised
logistic model on it, validates it on later cohorts and ranks the behaviours.
"""

from afterclick.signals.logistic import LogisticFit, auc_interval, fit_logistic
from afterclick.signals.model import LeadingIndicators, indicators_of_patterns, leading_indicators

__all__ = ["LeadingIndicators", "LogisticFit", "auc_interval", "fit_logistic", "indicators_of_patterns",
           "leading_indicators"]
