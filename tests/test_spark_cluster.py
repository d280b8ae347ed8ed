"""The KPIs, the report and the CLV export on a real Spark standalone cluster: a master and two
workers on 127.0.0.1, each its own JVM (tests/sparkcluster.py), driven through the CLI as a team
would (``--backend spark://HOST:PORT``), and compared with the same commands on DuckDB.

Spark pays a fixed cost per query (a job, its stages, executors on other JVMs), so the cluster runs
a handful of KPIs of different kinds rather than all of them; every KPI's DuckDB/Spark equality is
the parity test's job (tests/test_spark_parity.py, local mode, edge cases), and a full run of the
medium demo on this cluster is benchmarks/bench_cluster.py.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (java on PATH)", allow_module_level=True)

from csvstores import csv_store
from sparkcluster import cluster_state, standalone_cluster
from test_tables_alone import RESPONSES

#: One KPI of each kind: a proportion over events, a survey score with Rocks' interval, a cohort
#: rate, the ladder's stages (months folded into bits), a text-scored share (text scores staged
#: with the tables); the model-backed CLV is the clv test's.
KPIS = ("reach.ctr", "advocacy.nps", "retention.repeat_visit_rate", "ladder.commitment_ladder",
        "resonance.thoughtful_rate")
#: Small data and many small queries: few partitions, no adaptive re-planning.
CONF = ("spark.sql.shuffle.partitions=2", "spark.sql.adaptive.enabled=false", "spark.executor.memory=768m")


def afterclick(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "afterclick", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=900, check=False)
    assert r.returncode == 0, f"{' '.join(args[:1])} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def on(master: str) -> list[str]:
    return ["--backend", master, *(a for c in CONF for a in ("--spark-conf", c))]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("spark_cluster")
    with standalone_cluster(work, workers=2, cores=1, memory="1g") as (master, ui):
        yield master, ui


@pytest.fixture(scope="module")
def demo_store(demo_ws) -> Path:
    return Path(demo_ws.store.location)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_kpis_on_the_cluster_equal_duckdb(cluster, demo_ws, demo_store, tmp_path):
    master, ui = cluster
    ids = [a for k in KPIS for a in ("--id", k)]
    run = afterclick("kpis", "--store", str(demo_store), *ids, "--format", "json", "--no-snapshot", *on(master),
                     cwd=tmp_path)
    spark = {r["id"]: r for r in json.loads(run.stdout)}
    duck = {k: demo_ws.kpi(k).to_record() for k in KPIS}
    assert set(spark) == set(duck) == set(KPIS)
    for kpi_id in KPIS:
        d, s = duck[kpi_id], spark[kpi_id]
        assert d["status"] == "computed", (kpi_id, d.get("reason"))
        assert s["status"] == "computed", (kpi_id, s.get("reason"))
        assert _same(s["value"], d["value"]), (kpi_id, d["value"], s["value"])
        for x, y in zip(d.get("ci") or (), s.get("ci") or (), strict=True):
            assert _same(y, x), (kpi_id, "interval")
        assert len(s.get("rows") or ()) == len(d.get("rows") or ()), kpi_id
    # the work ran on the workers' executors: the master counts one finished application on 2 cores
    apps = cluster_state(ui)["completedapps"]
    assert [a["name"] for a in apps] == ["afterclick"] and apps[0]["cores"] == 2


def test_clv_export_on_the_cluster_equals_duckdb(cluster, demo_store, tmp_path):
    master, _ = cluster
    common = ["clv", "--store", str(demo_store)]
    afterclick(*common, "--out", str(tmp_path / "duck.csv"), cwd=tmp_path)
    r = afterclick(*common, "--out", str(tmp_path / "spark.csv"), *on(master), cwd=tmp_path)
    assert "wrote" in r.stdout
    duck = pd.read_csv(tmp_path / "duck.csv").sort_values("customer_id", ignore_index=True)
    spark = pd.read_csv(tmp_path / "spark.csv").sort_values("customer_id", ignore_index=True)
    assert len(duck) > 100
    pd.testing.assert_frame_equal(spark, duck, check_exact=False, rtol=1e-9)


def test_report_on_the_cluster_keeps_the_history_in_the_store(cluster, tmp_path):
    """A store of survey answers alone: the report on the cluster shows the same NPS, and the run's
    values go into the DuckDB file's history (the store stays the source of truth)."""
    master, _ = cluster
    store = csv_store(tmp_path / "s", responses=RESPONSES)
    afterclick("report", "--store", str(store), "--out", str(tmp_path / "r.html"), *on(master), cwd=tmp_path)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Net Promoter Score" in html
    import afterclick as ac

    with ac.open(store, read_only=True) as ws:
        history = ws.store.snapshots("advocacy.nps")
        expected = ws.kpi("advocacy.nps").value
    assert len(history) == 1 and history.value.iloc[0] == pytest.approx(expected)
    assert expected == pytest.approx(100 * (3 - 2) / 6)


def test_a_backend_not_known_is_one_line(demo_store):
    from typer.testing import CliRunner

    from afterclick.cli import app

    r = CliRunner().invoke(app, ["kpis", "--store", str(demo_store), "--backend", "postgres", "--no-snapshot"])
    assert r.exit_code == 1
    assert r.output.startswith("error: --backend 'postgres' is not known: use duckdb, or a Spark master")
    r = CliRunner().invoke(app, ["kpis", "--store", str(demo_store), "--backend", "local[1]",
                                 "--spark-conf", "no-equals-sign", "--no-snapshot"])
    assert r.exit_code == 1 and r.output.startswith("error: --spark-conf 'no-equals-sign' is not KEY=VALUE")


def test_executors_read_the_stage_by_a_scheme_they_cannot_mistake():
    """A bare path would be read from the cluster's default file system (HDFS on YARN)."""
    from afterclick.backends import spark_path

    assert spark_path(Path("/dbfs/tmp/afterclick/events.parquet")) == "dbfs:/tmp/afterclick/events.parquet"
    assert spark_path(Path("/mnt/shared/a b/events.parquet")) == "file:///mnt/shared/a b/events.parquet"
