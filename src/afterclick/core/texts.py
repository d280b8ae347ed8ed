"""The stored text scores as the KPIs read them: whose scores count, the code of a text whose
language could not be told, and the notes on the texts the scorer left out (pure Ibis and words;
the scoring itself is ``afterclick.text``)."""

from __future__ import annotations

import ibis

#: The scorer whose stored scores the KPIs read. default-1 scored every text as English.
DEFAULT_SCORER = "default-2"
#: The code of a text whose language could not be told (ISO 639-2 "undetermined").
UNDETERMINED = "und"


def left_out_facts(scored: ibis.Table) -> dict[str, ibis.Scalar]:
    """What the notes of a text KPI read: ``scored`` is the KPI's texts joined with their stored
    scores (a ``not_scored`` column; ``language`` where present), the left-out ones included."""
    out = scored.filter(scored.not_scored.notnull())
    reasons = out.group_by("not_scored").aggregate(n=out.count())
    facts = {"texts": scored.count(), "left_out": out.count(),
             "reasons": (reasons.not_scored + "=" + reasons.n.cast("string")).group_concat("|")}
    if "language" in scored.columns:
        facts["undetermined"] = (scored.language == UNDETERMINED).cast("int64").sum()
    return facts


def left_out_notes(facts: dict, value=None) -> list[str]:
    """"5,861 of 6,172 texts not scored: language pt 5,290, language gl 359, 4 other languages
    212", and how many were too short or ambiguous to identify (scored as before)."""
    notes = []
    total, left_out = int(facts.get("texts") or 0), int(facts.get("left_out") or 0)
    if left_out:
        counts = sorted(((int(n), why) for why, n in (r.rsplit("=", 1) for r in (facts.get("reasons") or "").split("|") if r)),
                        key=lambda c: (-c[0], c[1]))
        shown = [f"{why} {n:,}" for n, why in counts[:3]]
        if len(counts) > 3:
            shown.append(f"{len(counts) - 3} other languages {sum(n for n, _ in counts[3:]):,}")
        notes.append(f"{left_out:,} of {total:,} texts not scored: {', '.join(shown)} (the scorer reads "
                     "English: they carry no sentiment or signals).")
    undetermined = int(facts.get("undetermined") or 0)
    if undetermined:
        notes.append(f"{undetermined:,} texts too short or ambiguous to identify a language (\"ok\", an emoji) "
                     "were scored as English.")
    return notes
