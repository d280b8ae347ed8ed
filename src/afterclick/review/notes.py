"""The team's notes for a review: what was decided and why, in their own words.

Notes are plain text, one note per paragraph (a blank line between notes). A paragraph that
starts with a KPI id and a colon (``advocacy.nps: call every detractor within a week``) is tied to
that KPI, so the next review shows how the KPI moved after it. Every problem is listed at once.
"""

from __future__ import annotations

import re

from afterclick.kpis import REGISTRY
from afterclick.review.store import NoteLine

_TIED = re.compile(r"^\s*([a-z][a-z0-9_]*\.[a-z0-9_]+)\s*:\s*(.*)$", re.DOTALL)
#: The longest note kept (characters); a longer one is refused rather than cut.
MAX_NOTE = 5000


class NotesError(ValueError):
    """Every problem of the notes, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


def parse_notes(texts: list[str] | tuple[str, ...], source: str = "notes") -> tuple[NoteLine, ...]:
    """Each paragraph of each text as a note; raises :class:`NotesError` listing every problem."""
    out: list[NoteLine] = []
    problems: list[str] = []
    n = 0
    for text in texts:
        for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
            body = " ".join(line.strip() for line in para.strip().splitlines())
            if not body:
                continue
            n += 1
            m = _TIED.match(body)
            kpi = None
            if m is not None:
                kpi, body = m.group(1), m.group(2).strip()
                if kpi not in REGISTRY:
                    problems.append(f"{source}: note {n} starts with {kpi!r}, which is not a KPI id "
                                    "(`afterclick kpis --list`); write the KPI id, or no colon after the first word")
                    continue
                if not body:
                    problems.append(f"{source}: note {n} names {kpi} but says nothing after the colon")
                    continue
            if len(body) > MAX_NOTE:
                problems.append(f"{source}: note {n} has {len(body):,} characters; keep a note under {MAX_NOTE:,}")
                continue
            out.append(NoteLine(text=body, kpi_id=kpi))
    if problems:
        raise NotesError(problems)
    return tuple(out)
