"""Benchmark: attribution from 100,000 journeys, against a plain-Python baseline in this script.

    python benchmarks/bench_attribution.py              # 100,000 journeys
    python benchmarks/bench_attribution.py --journeys 1000000

Journeys are sampled from the path distribution of ../shared/data/attribution/input_paths.csv
(each path drawn with its share of journeys, converting with its conversion rate, worth its
mean conversion value), as one row per touch. Timed end to end: touches → distinct paths →
all six models (first, last, linear, position-based, exact Markov, simplified Shapley).
  * engine   — afterclick.attribution (journey_paths + attribute);
  * baseline — the straightforward way: a dict of journeys, a dict of paths, per-touch loops for
               the rules and the transition counts, then the same exact chain solves;
and a check that both give the same credit. Results (with the machine) go to
benchmarks/results/attribution.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from afterclick import attribution as attr
from afterclick.attribution.markov import removal_effects

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / ".." / "shared" / "data" / "attribution" / "input_paths.csv"
GOALS = {"engine_seconds_max": 1.0}


def machine() -> dict:
    from bench_kpis import machine as kpis_machine  # same description as the KPI benchmark

    info = kpis_machine()
    import scipy

    return info | {"numpy": np.__version__, "scipy": scipy.__version__}


def sample_touches(n: int, seed: int = 0) -> pd.DataFrame:
    ref = pd.read_csv(DATA)
    journeys = (ref.total_conversions + ref.total_null).to_numpy(float)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(ref), size=n, p=journeys / journeys.sum())
    rate = (ref.total_conversions / journeys).to_numpy()[pick]
    converted = (rng.random(n) < rate).astype(int)
    mean_value = np.divide(ref.total_conversion_value, ref.total_conversions,
                           out=np.zeros(len(ref)), where=ref.total_conversions > 0)
    value = np.where(converted == 1, mean_value[pick], 0.0)
    split = [p.split(" > ") for p in ref.path]
    lengths = np.array([len(s) for s in split])[pick]
    channel = np.concatenate([split[i] for i in pick])
    jid = np.repeat(np.arange(n), lengths)
    position = np.arange(len(jid)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({"journey_id": jid, "position": position, "channel": channel,
                         "converted": np.repeat(converted, lengths), "value": np.repeat(value, lengths)})


def engine(touches: pd.DataFrame) -> pd.DataFrame:
    return attr.attribute(attr.journey_paths(touches))


def baseline(touches: pd.DataFrame) -> pd.DataFrame:
    """Plain Python: dicts and loops, then the exact chain solved the same way."""
    journeys: dict = defaultdict(list)
    outcome: dict = {}
    for jid, pos, ch, conv, val in zip(touches.journey_id, touches.position, touches.channel,
                                       touches.converted, touches.value, strict=True):
        journeys[jid].append((pos, ch))
        outcome[jid] = (conv, val)
    paths: dict = defaultdict(lambda: [0.0, 0.0, 0.0])
    for jid, steps in journeys.items():
        path = tuple(ch for _, ch in sorted(steps))
        conv, val = outcome[jid]
        agg = paths[path]
        agg[0] += conv
        agg[1] += val if conv else 0.0
        agg[2] += 1 - conv
    channels = sorted({c for p in paths for c in p})
    idx = {c: i for i, c in enumerate(channels)}
    credit = {m: defaultdict(lambda: [0.0, 0.0]) for m in attr.MODELS}

    def give(model, ch, share, conv, val):
        credit[model][ch][0] += share * conv
        credit[model][ch][1] += share * val

    n = len(channels)
    between, start = np.zeros((n, n)), np.zeros(n)
    to_conv, to_null, end_value = np.zeros(n), np.zeros(n), np.zeros(n)
    for path, (conv, val, null) in paths.items():
        L = len(path)
        give("first_touch", path[0], 1.0, conv, val)
        give("last_touch", path[-1], 1.0, conv, val)
        for k, ch in enumerate(path):
            give("linear", ch, 1.0 / L, conv, val)
            share = 1.0 if L == 1 else 0.5 if L == 2 else 0.4 if k in (0, L - 1) else 0.2 / (L - 2)
            give("position_based", ch, share, conv, val)
        distinct = set(path)
        for ch in distinct:
            give("shapley", ch, 1.0 / len(distinct), conv, val)
        start[idx[path[0]]] += conv + null
        for a, b in zip(path, path[1:]):
            between[idx[a], idx[b]] += conv + null
        to_conv[idx[path[-1]]] += conv
        to_null[idx[path[-1]]] += null
        end_value[idx[path[-1]]] += val
    out = between.sum(axis=1) + to_conv + to_null
    q, r, s = between / out[:, None], to_conv / out, start / start.sum()
    _, re = removal_effects(s, q, r)
    _, re_v = removal_effects(s, q, r * np.divide(end_value, to_conv, out=np.zeros(n), where=to_conv > 0))
    total_conv = sum(v[0] for v in paths.values())
    total_val = sum(v[1] for v in paths.values())
    for ch in channels:
        credit["markov"][ch] = [total_conv * re[idx[ch]] / re.sum(), total_val * re_v[idx[ch]] / re_v.sum()]
    return pd.DataFrame([{"model": m, "channel": c, "conversions": credit[m][c][0], "value": credit[m][c][1]}
                         for m in attr.MODELS for c in channels])


def timed(fn, touches, repeat: int) -> tuple[float, pd.DataFrame]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(touches)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--journeys", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "attribution.json")
    args = ap.parse_args()
    touches = sample_touches(args.journeys)
    engine_s, ours = timed(engine, touches, args.repeat)
    base_s, theirs = timed(baseline, touches, max(1, args.repeat // 2))
    key = ["model", "channel"]
    a, b = ours.sort_values(key).reset_index(drop=True), theirs.sort_values(key).reset_index(drop=True)
    assert (a[key].to_numpy() == b[key].to_numpy()).all()
    same = bool(np.allclose(a[["conversions", "value"]], b[["conversions", "value"]], rtol=1e-9, atol=1e-9))
    assert same, "engine and baseline disagree"
    summary = {
        "journeys": args.journeys, "touches": len(touches),
        "distinct_paths": int(attr.journey_paths(touches).n_paths),
        "channels": int(touches.channel.nunique()),
        "engine_seconds": round(engine_s, 4), "baseline_seconds": round(base_s, 4),
        "speedup": round(base_s / engine_s, 1), "same_credit": same,
        "goals": GOALS, "meets_goals": engine_s <= GOALS["engine_seconds_max"],
    }
    result = {"benchmark": "attribution", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
