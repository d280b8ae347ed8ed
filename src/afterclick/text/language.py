"""Which language a customer text is written in, so that a scorer reads only what it knows.

The identifier is py3langid (Lui & Baldwin 2012, "langid.py: An Off-the-shelf Language
Identification Tool", ACL; the py3langid fork): a naive Bayes model over byte n-grams of
about 140 languages whose model file ships inside the wheel, so nothing is downloaded. Chosen
over langid, langdetect and lingua for its accuracy on short texts at its speed (thousands of
texts a second; lingua was as accurate on short Portuguese but 30 times slower, with 1.4 GB of
models in memory).

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

#: Fewer letters than this: too short to identify ("ok", "👍", "10").
MIN_LETTERS = 3
#: Log-likelihood margin (nats) by which another language must beat the scorer's languages.
MARGIN = 5.0
#: The code of a text whose language could not be told (ISO 639-2 "undetermined").
UNDETERMINED = "und"
_LETTER = re.compile(r"[^\W\d_]")
#: py3langid's label for "no linguistic content".
_NO_LANGUAGE = "zxx"


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


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
    language, scored_as = [], []
    for text in texts.fillna("").astype(str):
        if letters(text) < MIN_LETTERS:
            language.append(UNDETERMINED)
            scored_as.append(known[0])
            continue
        # raw naive-Bayes log-likelihoods, one per class (norm_probs=False); rank() gives the
        # same numbers sorted, at a fifth of the speed
        scores = ident._decide(text)
        best = int(scores.argmax())
        mine = int(own[scores[own].argmax()])
        if best == mine:
            language.append(classes[best])
            scored_as.append(classes[best])
        elif classes[best] != _NO_LANGUAGE and scores[best] - scores[mine] >= MARGIN:
            language.append(classes[best])
            scored_as.append(None)
        else:
            language.append(UNDETERMINED)
            scored_as.append(classes[mine])
    return pd.DataFrame({"language": language, "scored_as": scored_as}, index=texts.index, dtype=object)
