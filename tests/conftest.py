"""Shared pytest configuration: fixtures that several test modules use belong here.

Markers (declared in pyproject.toml): ``slow`` (long-running; still run by the default command)
and ``spark`` (needs PySpark and Java). ``pytest -m "not spark"`` leaves the Spark tests out.
"""

from __future__ import annotations

import importlib.util
import shutil


def pytest_report_header(config) -> str:
    """Say up front which optional tools are present, so a skipped test's reason is no surprise."""
    found = {
        "java": shutil.which("java"),
        "pyspark": importlib.util.find_spec("pyspark") is not None,
        "chromium": shutil.which("chromium") or shutil.which("chromium-browser"),
    }
    return "optional tools: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in found.items())
