"""A Spark standalone cluster on this machine: one master and N workers, each its own JVM, started
with the scripts that ship inside the pyspark wheel (``bin/spark-class``), bound to 127.0.0.1.

Executors run in the workers' processes, not in the driver: a query that works here works on any
standalone cluster. Used by tests/test_spark_cluster.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_state(ui_port: int) -> dict:
    """The master's own account of the cluster (its web UI's JSON)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as r:
        return json.load(r)


@contextmanager
def standalone_cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "1g",
                       timeout: float = 240) -> Iterator[tuple[str, int]]:
    """Start a master and ``workers`` workers; yield (master URL, master web-UI port) once every
    worker has registered; stop them all on leaving."""
    home = spark_home()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_NO_DAEMONIZE": "1"}
    port, ui = free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    cls = str(home / "bin" / "spark-class")
    procs: list[subprocess.Popen] = []
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def start(name: str, *args: str) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen([cls, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(ui))
        for i in range(workers):
            wdir = work / f"worker{i}"
            wdir.mkdir(exist_ok=True)
            start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1",
                  "--cores", str(cores), "--memory", memory, "--webui-port", "0", "--work-dir", str(wdir))
        deadline = time.monotonic() + timeout
        while True:
            try:
                if cluster_state(ui).get("aliveworkers", 0) >= workers:
                    break
            except OSError:
                pass
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a Spark process exited while starting; see {logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark cluster did not register {workers} workers in {timeout:.0f} s")
            time.sleep(1)
        yield master, ui
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
