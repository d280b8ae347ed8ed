"""Themes of open-ended feedback (survey comments, reviews, support messages) and their drivers.

Method: TF-IDF of the words (one- and two-word terms; stop words and pure evaluation words such
as "great", "lovely", "disappointed" removed, because a theme is *what* people talk about, not
how they felt) beside a small generic e-commerce *aspect lexicon* that groups synonyms the words
alone cannot (a comment about a "courier" and one about a "parcel" share no word, yet both are
about delivery); non-negative matrix factorisation (NMF, Lee & Seung 1999, scikit-learn) of that
matrix; each comment goes to its strongest theme if its weight is material, else to no theme.
A theme's label is readable words, not its raw terms: its aspect ("Delivery") and the phrase its
comments use most ("hasn't arrived yet"; see ``theme_labels.readable_label``); the terms stay in
``keywords``. Deterministic for the same input (fixed seed).

Key drivers: per theme, the NPS of the answers that mention it against those that do not, with
the difference test of Rocks (2016) (see :mod:`afterclick.stats.proportions`): association, not
cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from afterclick.stats import NPS, nps_difference
from afterclick.text.theme_labels import (
    _FILLER,
    GENERIC_WORDS,
    _clause_counts,
    _clauses,
    _keyphrases,
    _label,
    _unique,
)

#: Generic aspects of buying online; the words behind each are synonyms people use for it.
ASPECTS: dict[str, str] = {
    "delivery": r"deliver\w*|shipping|shipped|ship|courier\w*|parcels?|dispatch\w*|arriv\w*|postage|"
                r"tracking|depot|late|delay\w*|waiting|took ages|days to get|in the post|turned up",
    "website": r"website|site|web ?page|app|navigat\w*|checkout|basket|cart|search\w*|menu|filters?|"
               r"product pages?|clicks?|log ?in|account|discount code|confusing|maze|labyrinth|find|lost",
    "service": r"support|customer service|service|staff|team|replied|repl(?:y|ies)|answer\w*|chat|e-?mail|"
               r"phone|call(?:ed)?|replacement|refund|helpful|people to deal|questions",
    "product": r"quality|healthy|leaf|leaves|thriving|lush|rooted|stems?|soil|dead|died|damaged|snapped|"
               r"wilt\w*|smaller|bigger|photo|broken|faulty|size|fit",
    "packaging": r"packag\w*|packed|wrapp?\w*|plastic|recycl\w*|paper|cardboard",
    "price": r"prices?|pricing|expensive|cheap|costs?|value for money|pricey|overpriced",
}

_ASPECT_WEIGHT = 1.5

_TOKEN = r"(?u)\b[a-z][a-z']+\b"


@dataclass(frozen=True)
class Themes:
    """A fitted theme model's output: per-document theme (-1 = none) and per-theme labels."""

    assignment: np.ndarray
    weight: np.ndarray
    labels: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    aspects: tuple[str | None, ...]


def _aspect_matrix(low: pd.Series) -> tuple[sp.csr_matrix, list[str]]:
    cols = []
    for pattern in ASPECTS.values():
        cols.append(low.str.contains(r"\b(?:" + pattern + r")\b", regex=True).to_numpy(dtype=float))
    return sp.csr_matrix(np.column_stack(cols)), list(ASPECTS)


def _distinct(texts: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The texts lower-cased (curly apostrophes straight), each one's number among the distinct ones
    (in order of first appearance) and those: feedback repeats itself ("Would recommend."), so the
    work on words is done once per distinct text and spread back to every text."""
    low = texts.fillna("").astype(str).str.lower().str.replace("\u2019", "'", regex=False).reset_index(drop=True)
    codes, distinct = pd.factorize(low)
    return codes, pd.Series(distinct, dtype=low.dtype)


def _word_matrix(low: pd.Series, codes: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """TF-IDF of one- and two-word terms (stop and generic words removed, sublinear tf, terms in at
    least max(2, n / 500) texts), exactly as scikit-learn's ``TfidfVectorizer`` makes it from every
    text (``codes`` says which distinct text of ``low`` each one is): its counts of the distinct
    texts spread to every text, pruned by document frequency and weighted by its
    ``TfidfTransformer``. Checked against the vectorizer on every text, bit for bit, in the tests."""
    from sklearn.feature_extraction.text import (
        ENGLISH_STOP_WORDS,
        CountVectorizer,
        TfidfTransformer,
    )

    n = len(codes)
    none = sp.csr_matrix((n, 0)), np.array([], dtype=object)
    stop = sorted(ENGLISH_STOP_WORDS | GENERIC_WORDS)
    counter = CountVectorizer(stop_words=stop, ngram_range=(1, 2), token_pattern=_TOKEN, dtype=np.float64)
    try:
        counts = counter.fit_transform(low)[codes]
    except ValueError:  # nothing but stop words
        return none
    kept = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]) >= max(2, n // 500))
    if not kept.size:
        return none
    counts = counts[:, kept]
    return TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts, copy=False), \
        counter.get_feature_names_out()[kept]


def fit_themes(texts: pd.Series, n_themes: int | None = None, *, min_weight: float = 0.05,
               seed: int = 0) -> Themes:
    """Group ``texts`` into themes (TF-IDF + aspect lexicon + NMF).

    ``n_themes`` defaults to the number of aspects mentioned by at least 3% of the texts plus
    two (room for themes outside the lexicon), between 3 and 10. Themes with less than 1% of
    the texts are dropped (their texts get no theme).
    """
    from sklearn.decomposition import NMF
    from sklearn.preprocessing import normalize

    codes, low = _distinct(texts)
    n = len(codes)
    if n < 10:
        raise ValueError(f"themes need at least 10 texts, got {n}")
    words, terms = _word_matrix(low, codes)
    aspects, aspect_names = _aspect_matrix(low)
    aspects = aspects[codes]
    X = normalize(sp.hstack([words, aspects * _ASPECT_WEIGHT]).tocsr())
    if n_themes is None:
        common = int((np.asarray(aspects.sum(axis=0)).ravel() >= 0.03 * n).sum())
        n_themes = int(np.clip(common + 2, 3, 10))
    n_themes = min(n_themes, max(1, X.shape[1]))
    nmf = NMF(n_components=n_themes, init="nndsvda", random_state=seed, max_iter=600)
    # the SVD that starts NMF factorises a tall, thin matrix (texts x themes + 10): a threaded BLAS
    # spent 20 times the work of one thread there on a busy two-core machine (LU and QR 1.1 s ->
    # 0.15 s on the large demo); one thread also gives the same weights whatever the machine's cores
    with threadpool_limits(limits=1, user_api="blas"):
        W = nmf.fit_transform(X)
    H = nmf.components_
    best = W.argmax(axis=1)
    weight = W.max(axis=1)
    assignment = np.where(weight >= min_weight, best, -1)
    keep = [k for k in range(n_themes) if (assignment == k).sum() >= max(2, 0.01 * n)]
    renumber = np.full(n_themes + 1, -1)  # old theme -> kept theme; the last slot takes -1
    renumber[keep] = np.arange(len(keep))
    assignment = renumber[assignment]
    keywords, which_aspect = _terms(H, terms, aspect_names, keep, low.to_numpy(dtype=object)[codes], assignment)
    labels = _labels(low, codes, assignment, keywords, which_aspect)
    return Themes(assignment, weight, tuple(labels), tuple(keywords), tuple(which_aspect))


def _terms(H: np.ndarray, terms: np.ndarray, aspect_names: list[str], keep: list[int], low: np.ndarray,
           assignment: np.ndarray) -> tuple[list[tuple[str, ...]], list[str | None]]:
    """Each kept theme's keywords (its top terms, see ``_keyphrases``) and aspect (None when its
    aspect weight is under 0.3 of its top term's)."""
    keywords, which_aspect = [], []
    n_words = len(terms)
    for i, k in enumerate(keep):
        members = " | ".join(low[np.flatnonzero(assignment == i)[:400]])
        # a two-word term is a phrase only if people wrote it so (stop words removed in between
        # make pairs such as "pots site" that nobody said)
        top = [terms[j] for j in H[k, :n_words].argsort()[::-1][:16]
               if H[k, j] > 0 and (" " not in terms[j] or terms[j] in members)][:12]
        a = H[k, n_words:]
        which_aspect.append(aspect_names[int(a.argmax())] if a.size and a.max() > 0.3 * H[k].max() else None)
        keywords.append(tuple(_keyphrases(top)))
    return keywords, which_aspect


def _labels(low: pd.Series, codes: np.ndarray, assignment: np.ndarray, keywords: list[tuple[str, ...]],
            which_aspect: list[str | None]) -> list[str]:
    """The themes' readable labels (``readable_label``), the clauses of each distinct text cut once
    and counted as often as the text occurs."""
    known: dict[str, str] = {}
    clauses = [_clauses(text, known) for text in low]
    everywhere = _clause_counts(clauses, np.bincount(codes, minlength=len(clauses)))
    labels = []
    for i, (words_k, aspect) in enumerate(zip(keywords, which_aspect, strict=True)):
        mine = _clause_counts(clauses, np.bincount(codes[assignment == i], minlength=len(clauses)))
        labels.append(_label(mine, everywhere, words_k, aspect, fallback=f"Theme {i + 1}"))
    return _unique(labels)


def theme_table(comments: pd.DataFrame, themes: Themes, *, examples: int = 3) -> pd.DataFrame:
    """Per theme: volume, share, sentiment, detractor / promoter shares, trend and example quotes.

    ``comments`` has columns ``comment``, ``survey``, ``score``, ``ts`` and optionally
    ``sentiment``, in the order the themes were fitted on. The trend is the theme's share of the
    comments in the last three months minus its share before them (in points of share).
    """
    read = [c for c in ("comment", "survey", "score", "ts", "sentiment") if c in comments]
    df = comments[read].reset_index(drop=True).assign(theme=themes.assignment, weight=themes.weight)
    month = pd.to_datetime(df["ts"]).dt.tz_localize(None).dt.to_period("M")
    recent = month >= month.max() - 2 if len(df) else month
    rows = []
    for k, label in enumerate(themes.labels):
        m = df["theme"] == k
        t = df[m]
        nps = NPS.from_scores(t.loc[t["survey"].eq("nps"), "score"])
        n_nps = nps.n
        ranked = t.sort_values("weight", ascending=False, kind="stable")
        quotes = _quotes(ranked["comment"], examples)
        rows.append({
            "theme": k + 1,
            "label": label,
            "aspect": themes.aspects[k],
            "keywords": ", ".join(themes.keywords[k]),
            "volume": int(m.sum()),
            "share": float(m.mean()),
            "sentiment": float(t["sentiment"].mean()) if "sentiment" in t and len(t) else None,
            "detractor_share": nps.p_detractors if n_nps else None,
            "promoter_share": nps.p_promoters if n_nps else None,
            "nps": nps.score * 100 if n_nps else None,
            "trend": _share(m, recent) - _share(m, ~recent),
            "examples": " | ".join(quotes),
        })
    return pd.DataFrame(rows)


def _quotes(ranked: pd.Series, examples: int) -> list[str]:
    """The first ``examples`` comments of ``ranked`` each with a wording not quoted yet: the same
    sentence with another opener or closer is no new example. The wordings are worked out for the
    head of the list only, a longer head each time it holds too few."""
    quotes: list[str] = []
    seen: set[str] = set()
    ranked = pd.Series(ranked.unique(), dtype=ranked.dtype)  # a text repeated has the same wording
    start, step = 0, 16
    while len(quotes) < examples and start < len(ranked):
        head = ranked.iloc[start:start + step]
        for text, wording in zip(head.tolist(), _wording(head), strict=True):
            if wording not in seen and len(quotes) < examples:
                seen.add(wording)
                quotes.append(text)
        start, step = start + step, step * 4
    return quotes


def _wording(comments: pd.Series) -> np.ndarray:
    """Each comment's words without filler (its wording: "Great, arrived on time!" and "arrived on
    time" are one), worked out once per distinct comment."""
    codes, distinct = pd.factorize(comments, use_na_sentinel=False)
    words = pd.Series(distinct, dtype=comments.dtype).str.lower().str.findall(r"[a-z']+")
    return words.map(lambda ws: " ".join(w for w in ws if w not in _FILLER)).to_numpy(dtype=object)[codes]


def _share(mask: pd.Series, within: pd.Series) -> float:
    return float(mask[within].mean()) if within.any() else 0.0


#: The ``direction`` of a key driver: where its mentions pull NPS, significantly (``key_drivers``).
TOWARDS_PROMOTERS, TOWARDS_DETRACTORS = "towards promoters", "towards detractors"


def key_drivers(comments: pd.DataFrame, themes: Themes, level: float = 0.95) -> pd.DataFrame:
    """Per theme, NPS of the NPS answers mentioning it minus NPS of those that do not (points),
    its interval and p-value (Rocks 2016 difference test), sorted from the strongest pull
    towards detractors to the strongest towards promoters."""
    nps = comments["survey"].eq("nps").to_numpy()
    scores, theme = comments["score"].to_numpy(dtype=float)[nps], np.asarray(themes.assignment)[nps]
    rows = []
    for k, label in enumerate(themes.labels):
        m = theme == k
        with_, without = NPS.from_scores(scores[m]), NPS.from_scores(scores[~m])
        test = nps_difference(with_, without, level)
        if test.difference is None:
            direction = "too few answers"
        elif test.p_value is not None and test.p_value < 1 - level:
            direction = TOWARDS_PROMOTERS if test.difference > 0 else TOWARDS_DETRACTORS
        else:
            direction = "unclear"
        rows.append({
            "theme": k + 1, "label": label, "mentions": with_.n,
            "nps_with": _pts(with_.score), "nps_without": _pts(without.score),
            "difference": _pts(test.difference), "ci_low": _pts(test.low), "ci_high": _pts(test.high),
            "p_value": test.p_value, "direction": direction,
        })
    out = pd.DataFrame(rows)
    if not out.empty:
        out = out.sort_values(["difference", "theme"], na_position="last", kind="stable").reset_index(drop=True)
    return out


def _pts(v: float | None) -> float | None:
    return None if v is None else v * 100


def planted_overlap(texts: pd.Series, themes: Themes, stems: str) -> tuple[float, float, int]:
    """(recall, precision, theme) of the discovered theme that best covers the texts matching
    ``stems`` (a regex): for checking themes against known ones (tests, demo)."""
    m = texts.fillna("").str.lower().str.contains(stems, regex=True, flags=re.I).to_numpy()
    best, best_hits = -1, -1
    for k in range(len(themes.labels)):
        hits = int(((themes.assignment == k) & m).sum())
        if hits > best_hits:
            best, best_hits = k, hits
    assigned = int((themes.assignment == best).sum())
    return best_hits / max(int(m.sum()), 1), best_hits / max(assigned, 1), best
