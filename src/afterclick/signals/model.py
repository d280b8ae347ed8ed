"""Rank early behaviours by how well they predict a later outcome, validated on later cohorts.

Features are presence flags (did the customer do X in their first days?), standardised so the
penalty of an L2-regularised logistic regression treats them alike; behaviours are ranked by
the lower end of the 95% interval of their odds ratio (doing it vs not, the others held fixed):
the evidence that they matter, not only the estimate. Time-based validation: the model is fitted on the earliest
``train_share`` of customers by first-touch time and scored (AUC) on the later ones, the way it
would be used; the reported slopes and intervals come from a fit on everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from afterclick.signals.logistic import auc_interval, fit_logistic


@dataclass(frozen=True)
class LeadingIndicators:
    """The ranked indicators and how well the model predicts the later cohorts."""

    table: pd.DataFrame
    auc: float
    auc_ci: tuple[float, float]
    n_train: int
    n_test: int
    test_from: object  # first-touch time of the first customer in the test cohorts
    dropped: tuple[str, ...] = field(default=())


def _patterns(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (flags, outcome) rows of 0/1 ``x`` and ``y``, and how many times each occurs
    (each row counting ``w`` times when given): at most 2^(k+1) rows, which a weighted fit or
    AUC reads as the whole (the same sums)."""
    code = (x.astype(np.int64) << np.arange(x.shape[1], dtype=np.int64)).sum(axis=1) * 2 + y.astype(np.int64)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=w, minlength=len(first))
    return x[first], y[first], counts.astype(float)


def _standardisation(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (population) of each column of ``x``, rows counted ``w`` times
    (0 for a constant column: the caller decides what to scale it by)."""
    mu = (w @ x) / w.sum()
    sd = np.sqrt((w @ (x - mu) ** 2) / w.sum())
    return mu, sd


def _validated_auc(x: np.ndarray, y: np.ndarray, w: np.ndarray, train: np.ndarray,
                   C: float) -> tuple[float, tuple[float, float]]:
    """AUC (and its interval) on the later cohorts (``~train``) of a fit on the earlier ones:
    standardised with the training cohorts only."""
    for part, rows in (("earlier (training)", train), ("later (test)", ~train)):
        if len(np.unique(y[rows])) < 2:
            raise ValueError(f"leading_indicators: the {part} cohorts all have the same outcome; "
                             "need customers who stayed and who left in both")
    mu, sd = _standardisation(x[train], w[train])
    sd = np.where(sd > 0, sd, 1.0)
    (xa, ya, wa), (xb, yb, wb) = _patterns(x[train], y[train], w[train]), _patterns(x[~train], y[~train], w[~train])
    scores = fit_logistic((xa - mu) / sd, ya, C=C, sample_weight=wa).predict_proba((xb - mu) / sd)
    auc = float(roc_auc_score(yb, scores, sample_weight=wb))
    n_pos = int(wb[yb == 1].sum())
    return auc, auc_interval(auc, n_pos, int(wb.sum()) - n_pos)


def leading_indicators(
    summary: pd.DataFrame,
    features: Sequence[str],
    *,
    outcome: str = "retained",
    time: str = "first_ts",
    spend: str | None = None,
    train_share: float = 0.7,
    C: float = 1.0,
    min_doers: int = 30,
) -> LeadingIndicators:
    """Fit, validate and rank.

    ``summary`` has one row per customer: feature columns (counts or flags; > 0 means "did
    it"), the 0/1 ``outcome``, the first-touch ``time`` (for the time split) and optionally a
    ``spend`` column described beside each indicator. Features done by fewer than ``min_doers``
    customers, or left undone by fewer than that, are dropped (listed in ``dropped``).

    Returns a table with one row per indicator, best first (highest ``or_low``): rank, indicator, doers, doer_share,
    coef (log-odds per standard deviation) with ci_low/ci_high (95% Wald), odds_ratio (doing
    it vs not, other behaviours held fixed) with or_low/or_high, the outcome's rate among doers
    and others, and mean spend of doers and others when ``spend`` is given.
    """
    need = [*features, outcome, time] + ([spend] if spend else [])
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise ValueError(f"leading_indicators: required column(s) {missing} missing from the summary")
    if not 0 < train_share < 1:
        raise ValueError(f"leading_indicators: train_share must be between 0 and 1, got {train_share}")
    if summary[time].is_monotonic_increasing:  # the caller sorted it (with a tie-break)
        df = summary.reset_index(drop=True)
    else:
        df = summary.sort_values(time, kind="stable").reset_index(drop=True)
    n_train = int(round(len(df) * train_share))
    flags = (df[list(features)].fillna(0).to_numpy(dtype=float) > 0).astype(float)
    money = df[spend].fillna(0).to_numpy(dtype=float) if spend else None
    return indicators_of_patterns(
        flags, df[outcome].to_numpy(dtype=float), np.ones(len(df)), np.arange(len(df)) < n_train, features,
        spend=money, test_from=df[time].iloc[n_train] if n_train < len(df) else None, C=C, min_doers=min_doers)


def indicators_of_patterns(
    flags: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    train: np.ndarray,
    features: Sequence[str],
    *,
    spend: np.ndarray | None = None,
    test_from: object = None,
    C: float = 1.0,
    min_doers: int = 30,
) -> LeadingIndicators:
    """:func:`leading_indicators` on customers already folded into patterns: row ``i`` stands for
    ``weight[i]`` customers with the 0/1 ``flags[i]`` (one column per feature) and outcome
    ``y[i]``, all in the training cohorts or all in the test ones (``train[i]``); ``spend[i]``
    is their summed spend. The same sums as one row per customer, so the same fit, AUC and table.
    """
    flags, y = np.asarray(flags, dtype=float), np.asarray(y, dtype=float)
    w, train = np.asarray(weight, dtype=float), np.asarray(train, dtype=bool)
    n, n_train = w.sum(), w[train].sum()
    doers = w @ flags
    keep = (doers >= min_doers) & (n - doers >= min_doers)
    dropped = tuple(f for f, k in zip(features, keep, strict=True) if not k)
    names = [f for f, k in zip(features, keep, strict=True) if k]
    if not names:
        raise ValueError(f"leading_indicators: no behaviour is done by at least {min_doers} customers and "
                         f"left undone by as many ({int(n)} customers); lower min_doers or use more data")
    x = flags[:, keep]
    auc, ci = _validated_auc(x, y, w, train, C)
    # the slopes people read: everyone
    mu, sd = _standardisation(x, w)
    xs, ys, ws = _patterns(x, y, w)
    full = fit_logistic((xs - mu) / sd, ys, C=C, sample_weight=ws)
    lo, hi = full.interval()
    did = x > 0
    n_did = w @ did
    stayed = (w * y) @ did, (w * y) @ ~did
    table = pd.DataFrame({
        "indicator": names,
        "doers": n_did.astype("int64"),
        "doer_share": n_did / n,
        "coef": full.coef, "ci_low": lo, "ci_high": hi,
        "odds_ratio": np.exp(full.coef / sd), "or_low": np.exp(lo / sd), "or_high": np.exp(hi / sd),
        "rate_doers": stayed[0] / n_did,
        "rate_others": stayed[1] / (n - n_did),
    })
    if spend is not None:
        money = np.nan_to_num(np.asarray(spend, dtype=float))
        table["spend_doers"] = money @ did / n_did
        table["spend_others"] = money @ ~did / (n - n_did)
    # rank on the low end of the odds ratio's interval: what doing it is surely worth. The odds
    # ratio (doing vs not), not the slope per standard deviation, because a common behaviour's
    # SD is larger and would inflate its slope; the low end, so that a large but uncertain
    # effect (one behaviour nearly standing for another, like a visit for a click) does not
    # outrank a clear one
    table = table.sort_values(["or_low", "indicator"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return LeadingIndicators(table=table, auc=auc, auc_ci=ci, n_train=int(n_train), n_test=int(n - n_train),
                             test_from=test_from, dropped=dropped)
