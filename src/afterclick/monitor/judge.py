"""Judge a KPI series: is the last move routine variation, a spike, a run or a level shift?

1. Fewer than ``min_points`` observed periods: too short to judge, said in words.
2. Enough seasons (two weeks of a daily series, three years of a weekly or monthly one; see
   ``JudgeSettings``): STL removes the seasonality (local-constant seasonal smoother, which
   averages each phase over the seasons instead of interpolating them; levels already found are
   taken out first, as X-13ARIMA-SEATS does with level-shift regressors, and spikes are replaced
   by their fitted value before a second fit). A value is an anomaly when the robust z of its
   residual passes ``z_threshold``. Shorter series: XmR natural process limits and Wheeler's
   detection rules, per level.
3. Change points: PELT on the seasonally adjusted series after a Hampel filter has replaced lone
   spikes (so a spike is not read as two shifts); see :mod:`afterclick.monitor.changepoints`.
4. Every flag needs both the statistical surprise and the minimum business magnitude; a value
   that matches its own level next to a confirmed shift is part of the shift, not an anomaly.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import numpy as np

from afterclick.monitor.annotations import Annotation, note_for
from afterclick.monitor.changepoints import (
    ChangePoints,
    find_change_points,
    segments_of,
)
from afterclick.monitor.flags import (
    DEFAULT_MIN_MAGNITUDE,
    Flag,
    FlagKind,
    Judgement,
    JudgeSettings,
    JudgeStatus,
    MinMagnitude,
)
from afterclick.monitor.robust import (
    StlSettings,
    decompose,
    fill_gaps,
    hampel_clean,
    robust_sigma,
    robust_z,
)
from afterclick.monitor.series import (
    Grain,
    KpiSeries,
    format_difference,
    format_level,
    period_label,
)
from afterclick.monitor.xmr import (
    RunRule,
    average_moving_range,
    rule_breaks,
    xmr_limits,
)


def default_min_magnitude(unit) -> MinMagnitude:
    return DEFAULT_MIN_MAGNITUDE.get(unit, MinMagnitude(0.10, relative=True))


def _relative(diff: float, expected: float) -> float:
    return diff / abs(expected) if expected else (np.inf if diff else 0.0)


def _stl_trend_window(period: int, seasonal: int) -> int:
    """STL's default trend window: the smallest odd integer > 1.5·period / (1 − 1.5/seasonal)."""
    w = int(np.ceil(1.5 * period / (1 - 1.5 / seasonal) + 1e-9))
    return w + 1 if w % 2 == 0 else w


def _eligible(series: KpiSeries, settings: JudgeSettings) -> np.ndarray:
    ok = np.isfinite(series.values)
    if series.n is not None and settings.min_n > 0:
        ok &= np.nan_to_num(series.n) >= settings.min_n
    return ok


def _level_shifts(series: KpiSeries, adjusted: np.ndarray, cps: ChangePoints, mm: MinMagnitude, seasonal: bool):
    """Drop the smallest break below the minimum magnitude until all left pass; flag those. Levels
    are the means of the (seasonally adjusted) values, spikes included: the filter only keeps a
    spike from being read as two breaks."""
    bkps = list(cps.breakpoints)
    while len(bkps) > 1:
        segs = segments_of(adjusted, bkps)
        sizes = [mm.size(b.mean - a.mean, a.mean) for a, b in pairwise(segs)]
        weakest = int(np.argmin(sizes))
        if sizes[weakest] >= mm.amount:
            break
        del bkps[weakest]
    segs = segments_of(adjusted, bkps)
    flags = []
    for a, b in pairwise(segs):
        diff = b.mean - a.mean
        z = diff / (cps.sigma * np.sqrt(1 / a.n + 1 / b.n)) if cps.sigma > 0 else np.inf
        start, last_old = series.periods[b.start], series.periods[b.start - 1]
        adj = " (seasonally adjusted)" if seasonal else ""
        text = (f"{series.name}: level shift since {period_label(start, series.grain)}{adj}: "
                f"{format_level(a.mean, series.unit)} → {format_level(b.mean, series.unit)} "
                f"({format_difference(diff, series.unit, _relative(diff, a.mean))}); "
                f"{period_label(last_old, series.grain)} was the last at the old level.")
        flags.append(Flag(series.kpi, start, FlagKind.LEVEL_SHIFT, b.mean, a.mean, diff,
                          _relative(diff, a.mean), float(z), "z", "pelt", text, first_period=start))
    return flags, tuple(bkps), segs


def _point_sentence(series: KpiSeries, t: int, expected: float, tail: str) -> str:
    v = series.values[t]
    diff = v - expected
    return (f"{series.name} in {period_label(series.periods[t], series.grain)}: "
            f"{format_level(v, series.unit)}, {tail} "
            f"({format_difference(diff, series.unit, _relative(diff, expected))}).")


def _unmirrored(series: KpiSeries, candidates: np.ndarray, z: np.ndarray) -> list[int]:
    """With few seasons, a lone spike leaks into the seasonal estimate and leaves a mirror image
    of opposite sign a whole number of seasons away; of such a pair keep the value that stands out
    from its own neighbours."""
    y, period, keep = fill_gaps(series.values), series.grain.season, set(candidates.tolist())

    def local(t: int) -> float:
        near = np.r_[y[max(0, t - 2):t], y[t + 1:t + 3]]
        return abs(y[t] - np.median(near))

    for t in sorted(keep):
        for m in range(t % period, len(y), period):
            if m in keep and t in keep and np.sign(z[m]) != np.sign(z[t]):
                keep.discard(m if local(t) >= local(m) else t)
    return sorted(keep)


def _stl_settings(settings: JudgeSettings, season: int) -> StlSettings:
    return StlSettings(period=season, seasonal=settings.stl_seasonal, seasonal_deg=0, robust=settings.stl_robust)


def _clean_fit(y: np.ndarray, settings: JudgeSettings, season: int):
    """STL twice: values past the threshold in the first fit are replaced by their fitted value
    before the second, so a spike does not leak into its phase's seasonal estimate (and leave
    mirror images one season away). Returns the expectation, residual, its centre and scale."""
    first = decompose(y, _stl_settings(settings, season))
    fitted = first.trend + first.seasonal
    out = np.abs(robust_z(first.resid)) > settings.z_threshold
    dec = decompose(np.where(out, fitted, y), _stl_settings(settings, season)) if out.any() else first
    expected = dec.trend + dec.seasonal
    return expected, y - expected, float(np.median(dec.resid)), robust_sigma(dec.resid)


def _stl_checks(series, settings, y_model, step, adjusted, segs, breaks, mm, eligible):
    fit, resid, centre, sigma = _clean_fit(y_model, settings, series.grain.season)
    expected = fit + step
    z = (resid - centre) / sigma if sigma > 0 else np.zeros_like(resid)
    level = np.concatenate([np.full(s.n, np.median(adjusted[s.start:s.end])) for s in segs])
    seg_sigma = robust_sigma(adjusted - level)
    near = _stl_trend_window(series.grain.season, settings.stl_seasonal) // 2 + 1
    flags = []
    for t in _unmirrored(series, np.flatnonzero(eligible & (np.abs(z) > settings.z_threshold)), z):
        diff = series.values[t] - expected[t]
        if not mm.passes(diff, expected[t]):
            continue
        if any(abs(t - b) <= near for b in breaks) and seg_sigma > 0 \
                and abs(adjusted[t] - level[t]) <= settings.z_threshold * seg_sigma:
            continue  # matches its own level next to a shift: part of the shift
        tail = f"expected about {format_level(expected[t], series.unit)}, robust z {z[t]:+.1f}"
        flags.append(Flag(series.kpi, series.periods[t], FlagKind.ANOMALY, float(series.values[t]),
                          float(expected[t]), float(diff), _relative(diff, expected[t]), float(z[t]),
                          "z", "stl+mad", _point_sentence(series, t, expected[t], tail)))
    band = settings.z_threshold * sigma
    frame = {"expected": expected, "lower": expected - band, "upper": expected + band, "z": z}
    return flags, frame


def _run_flag(series, brk, limits, mm) -> Flag | None:
    vals = series.values[brk.start: brk.end + 1]
    # "3 of 4 near the limit" may span a value on the other side (a spike): the run's level is
    # that of the values on its side
    own = vals[np.sign(vals - limits.centre) == brk.side]
    mean = float(np.nanmean(own if own.size else vals))
    diff = mean - limits.centre
    if not mm.passes(diff, limits.centre):
        return None
    k = brk.end - brk.start + 1
    rule = "8 in a row" if brk.rule is RunRule.EIGHT_IN_A_ROW else "3 of 4 near the limit"
    side = "above" if brk.side > 0 else "below"
    text = (f"{series.name}: {series.grain.plural(k)} {side} the centre line "
            f"{format_level(limits.centre, series.unit)} ({rule}) from "
            f"{period_label(series.periods[brk.start], series.grain)} to "
            f"{period_label(series.periods[brk.end], series.grain)}, averaging "
            f"{format_level(mean, series.unit)} ({format_difference(diff, series.unit, _relative(diff, limits.centre))}).")
    return Flag(series.kpi, series.periods[brk.end], FlagKind.RUN, mean, limits.centre, diff,
                _relative(diff, limits.centre), float(k), "run", "xmr", text,
                first_period=series.periods[brk.start])


def _xmr_checks(series, settings, segs, mm, eligible):
    n = len(series)
    frame = {k: np.full(n, np.nan) for k in ("expected", "lower", "upper", "z")}
    flags = []
    values = np.where(eligible, series.values, np.nan)
    ranges = [np.abs(np.diff(values[g.start:g.end])) for g in segs]
    if not np.isfinite(np.concatenate(ranges)).any():
        return flags, frame
    pooled = average_moving_range(np.concatenate(ranges))
    for seg, mr in zip(segs, ranges, strict=True):
        part = values[seg.start:seg.end]
        if not np.isfinite(part).any():
            continue
        # a level with few values borrows the moving ranges of every level (Wheeler: limits
        # from fewer than about 8 values are soft)
        own = np.isfinite(mr).sum() >= settings.min_points - 1
        lim = xmr_limits(part) if own else xmr_limits(part, mr_bar=pooled)
        frame["expected"][seg.start:seg.end] = lim.centre
        frame["lower"][seg.start:seg.end] = lim.lower
        frame["upper"][seg.start:seg.end] = lim.upper
        if lim.sigma > 0:
            frame["z"][seg.start:seg.end] = (part - lim.centre) / lim.sigma
        for brk in rule_breaks(part, lim, settings.run_rules):
            shifted = type(brk)(brk.rule, brk.start + seg.start, brk.end + seg.start, brk.side)
            if brk.rule is not RunRule.OUTSIDE:
                flag = _run_flag(series, shifted, lim, mm)
                flags += [flag] if flag else []
                continue
            t = shifted.end
            diff = series.values[t] - lim.centre
            if not mm.passes(diff, lim.centre):
                continue
            limit = lim.upper if brk.side > 0 else lim.lower
            which = "above the upper" if brk.side > 0 else "below the lower"
            tail = f"{which} natural process limit {format_level(limit, series.unit)} (centre {format_level(lim.centre, series.unit)})"
            flags.append(Flag(series.kpi, series.periods[t], FlagKind.OUTSIDE_LIMITS, float(series.values[t]),
                              lim.centre, float(diff), _relative(diff, lim.centre), float(limit), "limit",
                              "xmr", _point_sentence(series, t, lim.centre, tail)))
    return flags, frame


def _too_short(series: KpiSeries, settings: JudgeSettings, mm: MinMagnitude) -> Judgement:
    have = int(np.isfinite(series.values).sum())
    reason = (f"too short to judge: {series.grain.plural(have)} of data, "
              f"at least {settings.min_points} needed")
    return Judgement(series.kpi, series.name, series.unit, series.direction, series.grain,
                     JudgeStatus.TOO_SHORT, None, (), series.frame(), mm, reason)


def _annotate(flags: list[Flag], series: KpiSeries, notes, window: int) -> list[Flag]:
    out = []
    for f in flags:
        note = note_for(series.kpi, f.first_period or f.period, series.grain, notes, window)
        if note is None:
            out.append(f)
            continue
        label = f"after: {note.label()}"
        out.append(Flag(**{**f.__dict__, "annotation": label, "sentence": f"{f.sentence[:-1]} — {label}."}))
    return out


def judge(
    series: KpiSeries, settings: JudgeSettings | None = None, *, annotations: Iterable[Annotation] = ()
) -> Judgement:
    """Judge one KPI series (see the module docstring for the steps)."""
    settings = settings or JudgeSettings()
    mm = settings.min_magnitude or default_min_magnitude(series.unit)
    if np.isfinite(series.values).sum() < max(settings.min_points, 3):
        return _too_short(series, settings, mm)
    y = fill_gaps(series.values)
    season = series.grain.season
    need = settings.min_seasons if series.grain is Grain.DAY else settings.min_years
    seasonal = season is not None and len(series) >= need * season
    step = used = np.zeros_like(y)
    for _ in range(2 if seasonal else 1):
        if seasonal:  # the levels found so far are taken out before the seasonal fit (as X-13 does)
            used = step
            adjusted = y - decompose(y - used, _stl_settings(settings, season)).seasonal
        else:
            adjusted = y
        clean, _ = hampel_clean(adjusted, settings.z_threshold)
        cps = find_change_points(clean, penalty=settings.penalty, penalty_factor=settings.penalty_factor,
                                 min_size=settings.min_size)
        shifts, bkps, segs = _level_shifts(series, adjusted, cps, mm, seasonal)
        if len(bkps) == 1:
            break  # no level to take out: a second pass would repeat the first
        step = np.concatenate([np.full(g.n, g.mean - segs[0].mean) for g in segs])
    eligible = _eligible(series, settings)
    if seasonal:
        points, band = _stl_checks(series, settings, y - used, used, adjusted, segs, bkps[:-1], mm, eligible)
        method = "stl+mad"
    else:
        points, band = _xmr_checks(series, settings, segs, mm, eligible)
        method = "xmr"
    flags = sorted(shifts + points, key=lambda f: (f.period, f.kind.value))
    flags = _annotate(flags, series, tuple(annotations), settings.annotation_window)
    frame = series.frame().assign(**band)
    notes = []
    if series.gaps:
        notes.append(f"{series.grain.plural(series.gaps)} missing: interpolated, never flagged")
    if (~eligible & np.isfinite(series.values)).any():
        notes.append(f"periods with fewer than {settings.min_n:g} behind them are not flagged")
    confirmed = ChangePoints(bkps, segs, cps.penalty, cps.sigma)
    return Judgement(series.kpi, series.name, series.unit, series.direction, series.grain,
                     JudgeStatus.JUDGED, method, tuple(flags), frame, mm, None, confirmed, tuple(notes))
