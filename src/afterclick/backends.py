"""Running the KPIs on Spark: a local session, a standalone cluster, or a managed one.

What runs where. Ingest, checks and quarantine run on the embedded DuckDB store (one machine,
every row accounted for). The KPIs are Ibis expressions: on Spark they are compiled to Spark SQL
and run on the cluster's executors. Models (CLV fits, text scoring) run on the driver, on the
sufficient statistics the cluster returns; text scores are computed once on the store and shipped
with the tables.

Two ways to hand the canonical tables to Spark:
- ``stage``: a folder every executor can read (local disk for ``local[*]`` or a cluster on one
  machine; a shared mount such as NFS, DBFS ``/dbfs/...`` or a FUSE-mounted bucket on a real
  cluster). The store's tables are written there as Parquet and registered as temporary views.
- ``database``: the tables already live in the cluster's catalogue under their canonical names
  (loaded by your own job from the same Parquet files, or by ``afterclick export``); nothing is
  copied.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from afterclick.store import Store

#: Spark settings for the many small queries of a KPI run: few partitions, UTC everywhere.
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.ui.showConsoleProgress": "false",
}


def is_spark(backend: str | None) -> bool:
    """True for ``spark``, ``spark://host:port``, ``local[N]``, ``yarn``, ``k8s://…``."""
    if not backend:
        return False
    b = backend.strip().lower()
    return b == "spark" or b.startswith(("spark://", "local[", "k8s://", "mesos://")) or b in ("local", "yarn")


def spark_session(master: str, *, app_name: str = "afterclick", conf: Mapping[str, str] | None = None):
    """A SparkSession for ``master`` (``spark`` alone: whatever spark-submit or the platform set)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - the spark extra is installed in CI
        raise RuntimeError("the Spark backend needs PySpark: pip install 'afterclick[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master.strip().lower() != "spark" and active.sparkContext.master != master:
        raise RuntimeError(f"a Spark session on {active.sparkContext.master} is already running in this "
                           f"process; stop it (afterclick.backends.stop_spark()) before asking for {master}")
    builder = SparkSession.builder.appName(app_name)
    if master.strip().lower() != "spark":
        builder = builder.master(master)
    for key, value in {**DEFAULT_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_workspace(store: Any, master: str, *, stage: str | Path | None = None, database: str | None = None,
                    params: Any = None, conf: Mapping[str, str] | None = None):
    """A Workspace whose KPIs run on Spark, over the tables of ``store`` (an open DuckDB ``Store``).

    With ``database`` the tables are read from that Spark database; otherwise they are written as
    Parquet to ``stage`` (default: a temporary folder on this machine) and registered as views.
    The store keeps its bookkeeping: the run's history goes into its file, as on DuckDB. Closing
    the workspace closes ``store`` too; the Spark session stays for reuse (``stop_spark`` ends it).
    """
    import ibis

    from afterclick.workspace import Workspace

    session = spark_session(master, conf=conf)
    if database:
        session.catalog.setCurrentDatabase(database)
    else:
        folder = Path(stage) if stage else Path(tempfile.mkdtemp(prefix="afterclick-spark-"))
        folder.mkdir(parents=True, exist_ok=True)
        stage_tables(store, session, folder)
    return Workspace(SparkStore(store, ibis.pyspark.connect(session), master), params)


class SparkStore(Store):
    """The canonical tables read on Spark; the history, quarantine and ingest log stay in the DuckDB
    file they belong to (``home``)."""

    def __init__(self, home: Store, connection: Any, master: str):
        super().__init__(connection=connection)
        self.home, self.master = home, master
        self.location, self.read_only = home.location, home.read_only

    @property
    def raw(self):
        return self.home.raw

    def counts(self) -> dict[str, int]:
        return self.home.counts()  # the same rows, without a Spark job per table

    def _unkeyed(self, name: str) -> bool:
        return self.home._unkeyed(name)  # the staged tables are the home's rows

    def save_snapshots(self, run_id: str, rows: Any) -> int:
        return self.home.save_snapshots(run_id, rows)

    def snapshots(self, kpi_id: str | None = None):
        return self.home.snapshots(kpi_id)

    def quarantine(self, ingest_id: str | None = None):
        return self.home.quarantine(ingest_id)

    def ingest_log(self):
        return self.home.ingest_log()

    def close(self) -> None:
        self.con = None  # (disconnecting would stop the session, which others may share)
        self.home.close()


def stage_tables(store: Any, session: Any, folder: Path) -> list[str]:
    """Write the store's canonical tables (and text scores, prepared on the store first) to
    ``folder`` as Parquet and register each as a Spark temporary view; returns their names."""
    from afterclick.store.tables import CUSTOMER_KEYS
    from afterclick.text.store import TABLE as TEXT_SCORES
    from afterclick.text.store import prepare_text_scores
    from afterclick.workspace import Workspace

    names = list(store.table_names())
    if "messages" in names or "responses" in names:
        prepare_text_scores(Workspace(store))  # (not closed: the store is the caller's)
        names.append(TEXT_SCORES)
    if store.customer_keys() is not None:
        names.append(CUSTOMER_KEYS)  # the KPIs join on the integer keys; rows name customers by id
    raw = store.raw
    for name in dict.fromkeys(names):
        path = folder / f"{name}.parquet"
        raw.execute(f"COPY \"{name}\" TO '{_sql_path(path)}' (FORMAT parquet)")
        session.read.parquet(spark_path(path)).createOrReplaceTempView(name)
    return names


def stop_spark() -> None:
    """Stop the active SparkSession, if any."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover
        return
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def spark_path(path: Path) -> str:
    """How Spark's executors name a file this machine wrote: ``dbfs:/x`` for Databricks' ``/dbfs/x``
    mount, else ``file:///…`` (a bare path would be read from the cluster's default file system,
    HDFS on YARN)."""
    text = str(path.resolve())
    if text.startswith("/dbfs/"):
        return "dbfs:" + text.removeprefix("/dbfs")
    return "file://" + text


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
