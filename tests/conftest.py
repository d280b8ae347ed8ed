"""Shared pytest configuration: fixtures that several test modules use belong here.

Markers (declared in pyproject.toml): ``slow`` (long-running; still run by the default command)
and ``spark`` (needs PySpark and Java). ``pytest -m "not spark"`` leaves the Spark tests out.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

# Tests run strict: a KPI that raises fails its test with the real exception and traceback,
# instead of becoming a "failed" card that a test may never look at. A test of the failed-card
# path opts out with ``Workspace(..., strict=False)`` (or ``ws.strict = False``).
os.environ.setdefault("AFTERCLICK_STRICT", "1")


def pytest_report_header(config) -> str:
    """Say up front which optional tools are present, so a skipped test's reason is no surprise."""
    found = {
        "java": shutil.which("java"),
        "pyspark": importlib.util.find_spec("pyspark") is not None,
        "chromium": shutil.which("chromium") or shutil.which("chromium-browser"),
    }
    return "optional tools: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in found.items())


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory):
    """The small demo brand (seed 11) through the real ingest, as a read-only workspace."""
    import afterclick
    from afterclick.demo import write_demo
    from afterclick.ingest import ingest
    from afterclick.store import Store

    folder = tmp_path_factory.mktemp("demo_shared")
    write_demo(folder / "src", size="small", seed=11)
    with Store(folder / "demo.duckdb") as store:
        summary = ingest(store, folder / "src")
    assert summary.adds_up and summary.quarantined == 0 and summary.loaded > 100_000
    w = afterclick.open(folder / "demo.duckdb", read_only=True)
    yield w
    w.close()
