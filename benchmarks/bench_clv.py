"""Benchmark: afterclick's CLV fits against the ``lifetimes`` package, in one run.

    python benchmarks/bench_clv.py                    # 1,000,000 customers (lifetimes ~12 min)
    python benchmarks/bench_clv.py --customers 100000 # quicker

Steps: simulate customers from the published CDNOW parameters (BG/NBD data from the BG/NBD
estimates, Pareto/NBD data from the Pareto/NBD ones; CDNOW's design: first purchases spread over
12 weeks, observed to week 39, purchases on whole days, time in weeks), then fit each model in
separate child processes (so each one's peak memory is its own): ours, then ``lifetimes`` on the
very same arrays. Checks parameters agree to 1e-3 relative. Results, with the machine described,
go to benchmarks/results/clv.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench_kpis import machine, peak_rss_gb

HERE = Path(__file__).resolve().parent
GOALS = {"bgnbd_speedup_min": 30.0, "pareto_speedup_min": 60.0, "param_rel_diff_max": 1e-3,
         "peak_rss_gb_max": 1.0}
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def simulate(model: str, n: int, seed: int) -> dict[str, np.ndarray]:
    """frequency, recency, T (weeks) of ``n`` customers; purchase times floored to whole days."""
    rng = np.random.default_rng(seed)
    join_day = rng.integers(0, 84, n)
    T_days = 273 - join_day
    if model == "bgnbd":
        lam = rng.gamma(BGNBD["r"], 1 / BGNBD["alpha"], n)
        p = rng.beta(BGNBD["a"], BGNBD["b"], n)
        death = np.full(n, np.inf)
    else:
        lam = rng.gamma(PARETO["r"], 1 / PARETO["alpha"], n)
        mu = rng.gamma(PARETO["s"], 1 / PARETO["beta"], n)
        death = rng.exponential(1 / mu)
        p = np.zeros(n)
    T = T_days / 7.0
    end = np.minimum(T, death)
    t = np.zeros(n)
    last_day = np.zeros(n, dtype=np.int64)
    freq = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        bought = t[idx] <= end[idx]
        idx_b, idx_stop = idx[bought], idx[~bought]
        alive[idx_stop] = False
        day = np.floor(t[idx_b] * 7).astype(np.int64)
        new_day = day > last_day[idx_b]  # a second purchase the same day is the same purchase day
        freq[idx_b[new_day]] += 1
        last_day[idx_b] = day
        if model == "bgnbd":
            alive[idx_b[rng.random(len(idx_b)) < p[idx_b]]] = False
    return {"frequency": freq.astype(float), "recency": last_day / 7.0, "T": T}


def fit_ours(model: str, data: dict, repeats: int = 5) -> dict:
    """Our fit, ``repeats`` times (the machine is shared: the median is the fair number)."""
    import pandas as pd

    from afterclick.clv import BetaGeo, ParetoNBD

    df = pd.DataFrame(data)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        m = (BetaGeo() if model == "bgnbd" else ParetoNBD()).fit(df)
        times.append(time.perf_counter() - started)
    return {"seconds": float(np.median(times)), "runs_s": [round(t, 3) for t in times], "params": m.params,
            "rows_fitted": m.info.rows, "log_likelihood": m.info.log_likelihood}


def fit_lifetimes(model: str, data: dict) -> dict:
    import pandas as pd
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    df = pd.DataFrame(data)
    started = time.perf_counter()
    m = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
    m.fit(df["frequency"], df["recency"], df["T"])
    names = ("r", "alpha", "a", "b") if model == "bgnbd" else ("r", "alpha", "s", "beta")
    return {"seconds": time.perf_counter() - started, "params": {k: float(m.params_[k]) for k in names}}


def child(phase: str, model: str, data_path: Path) -> dict:
    with np.load(data_path) as z:
        data = {k: z[k] for k in z.files}
    out = (fit_ours if phase == "ours" else fit_lifetimes)(model, data)
    out["peak_rss_gb"] = round(peak_rss_gb(), 3)
    return out


def run_child(phase: str, model: str, data_path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", phase, model, str(data_path)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/afterclick-bench-clv"))
    ap.add_argument("--models", default="bgnbd,pareto")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", nargs=3, metavar=("PHASE", "MODEL", "DATA"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], Path(args.child[2]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "clv", "customers": args.customers, "seed": args.seed,
              "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "goals": GOALS, "models": {}}
    import lifetimes

    result["machine"]["lifetimes"] = lifetimes.__version__
    for model in args.models.split(","):
        path = args.work / f"{model}-{args.customers}-{args.seed}.npz"
        if not path.exists():
            np.savez(path, **simulate(model, args.customers, args.seed))
        ours = run_child("ours", model, path)
        print(f"{model}: ours {ours['seconds']:.2f} s ({ours['rows_fitted']} rows)", flush=True)
        theirs = run_child("lifetimes", model, path)
        print(f"{model}: lifetimes {theirs['seconds']:.1f} s", flush=True)
        rel = {k: abs(ours["params"][k] - theirs["params"][k]) / abs(theirs["params"][k]) for k in ours["params"]}
        result["models"][model] = {
            "ours": ours, "lifetimes": theirs, "speedup": round(theirs["seconds"] / ours["seconds"], 1),
            "param_rel_diff_max": max(rel.values()),
        }
    bg, pa = result["models"].get("bgnbd"), result["models"].get("pareto")
    result["summary"] = {
        "bgnbd_speedup": bg and bg["speedup"], "pareto_speedup": pa and pa["speedup"],
        "param_rel_diff_max": max(m["param_rel_diff_max"] for m in result["models"].values()),
        "ours_peak_rss_gb": max(m["ours"]["peak_rss_gb"] for m in result["models"].values()),
    }
    out = args.out or HERE / "results" / "clv.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
