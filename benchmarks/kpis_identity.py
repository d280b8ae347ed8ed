"""Every KPI's value and rows before and after a change to the engine, compared on one store.

    git checkout OLD -- ...   (or a clean copy of the old commit on PYTHONPATH)
    python benchmarks/kpis_identity.py --store S --save /tmp/before.pkl
    python benchmarks/kpis_identity.py --store S --against /tmp/before.pkl --before OLD --after NEW

Values and every cell of the rows must agree to 1e-9 relative: DuckDB sums floating-point values
in parallel, in an order that changes from one run to the next, so two runs of the same code
already differ in the last bits of a sum (measured: the campaigns' revenue column). The result,
with each KPI that differs and how, goes to benchmarks/results/kpis-identity-<store>.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RTOL = 1e-9


def results(store: Path) -> dict:
    import afterclick

    with afterclick.open(store, read_only=True) as ws:
        return {r.id: (r.status.value, r.value, r.rows) for r in ws.kpis()}


def difference(old: tuple, new: tuple) -> str | None:
    """Why two (status, value, rows) disagree, or None."""
    import pandas as pd

    (s1, v1, r1), (s2, v2, r2) = old, new
    if s1 != s2:
        return f"status {s1} then {s2}"
    if (v1 is None) != (v2 is None) or (v1 is not None and abs(v1 - v2) > RTOL * max(1.0, abs(v1))):
        return f"value {v1} then {v2}"
    if (r1 is None) != (r2 is None):
        return "rows appeared or vanished"
    if r1 is not None:
        try:
            pd.testing.assert_frame_equal(r1.reset_index(drop=True), r2.reset_index(drop=True),
                                          check_exact=False, rtol=RTOL, atol=0)
        except AssertionError as exc:
            return "rows: " + " ".join(str(exc).split())[:300]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--save", type=Path, help="keep this code's results here (the 'before' side)")
    ap.add_argument("--against", type=Path, help="compare this code's results with those saved before")
    ap.add_argument("--before", default="", help="the commit the saved results came from")
    ap.add_argument("--after", default="", help="the commit of this code")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not (args.save or args.against):
        ap.error("give --save (keep the results) or --against (compare with kept results)")
    now = results(args.store)
    if args.save:
        args.save.write_bytes(pickle.dumps(now))
        print(f"{len(now)} KPIs kept in {args.save}")
    if args.against:
        before = pickle.loads(args.against.read_bytes())
        differ = {k: why for k in sorted(before.keys() | now.keys())
                  if (why := "missing on one side" if k not in before or k not in now
                      else difference(before[k], now[k]))}
        computed = sum(1 for s, _, _ in now.values() if s == "computed")
        result = {"benchmark": "kpis-identity", "store": args.store.name, "before": args.before,
                  "after": args.after, "when": datetime.now(UTC).isoformat(timespec="seconds"),
                  "kpis": len(now), "computed": computed, "tolerance_relative": RTOL,
                  "identical": not differ, "differ": differ}
        out = args.out or HERE / "results" / f"kpis-identity-{args.store.stem}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
