"""Which language a customer text is written in, so that a scorer reads only what it knows.

The identifier is py3langid (Lui & Baldwin 2012, "langid.py: An Off-the-shelf Language
Identification Tool", ACL; the py3langid fork): a naive Bayes model over byte n-grams of
about 140 languages whose model file ships inside the wheel, so nothing is downloaded. Chosen
by measurement (benchmarks/bench_text.py --languages, top-1 on the VADER tweets / Amazon
snippets / Olist reviews): py3langid 95.3 / 97.4 / 87.1 %, langid 94.0 / 98.1 / 77.3 %,
langdetect 94.9 / 95.9 / 87.1 %, lingua 96.1 / 97.8 / 95.0 %; but py3langid runs 30-100 times
faster than the others (lingua also holds 1.4 GB of models in memory), and the rule below
makes up most of lingua's lead on short Portuguese texts. :func:`log_likelihoods` runs its
automaton on all texts at once, at tens of thousands of texts a second.

The rule (see :func:`identify`):

* fewer than ``MIN_LETTERS`` letters (an emoji, "ok", "10", "."): nothing to identify, the
  language is ``UNDETERMINED`` ("und", ISO 639-2) and the text is scored as before;
* otherwise the text is in language L when L's log-likelihood beats the best of the scorer's
  own languages by at least ``MARGIN`` (a likelihood ratio of e⁵ ≈ 150): then a scorer that does
  not know L leaves it out ("not scored: language pt");
* a text that leans to another language by less than that is ``UNDETERMINED`` too, and scored.

Measured (benchmarks/bench_text.py --languages) on the VADER human-rated English sets and the
Olist Portuguese reviews: 1.4 % of the tweets and 0.45 % of the Amazon snippets are left out
(some of those tweets are Dutch, Spanish or Turkish: the set is not all English); 94.8 % of the
Olist comments are left out as another language (85.8 % as Portuguese, 5.8 % as Galician, its
neighbour), 5.1 % are undetermined ("Bom", "Recomendo", "ok") and scored as English, and 3 of
6,172 are taken for English ("Show").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from afterclick.core.texts import UNDETERMINED

#: Fewer letters than this: too short to identify ("ok", "👍", "10").
MIN_LETTERS = 3
#: Log-likelihood margin (nats) by which another language must beat the scorer's languages.
MARGIN = 5.0
_LETTER = re.compile(r"[^\W\d_]")
_RAW_FLOOR = float(np.finfo(np.float32).min)
#: py3langid's label for "no linguistic content".
_NO_LANGUAGE = "zxx"


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


@cache
def _automaton() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """py3langid's byte automaton as arrays: next state (row offset + byte), each state's row
    offset, and the feature a state emits (-1: none)."""
    ident = _identifier()
    return (np.frombuffer(ident.tk_nextmove, dtype=np.dtype(ident.tk_nextmove.typecode)).astype(np.int64),
            np.asarray(ident.tk_row, dtype=np.int64) << 8, np.asarray(ident.tk_output, dtype=np.int64))


def log_likelihoods(texts: Sequence[str]) -> np.ndarray:
    """py3langid's raw naive-Bayes score of every text for every class (n texts x classes), as
    its ``LanguageIdentifier(norm_probs=False)._decide`` gives them one text at a time, computed
    for all texts at once: the automaton steps every text's next byte together (longest texts
    first, so the texts still running are a prefix), and the feature counts meet the model in
    one sparse product. Some 20 times faster than the per-text loop."""
    from scipy import sparse

    ident = _identifier()
    nextmove, rowbase, emits = _automaton()
    encoded = [ident._encode(t) for t in texts]  # its case and Unicode normalisation, as UTF-8
    n = len(encoded)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    flat = np.frombuffer(b"".join(encoded[i] for i in order), dtype=np.uint8).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths[order])[:-1]]).astype(np.int64)
    running = np.searchsorted(-lengths[order], -np.arange(int(lengths.max(initial=0))), side="left")
    state = np.zeros(n, dtype=np.int64)
    rows, feats = [], []
    for pos, k in enumerate(running):  # k texts are longer than pos bytes
        state[:k] = nextmove[rowbase[state[:k]] + flat[starts[:k] + pos]]
        f = emits[state[:k]]
        hit = np.flatnonzero(f >= 0)
        rows.append(hit)
        feats.append(f[hit])
    rows = order[np.concatenate(rows)] if rows else np.zeros(0, dtype=np.int64)
    feats = np.concatenate(feats) if feats else np.zeros(0, dtype=np.int64)
    used, col = np.unique(feats, return_inverse=True)
    pairs, counts = np.unique(rows * len(used) + col, return_counts=True)
    counts_matrix = sparse.csr_matrix((np.log1p(counts.astype(np.float32)), (pairs // len(used), pairs % len(used))),
                                      shape=(n, len(used)))
    scores = np.asarray(counts_matrix @ ident.nb_ptc[used].astype(np.float32), dtype=np.float32) + ident.nb_pc
    scores[np.bincount(rows, minlength=n) == 0] = _RAW_FLOOR  # no feature: every class alike
    for i, j in ident._alias_pairs:  # a label listed twice (a script alias): its best column
        scores[:, i] = np.maximum(scores[:, i], scores[:, j])
        scores[:, j] = _RAW_FLOOR
    return scores


def letters(text: str) -> int:
    """How many letters (of any script) ``text`` holds."""
    return len(_LETTER.findall(text))


def identify(texts: pd.Series, known: Sequence[str] = ("en",)) -> pd.DataFrame:
    """The language of each text, as the rule of this module decides it for a scorer that
    knows the languages ``known`` (the first is its main language).

    Returns (same index) ``language``: the identified code, or ``UNDETERMINED``; and
    ``scored_as``: the language of ``known`` to score the text in, or None when the text is in
    another language and should be left out. An undetermined text is scored in the known
    language it leans to most (the main one when it is too short to tell).
    """
    ident = _identifier()
    classes = np.array(ident.nb_classes, dtype=object)
    own = np.flatnonzero(np.isin(classes, list(known)))
    if len(own) == 0:
        raise ValueError(f"the identifier knows none of {list(known)}")
    text = texts.fillna("").astype(str)
    short = text.map(letters).to_numpy() < MIN_LETTERS
    scores = log_likelihoods(text.tolist())
    best = scores.argmax(axis=1)
    mine = own[scores[:, own].argmax(axis=1)]
    gap = scores[np.arange(len(text)), best] - scores[np.arange(len(text)), mine]
    same = best == mine
    other = ~same & (classes[best] != _NO_LANGUAGE) & (gap >= MARGIN)
    language = np.where(same | other, classes[best], UNDETERMINED)
    scored_as = np.where(same, classes[best], np.where(other, None, classes[mine]))
    language[short] = UNDETERMINED
    scored_as[short] = known[0]
    return pd.DataFrame({"language": language, "scored_as": scored_as}, index=texts.index, dtype=object)
