"""Shared look and helpers of the plots: palette, base layout, safe labels, column checks.

Relationship metrics are drawn in teal, vanity metrics (impressions, clicks, CTR) in grey, and
losses (dormant customers, the "clicks but no commitment" quadrant) in a muted red.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from afterclick.core.periods import SECONDS_PER_DAY
from afterclick.results import KPIResult
from afterclick.schemas import event_label  # noqa: F401  (charts name events through it)

FONT = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", "Liberation Sans", sans-serif'
)

INK = "#1f2933"
MUTED = "#616e7c"
VANITY = "#9aa5b1"  # grey: attention, not relationship
GRID = "#e9edf1"
TEAL = "#0f766e"  # relationship
TEAL_LIGHT = "#5eb8a8"
LOSS = "#c8553d"  # dormant, clicks to nowhere
LOSS_FILL = "rgba(200, 85, 61, 0.07)"
ACCENT = "#3d405b"  # secondary-axis lines (quick ratio)

#: aware → advocate, light to deep; "aware" is grey because awareness alone is attention.
LADDER_COLOURS = {
    "aware": "#cfd6dd",
    "engaged": "#a7dbd0",
    "trusting": "#5eb8a8",
    "loyal": "#1f8a7a",
    "advocate": "#0b524a",
}
EXTRA_COLOURS = ("#8c7ae6", "#e1a43a", "#6c8ebf", "#b0759a")

#: White to teal; used by the retention heatmap.
RETENTION_SCALE = [
    [0.0, "#ffffff"],
    [0.15, "#e3f3ef"],
    [0.4, "#9fd6ca"],
    [0.7, "#3e9f8f"],
    [1.0, "#0b524a"],
]


def label(value: Any) -> str:
    """Text from data, made literal for plotly.js.

    plotly.js renders a small HTML subset (``<b>``, ``<a href>``, ``<br>``…) in every text it
    draws and decodes ``&lt;``/``&gt;``/``&amp;``, so escaping these three shows data text
    exactly as written and never as markup.
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: Any, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at a word boundary with "…" when too long
    (mid-word only when a single word fills most of the width). Escape after shortening."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if text[len(cut)] != " " and space >= width // 3:  # the cut falls inside a word: drop it
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(/&") + "…"


def display_names(rows: pd.DataFrame, key: str) -> dict[Any, str]:
    """Each ``key`` value → what a person reads: the rows' ``name`` where they carry one (e.g. a
    campaign's), with the id beside it when two ids share a name; else the key itself."""
    if "name" not in rows.columns:
        return {k: str(k) for k in pd.unique(rows[key])}
    pairs = rows[[key, "name"]].drop_duplicates(key)
    names = {k: str(n) if isinstance(n, str) and n.strip() else str(k) for k, n in zip(pairs[key], pairs["name"])}
    shared = pd.Series(list(names.values())).value_counts()
    return {k: (f"{n} ({k})" if shared[n] > 1 and n != str(k) else n) for k, n in names.items()}


def require(result: KPIResult, columns: Iterable[str]) -> pd.DataFrame:
    """The result's rows, after checking it was computed and carries the columns a plot needs."""
    if not result.ok:
        why = result.reason or "no reason given"
        raise ValueError(f"cannot plot {result.id}: it was {result.status.value} ({why})")
    if result.rows is None:
        raise ValueError(f"cannot plot {result.id}: it has no rows")
    missing = [c for c in columns if c not in result.rows.columns]
    if missing:
        raise ValueError(f"cannot plot {result.id}: required column(s) {missing} missing from its rows")
    return result.rows.copy()


def base_layout(**overrides: Any) -> dict[str, Any]:
    """A quiet layout: system fonts, light grid, legend on top, no plotly template."""
    layout: dict[str, Any] = dict(
        template="none",
        font=dict(family=FONT, size=13, color=INK),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=64, r=24, t=48, b=56),
        hoverlabel=dict(bgcolor="white", bordercolor="#cbd2d9", font=dict(family=FONT, size=12, color=INK)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, bgcolor="rgba(0,0,0,0)"),
        autosize=True,
        height=440,
    )
    layout.update(overrides)
    return layout


def axis(title: str | None = None, **kw: Any) -> dict[str, Any]:
    ax: dict[str, Any] = dict(
        showgrid=True, gridcolor=GRID, zeroline=False, linecolor="#cbd2d9", showline=True,
        ticks="outside", tickcolor="#cbd2d9", ticklen=4, automargin=True,
    )
    if title is not None:
        ax["title"] = dict(text=title, font=dict(size=12, color=kw.pop("title_color", MUTED)))
    ax.update(kw)
    return ax


#: Tick labels of share axes whose ticks plotly places itself: as many decimals as the tick
#: needs and no more ("0.5%", "1%", "1.5%"), never "0%, 1%, 1%, 2%, 2%" from rounding.
SHARE_FORMAT = ".2~%"


def share_ticks(values: Iterable[Any], *, lo: float | None = 0.0, hi: float | None = None,
                count: int = 5) -> dict[str, Any]:
    """Tick positions and labels for an axis of shares (fractions), every label distinct.

    About ``count`` round steps (1, 2, 2.5 or 5 times a power of ten) over the values (and
    ``lo``/``hi`` where given), labelled with the decimals the step needs: a 0-2.5% axis reads
    "0%, 0.5%, 1%, 1.5%, 2%, 2.5%". Pass the result into :func:`axis`.
    """
    v = [float(x) for x in values if x is not None and not pd.isna(x) and math.isfinite(float(x))]
    v += [b for b in (lo, hi) if b is not None]
    if not v:
        return {"tickformat": SHARE_FORMAT}
    low, high = min(v), max(v)
    if high - low < 1e-12:
        high = low + 0.01
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    decimals = next(d for d in range(0, 8) if abs(round(step * 100, d) - step * 100) < 1e-9 * max(1.0, step * 100))
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [f"{t * 100:.{decimals}f}%" for t in ticks]}


def amount_label(value: float) -> str:
    """A money amount in a chart label, as precise as its size needs: "12,345", "12.34", and two
    significant digits below 1 ("0.42", "0.0037"), so a small mean never reads "mean 0"."""
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return f"{v:,.0f}" if math.isfinite(v) else str(v)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.{1 - math.floor(math.log10(abs(v)))}f}"


def message_figure(text: str, height: int = 200) -> go.Figure:
    """A blank figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.update_layout(**base_layout(height=height, xaxis=dict(visible=False), yaxis=dict(visible=False)))
    fig.add_annotation(text=label(text), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=14, color=MUTED))
    return fig


def to_list(series: pd.Series) -> list[Any]:
    """Plain JSON-ready values (None for missing), so figures never carry NaN or numpy scalars."""
    out = []
    for v in series.tolist():
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(None)
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out


def result_period_word(result: KPIResult, timestamps: pd.Series) -> str:
    """'week', 'month' or 'day' read from the spacing of the timestamps; where they cannot tell (a
    single period), the grain the result's spec declares for its period column (RowsSchema), and
    only then the ``grain`` parameter."""
    from afterclick.engine.specs import declared_grain

    word = period_word(timestamps)
    if word != "period":
        return word
    return declared_grain(result) or period_word(timestamps, result.params)


def period_word(timestamps: pd.Series, params: dict[str, Any] | None = None) -> str:
    """'week', 'month', 'day' or 'period', read from the spacing of the timestamps.

    The data decides first (a KPI may use months whatever the shared ``grain`` parameter
    says); ``params["grain"]`` is the fallback when there is a single period.
    """
    ts = pd.to_datetime(pd.Series(timestamps).dropna().drop_duplicates(), utc=True).sort_values()
    if len(ts) >= 2:
        step = ts.diff().dropna().dt.total_seconds().median() / SECONDS_PER_DAY
        if 6 <= step <= 8:
            return "week"
        if 27 <= step <= 32:
            return "month"
        if 0.5 <= step <= 1.5:
            return "day"
    grain = (params or {}).get("grain")
    if len(ts) < 2 and grain in ("week", "month", "day"):
        return grain
    return "period"


def date_labels(timestamps: pd.Series, word: str) -> list[str]:
    ts = pd.to_datetime(pd.Series(timestamps))
    fmt = "%b %Y" if word == "month" else "%d %b %Y"
    return [t.strftime(fmt).lstrip("0") if not pd.isna(t) else "" for t in ts]


def naive_utc(series: pd.Series) -> pd.Series:
    """Timestamps as naive UTC for plotting (plotly draws tz-aware values as strings with offsets)."""
    s = pd.to_datetime(series, utc=True)
    return s.dt.tz_convert("UTC").dt.tz_localize(None)


def period_ticks(periods: list, word: str, max_ticks: int = 16) -> dict[str, Any]:
    """Ticks on the periods themselves ("2 Mar") when few enough; else plotly's own date ticks."""
    if not periods or len(periods) > max_ticks:
        return {}
    ts = pd.to_datetime(pd.Series(periods))
    fmt = "%b %Y" if word == "month" else "%d %b"
    if word != "month" and ts.dt.year.nunique() > 1:
        fmt = "%d %b %Y"
    return {"tickmode": "array", "tickvals": list(ts), "ticktext": [t.strftime(fmt).lstrip("0") for t in ts]}


#: Approximate plot area in pixels, for keeping labels apart (the chart is responsive, so roughly).
PLOT_W, PLOT_H = 880.0, 380.0
_POSITIONS = (("top center", 0, 1), ("bottom center", 0, -1), ("middle right", 1, 0), ("middle left", -1, 0),
              ("top right", 1, 1), ("top left", -1, 1), ("bottom right", 1, -1), ("bottom left", -1, -1))


def label_positions(xs: list, ys: list, sizes: list[float], texts: list[str], x_max: float,
                     y_max: float, reserved: list[tuple[float, float, float, float]] = ()) -> list[str]:
    """Greedy label placement: per bubble, the side where its label hits the fewest other labels
    (reference-line labels included) and bubbles."""
    px = [(x / x_max * PLOT_W, y / y_max * PLOT_H) for x, y in zip(xs, ys)]
    radii = [s / 2 for s in sizes]
    placed: list[tuple[float, float, float, float]] = list(reserved)
    out = []

    def overlaps(box: tuple[float, float, float, float], own: int) -> int:
        x0, y0, x1, y1 = box
        # text cut off at the edge or over text is unreadable, over a bubble only untidy: weigh so
        labels = sum(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed)
        bubbles = sum(j != own and x0 - r < cx < x1 + r and y0 - r < cy < y1 + r
                      for j, ((cx, cy), r) in enumerate(zip(px, radii)))
        return 3 * labels + bubbles + 4 * (x0 < 0 or x1 > PLOT_W * 1.02 or y1 > PLOT_H * 1.05)

    for i, ((cx, cy), r, t) in enumerate(zip(px, radii, texts)):
        w, h = 6.8 * len(t) + 4, 16.0
        best: tuple[int, str, tuple[float, float, float, float]] | None = None
        for name, dx, dy in _POSITIONS:
            left = cx - w / 2 if dx == 0 else (cx + r + 2 if dx > 0 else cx - r - 2 - w)
            bottom = cy - h / 2 if dy == 0 else (cy + r + 1 if dy > 0 else cy - r - 1 - h)
            box = (left, bottom, left + w, bottom + h)
            hits = overlaps(box, i)
            if best is None or hits < best[0]:
                best = (hits, name, box)
            if hits == 0:
                break
        placed.append(best[2])
        out.append(best[1])
    return out
