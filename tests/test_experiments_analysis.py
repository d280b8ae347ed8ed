"""Experiment analysis on a small planted store built through the real ingest.

Three experiments over 400 customers (seeded numpy):
* ``subject``: B gets far more clicks (and CTR) but returns less within 30 days;
* ``split``: 240 in A and 160 in B on a planned 50/50: a sample-ratio mismatch;
* ``aa``: two identical arms: nothing significant after the Holm correction.
The per-arm counts are checked against a pandas computation of the same definitions.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_ingest import run, write
from typer.testing import CliRunner

import afterclick
from afterclick.analysis.experiments import ROW_FIELDS, analyse, parse_split
from afterclick.cli import app
from afterclick.store import Store

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2026-01-05", tz="UTC")
END = pd.Timestamp("2026-06-30", tz="UTC")


def _frames(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(400)]
    assign, events, orders, answers = [], [], [], []
    for i, c in enumerate(ids):
        late = i >= 380  # assigned 5 days before the end: outside every window
        ts = END - 5 * DAY if late else START + int(rng.integers(0, 30)) * DAY
        var = "B" if rng.random() < 0.5 else "A"
        assign.append(("subject", c, var, ts))
        assign.append(("split", c, "A" if i < 240 else "B", ts))
        assign.append(("aa", c, "A" if rng.random() < 0.5 else "B", ts))
        for k in range(10):
            events.append((c, ts, "impression", f"m{k}"))
        for k in range(rng.binomial(10, 0.4 if var == "B" else 0.1)):
            events.append((c, ts, "click", f"m{k}"))  # clicked when the message arrived
        if rng.random() < (0.3 if var == "B" else 0.6):
            events.append((c, ts + int(rng.integers(1, 29)) * DAY + pd.Timedelta(hours=3), "visit",
                           None))
        if rng.random() < 0.5:
            events.append((c, ts + int(rng.integers(35, 120)) * DAY, "visit", None))
        events.append((c, ts - 3 * DAY, "visit", None))  # before assignment: never counts
        for k in range(rng.poisson(1.2)):
            when = ts + int(rng.integers(0, 120)) * DAY + pd.Timedelta(hours=1)
            orders.append((f"o{c}-{k}", c, when, float(rng.gamma(2.0, 30.0))))
        if orders and orders[-1][1] == c and rng.random() < 0.2:
            o = orders[-1]
            orders.append((f"r{c}", c, o[2] + 2 * DAY, -o[3]))
        if rng.random() < 0.5:
            answers.append((f"n{c}", c, ts + 10 * DAY, "nps", float(rng.integers(0, 11))))
            answers.append((f"s{c}", c, ts + 12 * DAY, "csat", float(rng.integers(1, 6))))
    events.append(("c000", END, "visit", None))  # the data's end
    cols = ["experiment_id", "customer_id", "variant", "ts"]
    frames = {
        "assignments": pd.DataFrame(assign, columns=cols),
        "events": pd.DataFrame(events, columns=["customer_id", "ts", "event", "content_id"]),
        "transactions": pd.DataFrame(orders, columns=["order_id", "customer_id", "ts", "amount"]),
        "responses": pd.DataFrame(answers, columns=["response_id", "customer_id", "ts", "survey", "score"]),
    }
    return {k: d[d["ts"] <= END].reset_index(drop=True) for k, d in frames.items()}


def _csv(df: pd.DataFrame) -> str:
    d = df.copy()
    d["ts"] = d["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return d.to_csv(index=False)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("exp")
    frames = _frames()
    src = root / "src"
    for name, df in frames.items():
        write(src, f"{name}.csv", _csv(df))
    write(src, "experiments.csv",
          "experiment_id,name,control_variant,planned_split\n"
          "subject,Subject line,A,\"A:50, B:50\"\nsplit,Broken split,A,\"A:50, B:50\"\n"
          "aa,A/A test,A,\"A:50, B:50\"\n")
    db = root / "exp.duckdb"
    run(db, src)
    return db, frames


def _expected(frames: dict[str, pd.DataFrame], eid: str) -> pd.DataFrame:
    """Per-arm counts by the definitions, in pandas."""
    a = frames["assignments"].query("experiment_id == @eid")
    e = frames["events"].merge(a, on="customer_id", suffixes=("", "_a"))
    e["d"] = (e["ts"] - e["ts_a"]).dt.total_seconds()
    visits = e[(e["event"] != "impression") & (e["d"] > 1800)]
    first = visits.groupby("customer_id")["d"].min()
    end = max(frames["events"]["ts"].max(), frames["transactions"]["ts"].max())
    a = a.assign(age=(end - a["ts"]).dt.total_seconds(), ret=a["customer_id"].map(first))
    t = frames["transactions"].merge(a, on="customer_id", suffixes=("", "_a"))
    t = t[((t["ts"] - t["ts_a"]).dt.total_seconds() >= 0) & (t["ts"] - t["ts_a"] < 90 * DAY)]
    a["rev"] = a["customer_id"].map(t.groupby("customer_id")["amount"].sum()).fillna(0.0)
    ok = a["age"] >= 90 * 86400
    a["rev"] = a["rev"].clip(upper=np.quantile(a.loc[ok, "rev"], 0.99))  # pooled winsorising
    out = {}
    for v, g in a.groupby("variant"):
        row = {"n": len(g)}
        for w in (7, 30, 90):
            ok = g["age"] >= w * 86400
            row[f"n{w}"], row[f"k{w}"] = int(ok.sum()), int((ok & (g["ret"] <= w * 86400)).sum())
        ok = g["age"] >= 90 * 86400
        row["rev_mean"] = float(g.loc[ok, "rev"].mean())
        out[v] = row
    return pd.DataFrame(out).T


def _rows(result, eid: str) -> dict[tuple[str, str], dict]:
    return {(r["metric"], r["variant"]): r for r in result.to_rows() if r["experiment_id"] == eid}


def test_per_arm_counts_match_pandas(planted):
    db, frames = planted
    with Store(db, read_only=True) as st:
        result = analyse(st)
    exp = _expected(frames, "subject")
    rows = _rows(result, "subject")
    for w in (7, 30, 90):
        r = rows[(f"return_{w}d", "B")]
        assert (r["n_control"], r["n_variant"]) == (exp.loc["A", f"n{w}"], exp.loc["B", f"n{w}"])
        assert r["mean_control"] == pytest.approx(exp.loc["A", f"k{w}"] / exp.loc["A", f"n{w}"])
        assert r["mean_variant"] == pytest.approx(exp.loc["B", f"k{w}"] / exp.loc["B", f"n{w}"])
    rev = rows[("revenue_90d", "B")]
    assert rev["mean_control"] == pytest.approx(exp.loc["A", "rev_mean"])
    assert rev["mean_variant"] == pytest.approx(exp.loc["B", "rev_mean"])
    sub = next(e for e in result.experiments if e.experiment_id == "subject")
    assert sub.counts == {"A": exp.loc["A", "n"], "B": exp.loc["B", "n"]}
    assert rows[("return_7d", "B")]["n_control"] + rows[("return_7d", "B")]["n_variant"] == 380


def test_planted_signs_srm_and_aa(planted):
    db, _ = planted
    with Store(db, read_only=True) as st:
        result = analyse(st)
    rows = _rows(result, "subject")
    ctr, ret = rows[("ctr", "B")], rows[("return_30d", "B")]
    assert ctr["relative"] > 0 and ctr["p_adjusted"] < 0.05
    assert ret["absolute"] < 0 and ret["p_adjusted"] < 0.05
    assert ctr["correction"].startswith("Holm over")
    by = {e.experiment_id: e for e in result.experiments}
    line = by["subject"].verdict
    assert line.index("won CTR") < line.index(" lost ") < line.index("30-day return")
    assert by["split"].srm.flagged and by["split"].counts == {"A": 240, "B": 160}
    assert not by["subject"].srm.flagged and not by["aa"].srm.flagged
    aa = [r for r in result.to_rows() if r["experiment_id"] == "aa" and r["p_adjusted"] is not None]
    assert len(aa) == 13 and all(r["p_adjusted"] >= 0.05 for r in aa)
    assert by["aa"].primary == "return_30d" and by["aa"].plan.power < 0.8
    assert "not enough data yet" in by["aa"].verdict and "power for a 5 % lift" in by["aa"].verdict
    with afterclick.open(db, read_only=True) as ws:  # a workspace works as well as a store
        one = analyse(ws, "aa")
    assert [e.experiment_id for e in one.experiments] == ["aa"]
    _same_rows(one.to_rows(), [r for r in result.to_rows() if r["experiment_id"] == "aa"])


def test_missing_tables_are_skipped_with_a_reason(tmp_path):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-02,click\nc2,2026-01-03,visit\n")
    write(src, "assignments.csv", "experiment_id,customer_id,variant,ts\ne1,c1,A,2026-01-01\n"
          "e1,c2,B,2026-01-01\n")
    run(tmp_path / "s.duckdb", src)
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        result = analyse(st)
    rows = _rows(result, "e1")
    assert rows[("revenue_90d", "B")]["status"] == "no transactions table in the store"
    assert rows[("nps", "B")]["status"] == "no responses table in the store"
    assert result.experiments[0].control == "A"


def test_parse_split():
    assert parse_split("A:50, B:50") == {"A": 50.0, "B": 50.0}
    assert parse_split(None) == {} and parse_split("A50") == {}
    assert parse_split(float("nan")) == {}  # an empty cell read into a frame


def test_cli_json_and_empty_store(planted, tmp_path):
    db, _ = planted
    runner = CliRunner()
    res = runner.invoke(app, ["experiment", "--store", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert set(ROW_FIELDS) <= set(rows[0])
    assert {r["experiment_id"] for r in rows} == {"aa", "split", "subject"}
    split = [r for r in rows if r["experiment_id"] == "split"]
    assert all(r["srm_p"] < 0.001 for r in split)
    assert "sample-ratio" in split[0]["verdict"].lower() or "srm" in split[0]["verdict"].lower()
    seq = runner.invoke(app, ["experiment", "--store", str(db), "--id", "aa", "--format", "json",
                              "--sequential", "--tuning", "2000"])
    assert seq.exit_code == 0, seq.output
    assert all("N*=2000" in r["method"] for r in json.loads(seq.stdout) if r["metric"] == "clicks")
    lonely = runner.invoke(app, ["experiment", "--store", str(db), "--tuning", "2000"])
    assert lonely.exit_code == 1 and "--sequential" in lonely.stderr
    table = runner.invoke(app, ["experiment", "--store", str(db), "--id", "subject"])
    assert table.exit_code == 0 and "won CTR" in table.stdout
    missing = runner.invoke(app, ["experiment", "--store", str(db), "--id", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.stderr
    out = tmp_path / "x.csv"
    csv = runner.invoke(app, ["experiment", "--store", str(db), "--format", "csv", "--out", str(out)])
    assert csv.exit_code == 0, csv.output
    assert len(pd.read_csv(out)) == 3 * 14
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-02,click\n")
    run(tmp_path / "e.duckdb", src)
    empty = runner.invoke(app, ["experiment", "--store", str(tmp_path / "e.duckdb")])
    assert empty.exit_code == 0 and len(empty.stdout.strip().splitlines()) == 1


def test_spark_gives_the_same_rows(planted, tmp_path):
    """The same aggregates on a local Spark session: every row identical to DuckDB's."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed (PySpark needs a JVM)")
    import ibis
    from pyspark.sql import SparkSession

    db, _ = planted
    with afterclick.open(db, read_only=True) as ws:
        duck = analyse(ws).to_rows()
        for name in ws.store.table_names():
            ws.store.raw.execute(f"COPY \"{name}\" TO '{tmp_path / name}.parquet' (FORMAT parquet)")
    before = SparkSession.getActiveSession()  # another module's session is left running
    spark = (SparkSession.builder.master("local[2]").appName("afterclick-experiments")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC").getOrCreate())
    try:
        for p in tmp_path.glob("*.parquet"):
            spark.read.parquet(str(p)).createOrReplaceTempView(p.stem)
        rows = analyse(afterclick.open(ibis.pyspark.connect(spark))).to_rows()
    finally:
        if before is None:
            spark.stop()
    assert len(rows) == len(duck) == 3 * 14
    _same_rows(duck, rows)


def _same_rows(left: list[dict], right: list[dict]) -> None:
    """Equal rows, floats to 1e-9 (sums taken in another order differ in the last bits)."""
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a.keys() == b.keys()
        for k, x in a.items():
            if isinstance(x, float):
                assert b[k] == pytest.approx(x, rel=1e-9, abs=1e-12), k
            elif isinstance(x, str) and k in ("method", "verdict"):  # numbers printed inside
                assert b[k] == x or _digits_close(b[k], x), k
            else:
                assert b[k] == x, k


def _digits_close(a: str, b: str) -> bool:
    import re
    nums = re.compile(r"-?\d[\d,]*\.?\d*")
    if nums.sub("#", a) != nums.sub("#", b):
        return False
    return all(abs(float(x.replace(",", "")) - float(y.replace(",", ""))) <= 1e-6 * max(1, abs(float(y.replace(",", ""))))
               for x, y in zip(nums.findall(a), nums.findall(b), strict=True))
