"""One line a marketer can act on, from the results of one variant against control.

    B won clicks (+18 % CTR, 95 % interval +11 % to +25 %) but lost 30-day return
    (−4.1 points, −6.0 to −2.2); split as planned (Pearson χ² goodness of fit p = 0.47)

The sentence is built from data only: the comparisons, a label per metric, which metrics are
vanity (clicks, CTR) and which are relationship outcomes (return, commitment, NPS, CLV), which
are better lower, the sample-ratio check and a power plan. Vanity metrics are named first so a
win on clicks and a loss on return read as one story. "Won"/"lost" needs the (corrected, when
a correction was applied) p-value below alpha; anything else is "no clear difference".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from afterclick.stats.experiment.effects import Comparison, Effect
from afterclick.stats.experiment.guardrails import Novelty, SampleRatio
from afterclick.stats.experiment.power import PowerPlan

Display = Literal["relative", "points", "absolute"]
MINUS = "\u2212"


def _signed(x: float, digits: int) -> str:
    s = f"{abs(x):.{digits}f}"
    return ("+" if x > 0 else MINUS if x < 0 and float(s) != 0 else "") + s


def _pct(x: float) -> str:
    """A fraction as a signed percentage: 0.183 → "+18 %", 0.046 → "+4.6 %"."""
    return _signed(100 * x, 0 if abs(x) >= 0.1 else 1) + " %"


def _num(x: float) -> str:
    return _signed(x, max(0, 2 - int(f"{abs(x):e}".split("e")[1]))) if x else "0"


def default_display(c: Comparison) -> Display:
    """Shares and net scores in points, everything else as a relative lift."""
    return "points" if c.kind in ("proportion", "nps") else "relative"


def describe_effect(c: Comparison, display: Display, unit: str = "", first: bool = True) -> str:
    """"+18 % CTR, 95 % interval +11 % to +25 %" or "−4.1 points, −6.0 to −2.2"."""
    e: Effect = c.relative if display == "relative" else c.absolute
    if e.estimate is None:
        return e.status
    if display == "relative":
        fmt = _pct
    elif display == "points":
        def fmt(x: float) -> str:
            return _signed(100 * x, 1)
    else:
        fmt = _num
    head = fmt(e.estimate) + (" points" if display == "points" else "")
    head += f" {unit}" if unit else ""
    if e.low is None or e.high is None:
        return head
    lo, hi = fmt(e.low), fmt(e.high)
    level = f"{100 * e.level:g} % interval " if first else ""
    return f"{head}, {level}{lo} to {hi}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _srm_clause(srm: SampleRatio) -> str:
    if not srm.ok or srm.p_value is None:
        return ""
    if not srm.flagged:
        return f"split as planned ({srm.method} p = {srm.p_value:.2g})"
    got = "/".join(f"{100 * s:.1f}" for s in srm.observed_shares)
    total = sum(srm.planned)
    want = "/".join(f"{100 * w / total:g}" for w in srm.planned)
    return (f"do not trust this result: the split is {got} against a planned {want} "
            f"(sample-ratio mismatch, {srm.method} p = {srm.p_value:.2g})")


def _balance_clause(c: Comparison, alpha: float) -> str:
    e = c.relative if c.relative.ok else c.absolute
    if not e.ok or e.p_value is None or e.p_value >= alpha:
        return ""
    shown = _pct(e.estimate) if e.scale == "relative" else _num(e.estimate)
    return (f"pre-period imbalance: the variant was already {shown} before assignment "
            f"(p = {e.p_value:.2g})")


def _novelty_clause(n: Novelty, alpha: float, relative: bool) -> str:
    if not n.fading(alpha):
        return ""
    per_week = _pct(n.estimate) if relative else _signed(100 * n.estimate, 1) + " points"
    return (f"novelty: the lift fades with exposure ({per_week} a week, p = {n.p_value:.2g}), "
            "so the first weeks overstate it")


def _when(days: int) -> str:
    if days >= 14:
        return f"about {round(days / 7)} more weeks at current traffic"
    return f"about {days} more day{'s' if days != 1 else ''} at current traffic"


def _plan_clause(p: PowerPlan) -> str:
    if not p.ok or p.power is None:
        return f"power unknown ({p.status})" if p.status != "ok" else ""
    head = f"{100 * p.power:.0f} % power for a {100 * abs(p.lift):g} % lift"
    if p.enough:
        return f"no difference as large as {100 * abs(p.lift):g} % ({head})"
    if p.days_more is None:
        return f"not enough data yet: {head} and {p.status}"
    return f"not enough data yet: {head} \u2014 {_when(p.days_more)}"


def verdict(variant: str, results: Mapping[str, Comparison], *,
            labels: Mapping[str, str] | None = None, vanity: Iterable[str] = (),
            lower_is_better: Iterable[str] = (), display: Mapping[str, Display] | None = None,
            units: Mapping[str, str] | None = None, srm: SampleRatio | None = None,
            plan: PowerPlan | None = None, pre_period: Comparison | None = None,
            novelty: Novelty | None = None, novelty_relative: bool = True,
            alpha: float = 0.05) -> str:
    """One sentence for ``variant`` from its comparisons against control, keyed by metric id.

    ``labels`` names the metrics in words ("30-day return"); ``vanity`` lists the vanity
    metric ids (named first); ``lower_is_better`` flips won/lost (churn, refunds); ``display``
    chooses "relative", "points" (× 100, for shares) or "absolute" per metric; ``units`` adds
    a word after the estimate ("CTR"); ``srm``, ``pre_period`` (``pre_period_balance``),
    ``novelty`` (``novelty_check`` on relative lifts, or points with ``novelty_relative=False``)
    and ``plan`` add the guardrails and the power.
    """
    labels, display, units = labels or {}, display or {}, units or {}
    vanity_ids, lower = set(vanity), set(lower_is_better)
    order = sorted(results, key=lambda k: (k not in vanity_ids, list(results).index(k)))
    won, lost, flat, broken = [], [], [], []
    first = True
    for key in order:
        c = results[key]
        name = labels.get(key, key)
        shown = display.get(key, default_display(c))
        e = c.relative if shown == "relative" else c.absolute
        if not e.ok or e.estimate is None:
            broken.append(f"{name} not measured ({e.status})")
        elif e.significant(alpha):
            text = f"{name} ({describe_effect(c, shown, units.get(key, ''), first)})"
            first = False
            good = (e.estimate > 0) != (key in lower)
            (won if good else lost).append(text)
        else:
            flat.append(name)
    clauses = []
    if won or lost:
        story = f"{variant} " + (f"won {_join(won)}" if won else "")
        if lost:
            story += (" but " if won else "") + f"lost {_join(lost)}"
        clauses.append(story)
    if flat:
        lead = "no clear difference on " if won or lost else f"{variant}: no clear difference on "
        clauses.append(lead + _join(flat))
    if plan is not None and (flat or not (won or lost)):
        text = _plan_clause(plan)
        if text:
            clauses.append(text)
    clauses.extend(broken)
    if pre_period is not None and (text := _balance_clause(pre_period, alpha)):
        clauses.append(text)
    if novelty is not None and (text := _novelty_clause(novelty, alpha, novelty_relative)):
        clauses.append(text)
    if srm is not None:
        text = _srm_clause(srm)
        if srm.flagged:
            return text[0].upper() + text[1:] + "; " + "; ".join(clauses)
        if text:
            clauses.append(text)
    return "; ".join(clauses) if clauses else f"{variant}: nothing measured"
