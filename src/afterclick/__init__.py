"""afterclick: measure what happens after the click.

``afterclick.open(path)`` gives a :class:`~afterclick.workspace.Workspace` over a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from afterclick.workspace import Workspace, open

__version__ = "0.1.0"
__all__ = ["Workspace", "open", "__version__"]


def __getattr__(name: str):
    # loaded on first use: the command line starts (and answers --version or Ctrl-C) without
    # waiting for Ibis, DuckDB and pandas
    if name in ("Workspace", "open"):
        from afterclick import workspace

        return getattr(workspace, name)
    raise AttributeError(f"module 'afterclick' has no attribute {name!r}")
