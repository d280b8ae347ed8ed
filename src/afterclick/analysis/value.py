"""The CLV models behind the value KPIs (``kpis/value.py``): BG/NBD (Pareto/NBD when it cannot
converge) and Gamma-Gamma fitted on the per-customer RFM summary the engine executed, once per
workspace and period and shared by every value KPI (``Tables.fitted``), and what each KPI reads
from them. Each public function but the model helpers is a ``finish`` step named by a spec
(``kpis.base.Analysis``), given the workspace's tables and the review parameters."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from afterclick import clv
from afterclick.clv.lifetime_value import distinct_customers
from afterclick.kpis.base import Outcome, Params, Tables
from afterclick.kpis.value import (
    HORIZON_MONTHS,
    LIFETIME_MONTHS,
    MATRIX_MAX_FREQUENCY,
    MONTHLY_DISCOUNT,
    customer_value,
    holdout_rows,
)


def _buyers(rows: pd.DataFrame) -> pd.DataFrame:
    """The buyers, in customer order, their RFM inputs rounded to 1e-6: engines sum amounts in
    different orders (last-bit differences), and the fit must not depend on which one ran."""
    b = rows[rows["orders"] > 0].sort_values("customer_id").reset_index(drop=True)
    cols = ["frequency", "recency", "T", "monetary_value"]
    b[cols] = b[cols].astype(float).round(6)
    return b


def fit_purchases(summary: pd.DataFrame) -> clv.BetaGeo | clv.ParetoNBD:
    """BG/NBD; Pareto/NBD when BG/NBD cannot converge (e.g. its dropout runs to a boundary)."""
    try:
        return clv.BetaGeo().fit(summary)
    except clv.ConvergenceError as bg_failed:
        try:
            return clv.ParetoNBD().fit(summary)
        except clv.ConvergenceError:
            raise bg_failed from None


def model_label(model) -> str:
    """The purchase model's name as the notes give it: a Pareto/NBD says it stands in for the
    BG/NBD the definitions name."""
    if isinstance(model, clv.ParetoNBD):
        return "Pareto/NBD (BG/NBD did not converge on these buyers, so the Pareto/NBD model stands in)"
    return model.name


#: Below these counts a lifetime-value model says nothing worth reading: the KPI reports it.
MIN_BUYERS, MIN_REPEAT_BUYERS = 10, 3


def too_few(summary: pd.DataFrame) -> str | None:
    """Why the buyers in ``summary`` are too few to fit a model, or None when they suffice."""
    n, repeat = len(summary), int((summary["frequency"] > 0).sum())
    if n < MIN_BUYERS or repeat < MIN_REPEAT_BUYERS:
        return (f"only {n} buyer(s), {repeat} of them repeat buyers: too few to fit a lifetime-value model "
                f"(needs {MIN_BUYERS} buyers and {MIN_REPEAT_BUYERS} repeat buyers)")
    return None


def _models(t: Tables, p: Params, rows: pd.DataFrame) -> tuple[clv.BetaGeo | clv.ParetoNBD, clv.GammaGamma] | str:
    """The purchase model and Gamma-Gamma fitted on the buyers, once per workspace and period,
    or the reason there are too few buyers to fit them."""

    def fit():
        buyers = _buyers(rows)
        try:
            return too_few(buyers) or (fit_purchases(buyers), clv.GammaGamma().fit(buyers))
        except clv.ConvergenceError as exc:  # said beside the missing number, not as a failure
            return f"no lifetime-value model could be fitted on these buyers: {exc}"

    return t.fitted(_models, p, customer_value, fit)


def predictions(t: Tables, p: Params, rows: pd.DataFrame) -> pd.DataFrame:
    """Per buyer: p_alive, purchases_12m, order_value, clv_12m, and the 36 discounted monthly
    values (``month_1``…) the campaign credit and payback read."""

    def build():
        models = _models(t, p, rows)
        if isinstance(models, str):
            return None, None
        bg, gg = models
        buyers = _buyers(rows)
        # per distinct (frequency, recency, T), gathered back to the buyers: the same numbers
        (x, r, T), row = distinct_customers(buyers)
        months = clv.expected_value_by_period(bg, gg, buyers, LIFETIME_MONTHS, clv.WEEKS_PER_MONTH, MONTHLY_DISCOUNT)
        out = pd.DataFrame({
            "customer_id": buyers["customer_id"],
            "p_alive": bg.probability_alive(x, r, T)[row],
            "purchases_12m": bg.expected_purchases(HORIZON_MONTHS * clv.WEEKS_PER_MONTH, x, r, T)[row],
            "order_value": gg.expected_order_value(buyers["frequency"], buyers["monetary_value"]),
            "clv_12m": months[:, :HORIZON_MONTHS].sum(axis=1),
            "clv_lifetime": months.sum(axis=1),
        })
        return out, months

    return t.fitted(predictions, p, customer_value, build)


#: Columns of the derived table ``clv``: per buyer, probability alive, 12-month and lifetime value.
CLV_COLUMNS = ("customer_id", "p_alive", "clv_12m", "predicted_clv")


def clv_table(ws) -> ibis.Table | None:
    """The derived table ``clv`` (one row per buyer; see ``CLV_COLUMNS``) for the workspace
    ``ws``'s period (``afterclick.engine.derived.prepare_clv`` names it).

    Other families read predicted lifetime value from it (relationship attribution credits
    ``predicted_clv``, the discounted 36-month value). It is an in-memory table handed to the
    workspace, rebuilt per workspace from the same fitted models as the value KPIs (so the
    store is unchanged and every backend can join it); None without transactions or with too
    few buyers to fit a model.
    """
    t, p = ws.tables, ws.review_params()
    if "transactions" not in t:
        return None
    preds, _ = predictions(t, p, ws.store.con.execute(customer_value(t, p)))
    if preds is None:
        return None
    df = preds.rename(columns={"clv_lifetime": "predicted_clv"})[list(CLV_COLUMNS)]
    return ibis.memtable(df.reset_index(drop=True))


def _model_notes(t: Tables, p: Params, rows: pd.DataFrame) -> tuple[str, ...]:
    models = _models(t, p, rows)
    if isinstance(models, str):
        return (models,)
    bg, gg = models
    fmt = ", ".join(f"{k}={v:.3g}" for k, v in bg.params.items())
    gfmt = ", ".join(f"{k}={v:.3g}" for k, v in gg.params.items())
    return (f"{model_label(bg)} ({fmt}; weeks) and Gamma-Gamma ({gfmt}) fitted on {int(bg.info.customers):,} buyers; "
            f"value discounted at {MONTHLY_DISCOUNT:.0%} a month, revenue net of refunds (no margin).",)


def predicted_clv(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """Per buyer: the RFM summary beside its predictions, highest 12-month value first; the
    headline is their mean 12-month value."""
    pred, _ = predictions(t, p, rows)
    if pred is None:
        return Outcome(None, None, notes=_model_notes(t, p, rows))
    out = _buyers(rows).drop(columns=["first_day"]).merge(pred, on="customer_id")
    out = out.sort_values(["clv_12m", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    return Outcome(float(out["clv_12m"].mean()), out, notes=_model_notes(t, p, rows))


def by_segment(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """Per segment: buyers, revenue per buyer to date, predicted 12-month value per buyer and in
    total, mean probability alive; the headline is the best segment's value per buyer."""
    pred, _ = predictions(t, p, rows)
    if pred is None:
        return Outcome(None, None, notes=_model_notes(t, p, rows))
    b = _buyers(rows).merge(pred, on="customer_id")
    b["segment"] = b["segment"].fillna("unknown")
    out = b.groupby("segment", as_index=False).agg(
        buyers=("customer_id", "size"), revenue_per_buyer=("revenue", "mean"),
        clv_12m_per_buyer=("clv_12m", "mean"), clv_12m_total=("clv_12m", "sum"), p_alive=("p_alive", "mean"),
    ).sort_values(["clv_12m_per_buyer", "segment"], ascending=[False, True]).reset_index(drop=True)
    return Outcome(float(out["clv_12m_per_buyer"].max()), out, notes=_model_notes(t, p, rows))


def probability_alive(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """The BG/NBD probability-alive matrix over frequency and recency (weeks) at the longest
    observation, with how many buyers fall in each cell; the headline is the buyers' mean."""
    pred, _ = predictions(t, p, rows)
    if pred is None:
        return Outcome(None, None, notes=_model_notes(t, p, rows))
    bg, _ = _models(t, p, rows)
    b = _buyers(rows)
    T = float(b["T"].max())
    top = int(min(MATRIX_MAX_FREQUENCY, max(b["frequency"].max(), 1)))
    weeks = np.arange(0, int(np.floor(T)) + 1, dtype=float)
    grid = pd.DataFrame([(f, w) for f in range(top + 1) for w in weeks if f > 0 or w == 0],
                        columns=["frequency", "recency"])
    grid["p_alive"] = bg.probability_alive(grid["frequency"], grid["recency"], np.full(len(grid), T))
    cells = b.assign(frequency=b["frequency"].clip(upper=top), recency=np.floor(b["recency"]))
    counts = cells.groupby(["frequency", "recency"]).size().rename("customers").reset_index()
    grid = grid.merge(counts, on=["frequency", "recency"], how="left").fillna({"customers": 0})
    grid["customers"] = grid["customers"].astype("int64")
    grid["T"] = T
    notes = list(_model_notes(t, p, rows))
    once = b["frequency"].to_numpy() == 0
    if isinstance(bg, clv.BetaGeo) and once.any():
        # BG/NBD lets people drop out only right after a purchase, so one-time buyers read as
        # alive: say how much of the average that is, and what the repeat buyers show
        repeat = pred["p_alive"].to_numpy()[~once]
        tail = f"; among repeat buyers the mean is {repeat.mean():.0%}" if len(repeat) else ""
        notes.append(f"BG/NBD counts a buyer who bought only once as alive (probability 1): {once.sum():,} of "
                     f"{len(b):,} buyers ({once.mean():.0%}) bought once{tail}.")
    return Outcome(float(pred["p_alive"].mean()), grid, notes=tuple(notes))


def campaign_ltv_credit(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """Per campaign: first sale, revenue to date and the 36 months predicted for the customers it
    acquired, ROI, CAC and payback where spend is known; the headline is Σ lifetime value / Σ
    first-sale revenue."""
    pred, months = predictions(t, p, rows)
    if pred is None:  # too few buyers for a model: first sales and revenue to date only
        pred = pd.DataFrame({"customer_id": pd.Series([], dtype=object), "clv_12m": pd.Series([], dtype=float)})
        months = np.full((0, LIFETIME_MONTHS), np.nan)
    future = pd.DataFrame(months, columns=[f"m{i}" for i in range(1, LIFETIME_MONTHS + 1)])
    future["customer_id"] = pred["customer_id"].to_numpy().astype(object)
    future["clv_12m"] = pred["clv_12m"].to_numpy()
    r = rows[rows["campaign_id"].notna()].astype({"customer_id": object}).merge(future, on="customer_id", how="left")
    if len(future):
        r = r.fillna({c: 0.0 for c in future.columns if c != "customer_id"})
    g = r.groupby("campaign_id", as_index=False)
    out = g.agg(name=("name", "first"), spend=("spend", "first"), acquired=("customer_id", "size"),
                buyers=("orders", lambda s: int((s > 0).sum())), first_sale=("first_revenue", "sum"),
                revenue_to_date=("revenue", "sum"), predicted_12m=("clv_12m", lambda s: s.sum(min_count=1)))
    monthly = g[[f"m{i}" for i in range(1, LIFETIME_MONTHS + 1)]].sum(min_count=1)
    cum = monthly.drop(columns="campaign_id").to_numpy().cumsum(axis=1)
    out["predicted_future"] = cum[:, -1]
    out["lifetime_value"] = out["revenue_to_date"] + out["predicted_future"]
    out["lifetime_per_buyer"] = out["lifetime_value"] / out["buyers"].where(out["buyers"] > 0)
    spend = out["spend"].where(out["spend"] > 0)
    out["roi_first_sale"] = out["first_sale"] / spend - 1
    out["roi_lifetime"] = out["lifetime_value"] / spend - 1
    out["cac"] = spend / out["buyers"].where(out["buyers"] > 0)
    out["ltv_to_cac"] = out["lifetime_per_buyer"] / out["cac"]
    out["payback_months"] = [_payback(s, rev, c) for s, rev, c in zip(spend, out["revenue_to_date"], cum)]
    out["lifetime_to_first_sale"] = out["lifetime_value"] / out["first_sale"].where(out["first_sale"] > 0)
    out = out.sort_values(["lifetime_value", "revenue_to_date", "campaign_id"], ascending=[False, False, True],
                          na_position="last").reset_index(drop=True)
    total_first, total_life = out["first_sale"].sum(), out["lifetime_value"].sum(min_count=1)
    value = float(total_life / total_first) if total_first > 0 and total_life == total_life else None
    return Outcome(value, out, notes=_model_notes(t, p, rows))


def engaged_non_buyer_value(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """What engaged non-buyers are expected to be worth, if they convert as earlier engaged
    people did (first order and 12 months of predicted repeat value)."""
    models = _models(t, p, rows)
    if isinstance(models, str):
        return Outcome(None, None, notes=(models,))
    bg, gg = models
    e = rows[rows["engaged"] == 1]
    buyers_e = e[e["orders"] > 0]
    n_e, n_buy = len(e), len(buyers_e)
    if n_e == 0:
        return Outcome(None, None, notes=("no engaged customers in the period",))
    conversion = n_buy / n_e
    first_order = float(_buyers(rows)["first_revenue"].mean())
    steps = np.arange(1, HORIZON_MONTHS + 1) * clv.WEEKS_PER_MONTH
    cum = bg.expected_purchases_new(steps)
    repeat_value = float(np.sum(np.diff(np.r_[0.0, cum]) * gg.population_mean()
                                / (1 + MONTHLY_DISCOUNT) ** np.arange(1, HORIZON_MONTHS + 1)))
    per_person = conversion * (first_order + repeat_value)
    out = pd.DataFrame({
        "group": ["engaged buyers", "engaged non-buyers"],
        "customers": [n_buy, n_e - n_buy],
        "revenue_per_customer": [float(buyers_e["revenue"].mean()) if n_buy else None, 0.0],
        "expected_value_per_customer": [None, per_person],
        "expected_value": [None, per_person * (n_e - n_buy)],
    })
    notes = (f"Assumes {conversion:.0%} of engaged non-buyers buy (the share of engaged people who have), "
             f"spending a first order of {first_order:,.2f} and {repeat_value:,.2f} of repeat value "
             f"in 12 months.",)
    return Outcome(per_person * (n_e - n_buy), out, notes=notes)


def holdout_check(_value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """The purchase model fitted on the weeks before the holdout against what happened in it,
    per calibration frequency; the headline is predicted / actual repeat purchase days."""
    if rows is None or too_few(rows):
        return Outcome(None, None, notes=(too_few(rows) if rows is not None else "no purchases", ))
    model = t.fitted(fit_purchases, p, holdout_rows, lambda: fit_purchases(rows))
    pred = model.expected_purchases(rows["duration_holdout"], rows["frequency"], rows["recency"], rows["T"])
    d = pd.DataFrame({"frequency": rows["frequency"].clip(upper=7).astype(int), "predicted": pred,
                      "actual": rows["frequency_holdout"]})
    out = d.groupby("frequency", as_index=False).agg(buyers=("actual", "size"), predicted=("predicted", "mean"),
                                                     actual=("actual", "mean"))
    out["frequency"] = out["frequency"].map(lambda f: "7+" if f >= 7 else str(f))
    weeks = float(rows["duration_holdout"].iloc[0])
    actual = float(d["actual"].sum())
    notes = (f"{model_label(model)} fitted on the weeks before a {weeks:.0f}-week holdout: predicted {d['predicted'].sum():,.0f} "
             f"repeat purchase days, {actual:,.0f} happened.",)
    return Outcome(float(d["predicted"].sum() / actual) if actual > 0 else None, out, notes=notes)


def _payback(spend: float, revenue: float, cumulative: np.ndarray) -> float | None:
    if spend != spend:  # unknown spend
        return None
    if revenue >= spend:
        return 0.0
    if np.isnan(cumulative).any():  # no model: nothing predicted
        return None
    reached = np.flatnonzero(revenue + cumulative >= spend)
    return float(reached[0] + 1) if len(reached) else None
