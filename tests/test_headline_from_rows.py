"""Headlines read off executed rows (afterclick.analysis.headline) agree with the SQL headlines
they replace: checked here on hand-made rows, and on the demos by benchmarks/kpis_identity.py."""

from __future__ import annotations

import pandas as pd

from afterclick.analysis.headline import in_last_complete, ratio_of_sums


def test_ratio_of_sums_and_hidden_columns():
    rows = pd.DataFrame({"k": ["1", "2", "5+"], "buyers": [6, 3, 1], "all_orders": [6, 6, 7]})
    value, out = ratio_of_sums(None, rows, num="all_orders", den="buyers", hide=("all_orders",))
    assert value == 19 / 10 and list(out.columns) == ["k", "buyers"]
    value, out = ratio_of_sums(None, rows.iloc[:0], num="all_orders", den="buyers")
    assert value is None and list(out.columns) == ["k", "buyers", "all_orders"]


def _months(idx, n, last):
    return pd.DataFrame({"month": [f"m{i}" for i in idx], "n": n, "idx": idx, "last_idx": [last] * len(idx)})


def test_in_last_complete_reads_the_last_complete_month():
    value, out = in_last_complete(None, _months([10, 11, 13], [4, 5, 6], 11), column="n")
    assert value == 5.0 and list(out.columns) == ["month", "n"]


def test_a_complete_month_without_rows_is_zero_and_before_the_first_is_none():
    assert in_last_complete(None, _months([10, 13], [4, 6], 12), column="n")[0] == 0.0
    assert in_last_complete(None, _months([10, 13], [4, 6], 9), column="n")[0] is None
    assert in_last_complete(None, _months([10], [4], None), column="n")[0] is None
    assert in_last_complete(None, _months([], [], 3), column="n")[0] is None
