"""Where the reference data lives: ``shared/data`` beside the project (``../shared/data`` from
the project root), the layout of this project's machines; ``AFTERCLICK_SHARED_DATA`` points
elsewhere. See shared/data/README.md for what each folder holds and where it comes from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data(name: str) -> Path:
    """The folder ``name`` of the reference data (it may not exist: see :func:`require`)."""
    env = os.environ.get("AFTERCLICK_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "data", Path("/work/shared/data")]
    for base in candidates:
        if (base / name).is_dir():
            return base / name
    return candidates[0] / name


def require(path: Path) -> Path:
    """``path``, or skip the test saying where the reference data was looked for."""
    if not path.exists():
        pytest.skip(f"reference data {path} not found: it sits in shared/data beside the project "
                    "(or set AFTERCLICK_SHARED_DATA)")
    return path
