"""The reply network of ``community.reply_network``: connected groups of members, found on the
ties the engine executed (one row per pair of members who replied to each other)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from afterclick.kpis.base import Outcome


def network_summary(value: float | None, rows: pd.DataFrame | None) -> Outcome:
    """Per period of ``community.reply_network``'s executed ties: participants, members with a
    tie, ties, groups (connected components of two or more, SciPy's ``connected_components``),
    the largest group and its share; the headline is the largest group of the last complete
    period."""
    out = []
    last_idx = None if rows is None or rows.empty else int(rows["last_idx"].iloc[0])
    headline = None
    for idx, g in (rows.groupby("idx", sort=True) if rows is not None else ()):
        e = g.dropna(subset=["a", "b"])
        members = pd.Index(pd.unique(pd.concat([e["a"], e["b"]], ignore_index=True)))
        sizes = np.array([], dtype=np.int64)
        if len(members):
            i, j = members.get_indexer(e["a"]), members.get_indexer(e["b"])
            graph = coo_matrix((np.ones(len(e)), (i, j)), shape=(len(members), len(members)))
            _, labels = connected_components(graph, directed=False)
            sizes = np.bincount(labels)
        participants = int(g["participants"].iloc[0])
        largest = int(sizes.max()) if sizes.size else 0
        out.append({
            "period": g["period"].iloc[0], "participants": participants,
            "members_connected": int(len(members)), "ties": int(len(e)),
            "groups": int(sizes.size), "largest_group": largest,
            "largest_share": largest / participants if participants else None,
        })
        if idx == last_idx:
            headline = float(largest)
    return Outcome(value=headline, rows=pd.DataFrame(out, columns=[
        "period", "participants", "members_connected", "ties", "groups", "largest_group", "largest_share",
    ]))
