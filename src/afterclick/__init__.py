"""afterclick: measure what happens after the click.

``afterclick.open(path)`` gives a :class:`~afterclick.workspace.Workspace` over a store.
"""

from afterclick.workspace import Workspace, open

__version__ = "0.1.0"
__all__ = ["Workspace", "open", "__version__"]
