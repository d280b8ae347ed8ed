"""Embedding in the report's HTML: chart JSON that cannot end its ``<script>`` element, and
plotly.js inlined once."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.offline


def script_json(obj: Any) -> str:
    return script_safe(json.dumps(obj, ensure_ascii=False, allow_nan=False))


def figure_json(fig: go.Figure) -> str:
    return script_safe(fig.to_json(validate=False, pretty=False, engine="json"))


def script_safe(text: str) -> str:
    """JSON that cannot end the ``<script>`` element it sits in, nor start an HTML comment or entity.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where ``\\u003c`` etc. mean the same
    characters; U+2028/9 are escaped for old JavaScript parsers.
    """
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


@cache
def plotly_js() -> str:
    js = plotly.offline.get_plotlyjs()
    # The bundle holds no "</script"; keep it that way should a future build add one.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
