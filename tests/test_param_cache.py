"""A KPI's parameters are part of what it computed: changing one never returns the value cached
for another (the journey's clicks block was once cached without ``nowhere_minutes``)."""

from __future__ import annotations

from test_ingest import run, write

import afterclick


def test_nowhere_minutes_is_not_served_from_the_default_cache(tmp_path):
    src = tmp_path / "src"
    # a: the visit comes two days after the click (2,820 minutes: nowhere within 30 minutes,
    # somewhere within 3,000); b: 5 minutes after (somewhere either way)
    write(src, "events.csv", "customer_id,ts,event\n"
                             "a,2026-03-02T10:00:00Z,click\na,2026-03-04T09:00:00Z,visit\n"
                             "b,2026-03-02T10:00:00Z,click\nb,2026-03-02T10:05:00Z,visit\n"
                             "c,2026-03-06T10:00:00Z,visit\n")  # the data runs on: both clicks can be judged
    store = tmp_path / "s.duckdb"
    run(store, src)
    with afterclick.open(store, read_only=True) as ws:
        default = ws.kpi("journey.clicks_to_nowhere_rate").value
        wider = ws.kpi("journey.clicks_to_nowhere_rate", nowhere_minutes=3000).value
    with afterclick.open(store, read_only=True) as fresh:
        expected = fresh.kpi("journey.clicks_to_nowhere_rate", nowhere_minutes=3000).value
    assert default == 0.5
    assert wider == expected == 0.0
