"""The demo brand's monitoring truths (docs/demo.md §11): each planted change is flagged within one
period of where it was planted, and series with no planted change stay quiet, over several seeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

import afterclick
from afterclick.demo import monitoring as M
from afterclick.monitor import FlagKind, judge, load_annotations
from afterclick.monitor.kpi_series import computed_series
from afterclick.monitor.series import period_start

#: Series with no planted change (truth 4 of §11).
QUIET = ("advocacy.nps", "advocacy.ces", "trust.pages_per_session", "community.time_to_first_response")
POINT = (FlagKind.ANOMALY, FlagKind.OUTSIDE_LIMITS)


@pytest.fixture(scope="module", params=[11, 3])
def store(request, demo_ws, tmp_path_factory):
    """The small demo of each seed through the real ingest (seed 11: the shared one)."""
    if request.param == 11:
        return demo_ws.store.location
    from afterclick.demo import write_demo
    from afterclick.ingest import ingest
    from afterclick.store import Store

    folder = tmp_path_factory.mktemp(f"demo_{request.param}")
    write_demo(folder / "src", size="small", seed=request.param)
    with Store(folder / "demo.duckdb") as st:
        assert ingest(st, folder / "src").adds_up
    return folder / "demo.duckdb"


def _near(flags, kinds, planted: pd.Timestamp, grain) -> list:
    """Flags of those kinds whose (first) period is within one period of ``planted``."""
    lo, hi = period_start(planted, grain, -1), period_start(planted, grain, 1)
    return [f for f in flags if f.kind in kinds and lo <= (f.first_period or f.period) <= hi]


def test_every_planted_change_is_flagged_within_one_period(store):
    notes = load_annotations(list(M.ANNOTATIONS))
    with afterclick.open(store, read_only=True) as ws:
        cohorts = judge(computed_series(ws, "retention.cohort_weekly")[0], annotations=notes)
        csat = judge(computed_series(ws, "advocacy.csat")[0], annotations=notes)
    change = M.CAMPAIGN_CHANGE.tz_localize(None)
    [shift] = _near(cohorts.flags, (FlagKind.LEVEL_SHIFT,), change, cohorts.grain)
    assert shift.difference < -0.1 and "acquisition campaign changed" in shift.sentence
    [dip] = _near(csat.flags, POINT, pd.Timestamp("2025-12-01"), csat.grain)
    assert dip.period == pd.Timestamp("2025-12-01") and dip.difference < -0.2
    # clicks to nowhere, recomputed week by week over the weeks around the outage
    with afterclick.open(store, read_only=True, start=datetime(2026, 1, 5, tzinfo=UTC),
                         end=datetime(2026, 3, 30, tzinfo=UTC)) as ws:  # twelve weeks
        nowhere = judge(computed_series(ws, "journey.clicks_to_nowhere_rate")[0], annotations=notes)
        outage = M.OUTAGE[0].tz_localize(None)
        spikes = _near(nowhere.flags, POINT, outage, nowhere.grain)
        assert [f.period for f in spikes if f.difference > 0.3] == [outage]
        spike = next(f for f in spikes if f.period == outage)
        assert "site outage" in spike.sentence
        from afterclick.monitor.explainers import explain_flag

        move = explain_flag(ws, nowhere, spike)
    assert move is not None and move.rate > 0.5 * move.change > 0  # the same campaigns behaved worse
    assert move.sentence.startswith("Clicks to nowhere rose from")


def test_series_without_planted_change_stay_quiet(store):
    flags, years = 0, 0.0
    with afterclick.open(store, read_only=True) as ws:
        for kpi in QUIET:
            s = computed_series(ws, kpi)[0]
            j = judge(s)
            assert j.judged, (kpi, j.reason)
            n_years = len(s) / s.grain.season
            assert len(j.flags) <= max(1, round(n_years)), (kpi, [f.sentence for f in j.flags])
            flags, years = flags + len(j.flags), years + n_years
    assert flags / years <= 1.0


def test_annotations_file_round_trips(tmp_path):
    path = M.write_annotations(tmp_path / "demo.annotations.toml")
    notes = load_annotations(path)
    assert [(n.date.isoformat(), n.text) for n in notes] == [(a["date"], a["text"]) for a in M.ANNOTATIONS]
