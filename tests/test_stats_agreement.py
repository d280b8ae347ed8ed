"""The disagreement alert: CSAT up while NPS falls, each change significant."""

from __future__ import annotations

import pandas as pd

from afterclick.stats.agreement import disagreements


def _rows(**extra) -> pd.DataFrame:
    base = {"period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"], utc=True),
            "nps_answers": [100, 100, 100], "promoters": [60, 20, 21], "passives": [20, 20, 20],
            "detractors": [20, 60, 59], "csat_answers": [100, 100, 100], "satisfied": [50, 90, 89]}
    base.update(extra)
    return pd.DataFrame(base)


def test_csat_up_while_nps_falls_is_flagged_once():
    rows, notes = disagreements(_rows())
    # Feb: NPS +40 -> -40 (z = -0.8 / sqrt(0.0064 + 0.0064) = -7.1), CSAT 50% -> 90% (z = 7.4)
    assert rows["nps"].tolist() == [40.0, -40.0, -38.0]
    assert rows["nps_change"].tolist() == [0, -1, 0] and rows["csat_change"].tolist() == [0, 1, 0]
    assert rows["disagree"].tolist() == [False, True, False]
    assert len(notes) == 1 and notes[0].startswith("Feb 2026: CSAT rose while NPS fell")


def test_moving_together_or_within_noise_is_not_flagged():
    rows, notes = disagreements(_rows(satisfied=[90, 50, 52]))  # both fall in February
    assert not rows["disagree"].any()
    assert notes == ["No month in which NPS, CSAT and message sentiment moved significantly apart."]


def test_message_sentiment_counts_as_a_signal():
    # sentiment means 0.1, 0.6, 0.6 with sd ~0.3 over 200 messages: a clear rise in February
    n = 200
    rows, notes = disagreements(_rows(satisfied=[50, 50, 50], messages=[n] * 3,
                                      sentiment_sum=[0.1 * n, 0.6 * n, 0.6 * n],
                                      sentiment_sq=[(0.01 + 0.09) * n, (0.36 + 0.09) * n, (0.36 + 0.09) * n]))
    assert rows["sentiment_change"].tolist() == [0, 1, 0]
    assert rows["disagree"].tolist() == [False, True, False]
    assert "message sentiment rose while NPS fell" in notes[0]
