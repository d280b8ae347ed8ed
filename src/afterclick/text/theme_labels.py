"""A theme's label in words, not its raw terms: its aspect ("Delivery") and the clause its comments
share most ("hasn't arrived yet"), weighed by how much the clause belongs to the theme; and the
theme's keywords, phrases first (``afterclick.text.themes`` fits the themes)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

#: Words that say how people felt or fill a sentence, not what they talk about.
GENERIC_WORDS = frozenset("""
great good lovely happy pleased recommend recommended nice ok okay fine bad love loved really honestly
fair hmm well cheers thanks thank overall experience stars star five order ordered complaints complaint
disappointed impressed expected frustrating average mixed feelings decent better keep just like
would will again go shop store that's it's i'm i've don't didn't can't won't wasn't isn't thing things
lot bit much got get getting very so also still even way time definitely absolutely amazing awesome
perfect brilliant excellent terrible awful poor best worst nothing special could x
""".split())

#: How each aspect reads at the head of a theme label.
ASPECT_TITLES = {"delivery": "Delivery", "website": "Website", "service": "Customer service",
                 "product": "Product", "packaging": "Packaging", "price": "Price"}
#: Words that may not end a label's phrase (it would dangle: "support when my").
_DANGLING = frozenset("a an the and or but so my your our their its it i me you we they this that to of "
                      "for from in on at by as is was are were be been".split())
#: Words that turn a phrase's meaning around: never trimmed off its start ("no sign of my order").
_NEGATIONS = frozenset("no not never nothing nobody none nor without".split())
_CLAUSE = re.compile(r"[.,!?;:()\[\]\"\u201c\u201d]+|\s[-\u2013\u2014]\s|\b(?:and|but|so|because)\b")
_WORD = re.compile(r"[a-z0-9][a-z0-9']*")
#: A label's phrase is 2 to this many words.
PHRASE_WORDS = 6


def _filler() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | GENERIC_WORDS)


_FILLER = _filler()


def _clause_counts(clauses: list[set[str]], times: np.ndarray) -> Counter:
    """How many texts hold each clause, from the clauses of the distinct texts and how often each
    occurs."""
    counts: Counter = Counter()
    for u, m in zip(np.flatnonzero(times).tolist(), times[times > 0].tolist(), strict=True):
        for c in clauses[u]:
            counts[c] += m
    return counts


def _clauses(text: str, known: dict[str, str] | None = None) -> set[str]:
    """The clauses of one (lower-cased) comment, 2 to PHRASE_WORDS words each, trimmed of filler
    at the start (never of a negation) and of dangling words at the end. ``known`` keeps the clause
    of each part already cut ("" for none): comments repeat their sentences."""
    known = {} if known is None else known
    out = set()
    for part in _CLAUSE.split(text):
        clause = known.get(part)
        if clause is None:
            clause = known[part] = _clause(part)
        if clause:
            out.add(clause)
    return out


def _clause(part: str) -> str:
    words = _WORD.findall(part)
    while words and words[0] in _FILLER and words[0] not in _NEGATIONS:
        words = words[1:]
    while words and words[-1] in _DANGLING:
        words = words[:-1]
    return " ".join(words) if 2 <= len(words) <= PHRASE_WORDS else ""


def readable_label(members: list[set[str]], everywhere: Counter, keywords: tuple[str, ...] | list[str],
                   aspect: str | None, fallback: str) -> str:
    """A theme's label in words: "Delivery: hasn't arrived yet", "Exactly as pictured".

    The phrase is the clause (see ``_clauses``) holding one of the theme's keywords that most of
    its comments share, weighed by how much it belongs to this theme (n in the theme × (n in the
    theme / n everywhere)²); a clause in only one comment does not speak for a theme. Without
    such a clause, the keywords as a list ("Sign, check and twice"). The aspect, when the theme
    has one, leads ("Delivery: …") unless the phrase already starts with it.
    """
    return _label(Counter(c for cs in members for c in cs), everywhere, keywords, aspect, fallback)


def _label(counts: Counter, everywhere: Counter, keywords: tuple[str, ...] | list[str], aspect: str | None,
           fallback: str) -> str:
    """``readable_label`` from the counts of the theme's clauses (how many of its texts hold each)."""
    terms = {w for kw in keywords for w in kw.split()}
    best, best_score = None, 0.0
    for clause, n in sorted(counts.items()):
        words = clause.split()
        if n < 2 or not terms.intersection(words):
            continue
        share = n / everywhere[clause]
        score = n * share * share * (1 + 0.1 * len(words))
        if score > best_score:
            best, best_score = clause, score
    if best is None:
        best = _as_list(list(keywords[:3])) if keywords else None
    title = ASPECT_TITLES.get(aspect or "", (aspect or "").capitalize())
    if best is None:
        return title or fallback
    phrase = _sentence_case(best)
    if title and not phrase.lower().startswith(title.lower()):
        return f"{title}: {phrase[:1].lower() + phrase[1:] if not phrase.startswith('I ') else phrase}"
    return phrase


def _as_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_PROPER = re.compile(r"\b(i(?=\b|')|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|"
                     r"march|april|june|july|august|september|october|november|december)\b")


def _sentence_case(text: str) -> str:
    """First letter up; "I" (also in "I've") and the names of days and months as written."""
    text = _PROPER.sub(lambda m: m.group(1).capitalize(), text)
    return text[:1].upper() + text[1:]


def _unique(labels: list[str]) -> list[str]:
    """Labels are keys (the drivers name themes by them): a repeated one gets its theme number."""
    seen = Counter(labels)
    return [f"{lb} (theme {i + 1})" if seen[lb] > 1 else lb for i, lb in enumerate(labels)]


def _keyphrases(top: list[str]) -> list[str]:
    """Top terms, phrases first, without repeating a word a chosen phrase already holds."""
    chosen: list[str] = []
    for term in sorted(top, key=lambda t: (-(" " in t), top.index(t)))[:12]:
        if any(w in c.split() for c in chosen for w in term.split()):
            continue
        chosen.append(term)
    return sorted(chosen, key=top.index)[:5]
