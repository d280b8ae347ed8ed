"""Benchmark: afterclick's CLV fits against the ``lifetimes`` package, in one run.

    python benchmarks/bench_clv.py                      # BG/NBD on 1,000,000, Pareto/NBD on 100,000
    python benchmarks/bench_clv.py --customers 100000   # quicker
    python benchmarks/bench_clv.py --shapes two-year --models bgnbd

Steps: simulate customers from the published CDNOW parameters (BG/NBD data from the BG/NBD
estimates, Pareto/NBD data from the Pareto/NBD ones), in three shapes (see SHAPES): CDNOW's
design (first purchases over 12 weeks, observed to week 39, whole days), a shop's two years
(first purchases over a year, observed two years, whole days) and the same with exact times
(every customer's summary distinct). Time is in weeks. Each model is fitted in separate child
processes (so each one's peak memory is its own): ours, then ``lifetimes`` on the very same
arrays, one right after the other, with the load average noted beside each (the machine is
shared). Checks parameters agree to 1e-3 relative. Results, with the machine described, go to
benchmarks/results/clv.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench_kpis import machine, peak_rss_gb

HERE = Path(__file__).resolve().parent
#: Least speed-up over lifetimes per model and shape, and the other goals.
GOALS = {"speedup_min": {"bgnbd": {"cdnow": 30.0, "two-year": 30.0, "exact": 10.0},
                         "pareto": {"cdnow": 60.0, "two-year": 60.0, "exact": 60.0}},
         "param_rel_diff_max": 1e-3, "peak_rss_gb_max": 1.0}
#: How long a lifetimes fit may take before it is recorded as not finished.
LIFETIMES_TIMEOUT_S = 900.0
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


#: Population shapes: days over which first purchases spread, the day observation ends, and
#: whether purchase times are whole days (CDNOW's design, and most shops' exports) or exact.
SHAPES = {
    "cdnow": {"join_days": 84, "end_day": 273, "whole_days": True},      # 12 weeks, to week 39
    "two-year": {"join_days": 365, "end_day": 730, "whole_days": True},  # a year of first buyers, 2 years
    "exact": {"join_days": 365, "end_day": 730, "whole_days": False},    # the same, every time exact
}


def simulate(model: str, n: int, seed: int, shape: str = "cdnow") -> dict[str, np.ndarray]:
    """frequency, recency, T (weeks) of ``n`` customers of the given ``shape`` (see SHAPES)."""
    rng = np.random.default_rng(seed)
    join_days, end_day, whole = SHAPES[shape]["join_days"], SHAPES[shape]["end_day"], SHAPES[shape]["whole_days"]
    join_day = rng.integers(0, join_days, n) if whole else rng.uniform(0, join_days, n)
    T = (end_day - join_day) / 7.0
    if model == "bgnbd":
        lam = rng.gamma(BGNBD["r"], 1 / BGNBD["alpha"], n)
        p = rng.beta(BGNBD["a"], BGNBD["b"], n)
        death = np.full(n, np.inf)
    else:
        lam = rng.gamma(PARETO["r"], 1 / PARETO["alpha"], n)
        mu = rng.gamma(PARETO["s"], 1 / PARETO["beta"], n)
        death = rng.exponential(1 / mu)
        p = np.zeros(n)
    end = np.minimum(T, death)
    t = np.zeros(n)
    last = np.zeros(n)  # time of the last repeat purchase, in days (whole days when ``whole``)
    freq = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        bought = t[idx] <= end[idx]
        idx_b, idx_stop = idx[bought], idx[~bought]
        alive[idx_stop] = False
        day = np.floor(t[idx_b] * 7) if whole else t[idx_b] * 7
        new_day = day > last[idx_b]  # a second purchase the same day is the same purchase day
        freq[idx_b[new_day]] += 1
        last[idx_b] = day
        if model == "bgnbd":
            alive[idx_b[rng.random(len(idx_b)) < p[idx_b]]] = False
    return {"frequency": freq.astype(float), "recency": last / 7.0, "T": T}


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
    # lifetimes' Pareto/NBD fit starts Nelder-Mead from random values, Normal(1, 0.05) each: its
    # time and end point vary from run to run (84 s and over 12 min on the same 100,000
    # exact-time customers; one seeded start stopped at s = 2.6 for 0.61). It is given the
    # centre of that distribution instead: a reproducible run that reaches the optimum.
    started = time.perf_counter()
    if model == "bgnbd":
        m = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    else:
        m = ParetoNBDFitter().fit(df["frequency"], df["recency"], df["T"], initial_params=np.ones(4))
    names = ("r", "alpha", "a", "b") if model == "bgnbd" else ("r", "alpha", "s", "beta")
    return {"seconds": time.perf_counter() - started, "params": {k: float(m.params_[k]) for k in names}}


def child(phase: str, model: str, data_path: Path) -> dict:
    with np.load(data_path) as z:
        data = {k: z[k] for k in z.files}
    out = (fit_ours if phase == "ours" else fit_lifetimes)(model, data)
    out["peak_rss_gb"] = round(peak_rss_gb(), 3)
    return out


def run_child(phase: str, model: str, data_path: Path, timeout: float | None = None) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", phase, model, str(data_path)],
                          capture_output=True, text=True, check=True, timeout=timeout)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load() -> list[float]:
    """The machine's 1-, 5- and 15-minute load averages (others share its 2 cores)."""
    return [round(v, 2) for v in os.getloadavg()]


def compare(model: str, shape: str, customers: int, seed: int, work: Path) -> dict:
    """Ours and lifetimes on the same simulated customers, one right after the other."""
    path = work / f"{model}-{shape}-{customers}-{seed}.npz"
    if not path.exists():
        np.savez(path, **simulate(model, customers, seed, shape))
    load_before = load()
    ours = run_child("ours", model, path)
    print(f"{model} {shape} {customers:,}: ours {ours['seconds']:.3f} s ({ours['rows_fitted']:,} rows)", flush=True)
    try:
        theirs = run_child("lifetimes", model, path, timeout=LIFETIMES_TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:  # no ratio, and why
        message = (f"did not finish in {LIFETIMES_TIMEOUT_S:.0f} s" if isinstance(err, subprocess.TimeoutExpired)
                   else (err.stderr.strip().splitlines() or ["no message"])[-1])
        print(f"{model} {shape} {customers:,}: lifetimes failed ({message})", flush=True)
        return {"model": model, "shape": shape, "customers": customers, "ours": ours, "lifetimes_error": message,
                "speedup": None, "goal_speedup_min": GOALS["speedup_min"][model][shape], "goal_met": False,
                "param_rel_diff_max": None, "load_before": load_before, "load_after": load()}
    print(f"{model} {shape} {customers:,}: lifetimes {theirs['seconds']:.1f} s", flush=True)
    rel = {k: abs(ours["params"][k] - theirs["params"][k]) / abs(theirs["params"][k]) for k in ours["params"]}
    with np.load(path) as z:
        distinct = len(np.unique(np.stack([z["frequency"], z["recency"], z["T"]], axis=1), axis=0))
    speedup = round(theirs["seconds"] / ours["seconds"], 1)
    return {"model": model, "shape": shape, "customers": customers, "distinct_summaries": distinct,
            "ours": ours, "lifetimes": theirs, "speedup": speedup,
            "goal_speedup_min": GOALS["speedup_min"][model][shape],
            "goal_met": speedup >= GOALS["speedup_min"][model][shape] and max(rel.values()) <= GOALS["param_rel_diff_max"],
            "param_rel_diff_max": max(rel.values()), "load_before": load_before, "load_after": load()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000, help="BG/NBD customers (default 1,000,000)")
    ap.add_argument("--pareto-customers", type=int, default=100_000,
                    help="Pareto/NBD customers (default 100,000: lifetimes takes minutes per 100,000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/afterclick-bench-clv"))
    ap.add_argument("--models", default="bgnbd,pareto", help="bgnbd, pareto or both (comma-separated)")
    ap.add_argument("--shapes", default="cdnow,two-year,exact", help=f"any of {', '.join(SHAPES)}")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", nargs=3, metavar=("PHASE", "MODEL", "DATA"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], Path(args.child[2]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    import lifetimes

    result = {"benchmark": "clv", "seed": args.seed, "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": {**machine(), "lifetimes": lifetimes.__version__}, "goals": GOALS, "runs": []}
    for model in args.models.split(","):
        for shape in args.shapes.split(","):
            n = args.customers if model == "bgnbd" else args.pareto_customers
            result["runs"].append(compare(model, shape, n, args.seed, args.work))
    runs = result["runs"]
    result["summary"] = {
        "speedups": {f"{r['model']} {r['shape']} {r['customers']:,}": r["speedup"] for r in runs},
        "goals_not_met": [f"{r['model']} {r['shape']}: {r['speedup']}x (goal {r['goal_speedup_min']}x)"
                          for r in runs if not r["goal_met"]],
        "param_rel_diff_max": max((r["param_rel_diff_max"] for r in runs if r["param_rel_diff_max"] is not None),
                                  default=None),
        "ours_peak_rss_gb": max(r["ours"]["peak_rss_gb"] for r in runs),
    }
    out = args.out or HERE / "results" / "clv.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
