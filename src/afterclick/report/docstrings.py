"""KPI definitions (docstrings) as report text: paragraphs, a one-line summary, and code parts.

The report renders each KPI's docstring, written in RST or numpydoc; these read just enough of
both to show it as prose, with ``literal`` parts marked so the template can wrap them in <code>.
"""

from __future__ import annotations

import re
from typing import Any

_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s+")
_UNDERLINE = re.compile(r"^\s*[-=~]{3,}\s*$")


def definition_paragraphs(text: str | None) -> list[str]:
    """A docstring as paragraphs: hard-wrapped lines rejoined, list items and indented lines
    (formulas) kept on their own line, numpydoc section underlines dropped."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        raw = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
        lines = []
        for ln in raw:
            if _UNDERLINE.match(ln):  # a numpydoc heading: "Parameters" over "----------"
                if lines and not lines[-1].endswith(":"):
                    lines[-1] += ":"
            else:
                lines.append(ln)
        merged: list[str] = []
        for ln in lines:
            keep = _LIST_ITEM.match(ln) or ln.startswith(("    ", "\t")) or ">>>" in ln
            if merged and not keep and not merged[-1].endswith(":"):
                merged[-1] += " " + ln.strip()
            else:
                merged.append(ln.strip() if not ln.startswith(("    ", "\t")) else ln.rstrip())
        if merged:
            out.append("\n".join(merged))
    return out


def summary(definition: str) -> str:
    return (definition or "").split("\n\n", 1)[0].replace("\n", " ").strip()


_LITERAL = re.compile(r"``(.+?)``|`([^`]+)`")


def segments(text: str) -> list[dict[str, Any]]:
    """Text split into plain and code parts (RST ``literal`` / `name` in docstrings); the
    template escapes both and wraps code parts in <code>."""
    out, pos = [], 0
    for m in _LITERAL.finditer(text):
        if m.start() > pos:
            out.append({"text": text[pos:m.start()], "code": False})
        out.append({"text": m.group(1) or m.group(2), "code": True})
        pos = m.end()
    if pos < len(text):
        out.append({"text": text[pos:], "code": False})
    return out


def plain(text: str) -> str:
    return _LITERAL.sub(lambda m: m.group(1) or m.group(2), text)
