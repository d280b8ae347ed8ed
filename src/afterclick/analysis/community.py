"""The reply network of ``community.reply_network``: connected groups of members, found on the
ties the engine executed (one row per pair of members who replied to each other)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from afterclick.kpis.base import Outcome

COLUMNS = ["period", "participants", "members_connected", "ties", "groups", "largest_group", "largest_share"]


def network_summary(value: float | None, rows: pd.DataFrame | None) -> Outcome:
    """Per period of ``community.reply_network``'s executed ties: participants, members with a
    tie, ties, groups (connected components of two or more, SciPy's ``connected_components``),
    the largest group and its share; the headline is the largest group of the last complete
    period.

    Every period's graph is found at once: a member is a node per period, (period, member), so
    ties never join two periods and each component lies in one period.
    """
    if rows is None or rows.empty:
        return Outcome(value=None, rows=pd.DataFrame([], columns=COLUMNS))
    periods = rows.drop_duplicates("idx").sort_values("idx", kind="stable")
    idx = periods["idx"].to_numpy()
    e = rows.dropna(subset=["a", "b"])
    # (period, member) -> node: both ends of every tie, numbered together
    member = pd.factorize(pd.concat([e["a"], e["b"]], ignore_index=True))[0].astype(np.int64)
    tie_idx = np.concatenate([e["idx"].to_numpy(dtype=np.int64)] * 2)
    node, keys = pd.factorize(tie_idx * (int(member.max(initial=-1)) + 1) + member)
    graph = coo_matrix((np.ones(len(e)), (node[:len(e)], node[len(e):])), shape=(len(keys), len(keys)))
    _, labels = connected_components(graph, directed=False)
    node_idx = np.empty(len(keys), dtype=np.int64)
    node_idx[node] = tie_idx
    sizes = np.bincount(labels)  # members per component
    comp_idx = np.empty(len(sizes), dtype=np.int64)
    comp_idx[labels] = node_idx  # every node of a component lies in its period
    per = pd.DataFrame({
        "members_connected": pd.Series(node_idx).value_counts(),
        "ties": pd.Series(tie_idx[:len(e)]).value_counts(),
        "groups": pd.Series(comp_idx).value_counts(),
        "largest_group": pd.Series(sizes, index=comp_idx).groupby(level=0).max(),
    }).reindex(idx).fillna(0).astype("int64")
    out = []
    for period, n, (n_members, n_ties, n_groups, largest) in zip(
            periods["period"], periods["participants"], per.itertuples(index=False), strict=True):
        participants = int(n)
        out.append({
            "period": period, "participants": participants,
            "members_connected": int(n_members), "ties": int(n_ties),
            "groups": int(n_groups), "largest_group": int(largest),
            "largest_share": int(largest) / participants if participants else None,
        })
    last_idx = int(rows["last_idx"].iloc[0])
    headline = float(per.loc[last_idx, "largest_group"]) if last_idx in per.index else None
    return Outcome(value=headline, rows=pd.DataFrame(out, columns=COLUMNS))
