"""What every CLV model shares: parameters, fit information, and the purchase models' fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from afterclick.clv._fit import ConvergenceError, FitInfo, check_inputs, inverse_hessian, maximize, require_columns

RFM_COLUMNS = ("frequency", "recency", "T")


class Model:
    """``params`` (a dict, empty until fitted) and ``info`` (how the fit went)."""

    name = "model"
    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, float] = {}
        self.info: FitInfo | None = None

    def _p(self, params: dict[str, float] | None = None) -> np.ndarray:
        if params is None:
            if not self.params:
                raise RuntimeError(f"{self.name}: call .fit(summary) before predicting")
            params = self.params
        return np.array([params[n] for n in self.param_names], dtype=float)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items()) or "not fitted"
        return f"<{type(self).__name__} {shown}>"


class PurchaseModel(Model):
    """A buy-till-you-die model fitted on frequency, recency and T (BG/NBD, Pareto/NBD).

    Subclasses give ``_data`` (weighted rows → object with ``neg_ll(log_params)``), ``_start``
    and ``advice``.
    """

    advice = ""
    #: Starting values; those named in ``time_scaled`` (time scales such as α, β) are multiplied
    #: by the mean T, so a summary in days starts as well as one in weeks.
    start: tuple[float, ...] = ()
    time_scaled: tuple[str, ...] = ()
    #: Above this many rows to fit, a fit on a sample of about ``sample_rows`` of them comes first.
    warm_start_rows, sample_rows = 60_000, 30_000

    def _data(self, x: np.ndarray, t: np.ndarray, T: np.ndarray, w: np.ndarray) -> Any:
        raise NotImplementedError

    def _start(self, mean_T: float) -> np.ndarray:
        span = max(mean_T, 1e-3)
        return np.array([v * span if n in self.time_scaled else v for n, v in zip(self.param_names, self.start)])

    def fit(self, summary: pd.DataFrame, weights: str | None = None) -> PurchaseModel:
        """Maximum likelihood over ``summary`` (frequency, recency, T; optional weight column)."""
        require_columns(summary, RFM_COLUMNS, self.name)
        x, t, T = (summary[c].to_numpy(float) for c in RFM_COLUMNS)
        check_inputs(self.name, frequency=x, recency=t, T=T)
        if np.any(t > T + 1e-9):
            i = int(np.flatnonzero(t > T + 1e-9)[0])
            raise ValueError(f"{self.name}: recency must not exceed T (row {i}: {t[i]} > {T[i]})")
        w = summary[weights].to_numpy(float) if weights else None
        if not np.any((x > 0) & (w > 0 if w is not None else True)):
            # without a single repeat purchase, dropout cannot be told from a low purchase rate
            raise ConvergenceError(f"{self.name} cannot be fitted: no customer bought twice in the summary; "
                                   "try a longer period or more customers")
        data = self._data(x, t, T, np.ones(len(x)) if w is None else w)
        start, hess_inv = self._warm_start(data)
        self.params, self.info = maximize(self.name, self.param_names, data.neg_ll, start, data.customers,
                                          data.rows, advice=self.advice, fgh=getattr(data, "fgh", None),
                                          hess_inv0=hess_inv)
        return self

    def _warm_start(self, data: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Starting values and, for a model without a Hessian, an inverse Hessian per customer.

        Above ``warm_start_rows`` rows the model is first fitted on every k-th row (about
        ``sample_rows`` of them): that lands within a few per cent of the optimum, where Newton's
        method (or BFGS given the sample's Hessian) needs two to four passes over all the rows.
        """
        start = self._start(data.mean_T)
        if data.rows <= self.warm_start_rows:
            return start, None
        sample = data.sample(max(2, data.rows // self.sample_rows))
        fgh = getattr(sample, "fgh", None)
        try:
            fitted = maximize(self.name, self.param_names, sample.neg_ll, start, sample.customers, sample.rows,
                              fgh=fgh)[0]
        except ConvergenceError:
            return start, None  # the whole data may still identify what the sample could not
        start = np.array([fitted[n] for n in self.param_names])
        return start, None if fgh is not None else inverse_hessian(sample.neg_ll, np.log(start), sample.customers)

    def log_likelihood(self, summary: pd.DataFrame, params: dict[str, float] | None = None) -> float:
        """Total log-likelihood of ``summary`` under ``params`` (default: the fitted ones)."""
        d = self._data(*(summary[c].to_numpy(float) for c in RFM_COLUMNS), np.ones(len(summary)))
        return -float(d.neg_ll(np.log(self._p(params)))[0])

    def expected_clv(self, spend: Model, summary: pd.DataFrame, periods: int = 12,
                     period_length: float | None = None, discount_rate: float = 0.01) -> np.ndarray:
        """Discounted expected value of each customer over ``periods`` periods (a month each by
        default, for a summary in weeks), with ``spend`` a fitted Gamma-Gamma model; see
        :func:`afterclick.clv.expected_clv`."""
        from afterclick.clv.lifetime_value import WEEKS_PER_MONTH, expected_clv

        return expected_clv(self, spend, summary, periods, period_length or WEEKS_PER_MONTH,  # type: ignore[arg-type]
                            discount_rate)
