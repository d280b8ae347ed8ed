"""The themes model works once per distinct text and spreads the result to every text: its TF-IDF
is scikit-learn's vectorizer on every text bit for bit, and its labels and example quotes are those
worked out text by text."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from afterclick.text.theme_labels import (
    _FILLER,
    GENERIC_WORDS,
    _clauses,
    readable_label,
)
from afterclick.text.themes import (
    _TOKEN,
    _aspect_matrix,
    _distinct,
    _word_matrix,
    fit_themes,
    theme_table,
)

OPENERS = ["", "Honestly, ", "Great! ", "Hmm. ", "Well ", "To be fair, "]
PARTS = [
    "the parcel arrived two days late", "tracking hasn't moved since Monday", "courier left it at the depot",
    "no sign of my order", "the website kept logging me out", "couldn't find the checkout button",
    "discount code didn\u2019t work at checkout", "search results were a maze", "support replied within an hour",
    "customer service sorted the refund", "the team even replied on a Sunday", "plant arrived healthy and lush",
    "leaves were damaged in transit", "exactly as pictured", "packaging was all recyclable paper",
    "wrapped in far too much plastic", "prices are a bit steep", "good value for money", "would recommend",
    "the and of it", "",
]


def corpus(n: int, seed: int) -> pd.Series:
    """Feedback as it comes: few wordings, each written many times, with openers, case and
    apostrophes varying, an empty answer now and then."""
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        parts = rng.choice(PARTS, size=1 if rng.random() < 0.85 else 2, replace=False)
        text = rng.choice(OPENERS) + " and ".join(parts) + rng.choice([".", ""])
        texts.append(text.upper() if rng.random() < 0.03 else text)
    out = pd.Series(texts, dtype="str")
    out[rng.choice(n, size=3, replace=False)] = None
    return out


@pytest.mark.parametrize(("n", "seed"), [(40, 1), (900, 2), (2600, 3)])
def test_the_word_matrix_is_the_vectorizer_on_every_text_bit_for_bit(n, seed):
    texts = corpus(n, seed)
    low = texts.fillna("").astype(str).str.lower().str.replace("\u2019", "'", regex=False)
    ref = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | GENERIC_WORDS), ngram_range=(1, 2),
                          min_df=max(2, n // 500), sublinear_tf=True, token_pattern=_TOKEN)
    want = ref.fit_transform(low)
    codes, distinct = _distinct(texts)
    assert len(distinct) < n / 2 or n < 100  # the point: far fewer distinct texts than texts
    got, terms = _word_matrix(distinct, codes)
    assert list(terms) == list(ref.get_feature_names_out())
    for a, b in ((want.data, got.data), (want.indices, got.indices), (want.indptr, got.indptr)):
        assert np.array_equal(a, b)
    aspects, _ = _aspect_matrix(low)
    assert (aspects != _aspect_matrix(distinct)[0][codes]).nnz == 0


def test_nothing_but_stop_words_gives_no_word_terms():
    codes, distinct = _distinct(pd.Series(["and the", "of it", "the and"] * 5))
    words, terms = _word_matrix(distinct, codes)
    assert words.shape == (15, 0) and terms.size == 0


def test_labels_and_quotes_are_those_worked_out_text_by_text():
    texts = corpus(1500, 5)
    th = fit_themes(texts)
    low = texts.fillna("").astype(str).str.lower().str.replace("\u2019", "'", regex=False)
    clauses = [_clauses(t) for t in low]
    everywhere = Counter(c for cs in clauses for c in cs)
    labels = [readable_label([clauses[i] for i in np.flatnonzero(th.assignment == k)], everywhere, kw, aspect,
                             fallback=f"Theme {k + 1}")
              for k, (kw, aspect) in enumerate(zip(th.keywords, th.aspects, strict=True))]
    assert len(set(labels)) == len(labels) and tuple(labels) == th.labels
    assert len(th.labels) >= 3 and (th.assignment >= 0).mean() > 0.5

    comments = pd.DataFrame({"comment": texts.fillna(""), "survey": "nps", "score": 8.0, "sentiment": 0.1,
                             "ts": pd.Timestamp("2026-01-01", tz="UTC")})
    table = theme_table(comments, th)
    df = comments.assign(theme=th.assignment, weight=th.weight)
    for k in range(len(th.labels)):
        ranked = df[df["theme"] == k].sort_values("weight", ascending=False, kind="stable")
        core = ranked["comment"].str.lower().str.findall(r"[a-z']+").map(
            lambda ws: " ".join(w for w in ws if w not in _FILLER))
        want = " | ".join(ranked.loc[~core.duplicated(), "comment"].head(3).tolist())
        assert table.loc[k, "examples"] == want
