"""Relationship signals in short customer texts: transparent patterns turned into probabilities.

Each signal has a handful of cue patterns, each with a log-odds weight, and a base log-odds:
``p = 1 / (1 + exp(-(base + sum of the weights of the cues found)))``.

How the weights were set (by hand, before the labelled test set was scored, and not tuned on it):
the base of -3 gives a text with no cue about 5%; a *strong* cue (+5, e.g. "thank you",
"should I", "still hasn't arrived", "back in stock") alone gives about 88%; a *weak* cue (+2.5,
e.g. a question mark, "my dad", "slow") alone about 38%, and two weak cues about 88%; *vetoes*
(-6, "thanks for nothing", "no thanks") cancel a strong cue. A probability of 0.5 or more counts
as the signal in the benchmark, which reports precision, recall and the Brier score per signal on
the hand-made set in ``tests/data/signals_labelled.csv``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from afterclick.core.connections import NO_NETWORK

SIGNALS = ("gratitude", "personal_story", "advice_seeking", "complaint", "purchase_intent")

STRONG, WEAK, VETO = 5.0, 2.5, -6.0
BASE = -3.0


@dataclass(frozen=True)
class Cue:
    pattern: str
    weight: float


_FAMILY = (r"(?:mum|mom|mother|dad|father|gran|grandma|grandmother|nan|nana|grandad|grandpa|grandfather|"
           r"partner|husband|wife|boyfriend|girlfriend|son|daughter|kids?|children|sister|brother|family|"
           r"flatmate|housemate|colleagues?|boss|best friend|baby|toddler|twins)")

CUES: dict[str, tuple[Cue, ...]] = {
    "gratitude": (
        Cue(r"\bthank(?:s|ing| you|ful)?\b|\bthx\b|\bty\b|\bta\b|\bcheers for\b|\bmany thanks\b", STRONG),
        Cue(r"\bgrateful\b|\bappreciat(?:e|ed|ion)\b|\bkudos\b|\blife ?saver\b", STRONG),
        Cue(r"\b(?:this|it|you|that|your \w+) (?:really |honestly |genuinely )?(?:helped|saved)\b|"
            r"\bthanks to (?:you|this|your)\b|\bso (?:useful|helpful)\b|\bexactly what i needed\b|"
            r"\bdid the trick\b|\blove you guys\b", STRONG),
        Cue(r"\bthanks for nothing\b|\bno,? thanks?(?: you)?\b|\bthanks,? but no\b", VETO),
        # thanks with a "but" after it is usually the polite front of a complaint
        Cue(r"\bthanks?\b(?: you)?[^.!?]{0,40}\bbut\b", -4.0),
    ),
    "personal_story": (
        Cue(r"\bmy " + _FAMILY + r"\b", WEAK),
        Cue(r"\bwhen i (?:was|moved|started|first|lost|got|had|bought)\b|\bi used to\b|\bback in\b|"
            r"\b(?:years?|months?) ago\b|\bsince (?:my|i)\b|\bmy first\b|\bgrew up\b|\bruns in the family\b", STRONG),
        Cue(r"\bas (?:a|an|someone) [a-z]+|\bi'?m an? [a-z]+ (?:working|who|and|with)\b|"
            r"\bi (?:started|moved|lost|inherited|adopted|kept|learned|learnt|tried)\b|"
            r"\bwe (?:moved|bought|inherited|adopted|just|repotted)\b|\bwe'?ve just\b", STRONG),
        Cue(r"\blast (?:year|summer|winter|spring|autumn|month|weekend)\b|\bduring lockdown\b|"
            r"\bmy (?:divorce|job|illness|birthday|wedding|house|flat|garden|office|uni|home)\b|"
            r"\bin (?:hospital|my (?:first|old) \w+)\b|\b(?:birthday|hospital|funeral|wedding)\b", WEAK),
    ),
    "advice_seeking": (
        Cue(r"\b(?:any|some|your) (?:tips|advice|ideas|suggestions|recommendations)\b|"
            r"\b(?:could|would|can) (?:you|anyone) (?:recommend|suggest)\b|\brecommendations? for\b|"
            r"\bwhat (?:should|do) i\b|\bshould i\b|\bhow (?:do|can|should|often|much|long|to)\b|"
            r"\bwhich (?:plants?|one|is|would|pot|soil)\b|\bwhat(?:'s| is) the best\b|"
            r"\bis it (?:normal|safe|too late|ok|okay|better|true|a myth)\b|\bdoes anyone know\b|"
            r"\bcan anyone\b|\bwhy (?:does|is|do|are) my\b|\bwhat (?:size|soil|mix|fertili[sz]er|light)\b|"
            r"\bwould the same\b|\bdoes the same\b|\bno idea what i'?m doing\b|\bwhat should\b|"
            r"\b(?:which|what) plants? (?:would|could|should|for|are)\b|\bcould cope\b", STRONG),
        Cue(r"\bhelp!|\bhelp me\b|\badvice\b|\bis that a myth\b", WEAK),
        Cue(r"\?", WEAK),
        # buying questions (price, stock, shipping) are purchase intent, not advice
        Cue(r"\bin stock\b|\bavailable\b|\bhow much\b|\bship (?:to|abroad)\b|\bdiscount\b|\bvoucher|"
            r"\bprices?\b|\bwhere (?:can i (?:buy|get)|is this (?:pot )?from)\b|\brestock|\bbulk\b|\blink\b|"
            r"\bpay (?:monthly|yearly)\b|\bmonthly or\b|\bwhere'?s this from\b", -5.0),
    ),
    "complaint": (
        Cue(r"\b(?:still )?(?:hasn'?t|has not|haven'?t|have not|never|didn'?t|did not) (?:arrived?|come|came|"
            r"turned up|been|replied|answered|received)\b|\bstill (?:no|not|waiting|\")\b|\bnever came\b", STRONG),
        Cue(r"\bdamaged\b|\bbroken\b|\bcracked\b|\bsnapped\b|\bdead\b|\bdied\b|\bdisappoint|\bterrible\b|"
            r"\bawful\b|\bworst\b|\bhorrible\b|\bridiculous\b|\bunacceptable\b|\buseless\b|\bunusable\b|"
            r"\bnot (?:happy|impressed|good enough)\b|\bno (?:response|reply|refund|explanation)\b|"
            r"\bcharged twice\b|\boverpriced\b|\bway too\b|\bhung up\b|\bthrown\b|\bfell apart\b|"
            r"\bthanks for nothing\b|\blosing patience\b|\bnothing like\b|\bcopy-paste\b|\bwrong\b|"
            r"\b(?:too|so) (?:expensive|high|slow)\b|\bsoil everywhere\b|\bnever (?:again|came)\b", STRONG),
        Cue(r"\blate\b|\bslow\b|\brefund\b|\bcancell?ed\b|\bkeeps? (?:logging|crashing|failing|sending)\b|"
            r"\bdown again\b|\bwaiting\b|\bloops? back\b|\bcomplain|\bupset\b|\bscorched\b|\bbrown spots\b|"
            r"\bnobody\b|\bno one\b|\bhalf the size\b|\binstead of\b|\breceived an?\b|\byellow on arrival\b", WEAK),
    ),
    "purchase_intent": (
        Cue(r"\bwhere can i (?:buy|get|order)\b|\bin stock\b|\bback in stock\b|\brestock|\bstill available\b|"
            r"\bhow much is\b|\bship to\b|\bdeliver to\b|\bto (?:my )?(?:basket|cart)\b|\btake my money\b|"
            r"\bneed this\b|\bi want (?:one|it|the|this|to buy)\b|\bwant to (?:get|buy|order)\b|"
            r"\b(?:will|'ll|going to|gonna|planning to|thinking of|love to|like to|be) (?:definitely )?(?:be )?"
            r"(?:buy|order|get|purchas)(?:e|ing)?\b|\bbulk orders?\b|\btrade prices?\b|\bgift (?:vouchers?|cards?)\b|"
            r"\bdiscount code\b|\border (?:the|it|one|more|again)\b|\bordering (?:now|more|the|soon)\b|"
            r"\bbuy (?:another|one|it|this|more)\b|\bsaving up\b|\bwhere is this pot from\b", STRONG),
        Cue(r"\bprices?\b|\bsale\b|\bsubscription\b|\bmonthly or\b|\bpay (?:monthly|yearly)\b|\bavailable\b|"
            r"\bas a gift\b|\bdelivery\b|\bkit\b|\bbundle\b|\bthinking of buying\b", WEAK),
    ),
}

def _prepared(texts: pd.Series) -> pd.Series:
    return texts.fillna("").astype(str).str.lower().str.replace("’", "'", regex=False)


@cache
def _query() -> str:
    """One SQL pass over all texts: every cue as an RE2 match, and the distinct-word count.

    DuckDB's RE2 matches the patterns (written in the common subset of Python ``re`` and RE2:
    no look-arounds or back-references) about three times faster than Python's ``re``.
    """
    cols = []
    for name, cues in CUES.items():
        for i, cue in enumerate(cues):
            pattern = cue.pattern.replace("'", "''")
            cols.append(f"regexp_matches(t, '{pattern}') AS \"{name}_{i}\"")
    cols.append("len(list_distinct(regexp_extract_all(t, '[a-z][a-z'']+'))) AS distinct_words")
    return "SELECT " + ", ".join(cols) + " FROM _texts"


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    if getattr(_local, "con", None) is None:
        # one thread: the pass is short, and on a busy machine a second thread mostly waits for
        # a core (measured two to three times slower with DuckDB's default threads)
        _local.con = duckdb.connect(config={"threads": 1, **NO_NETWORK})
    return _local.con


def signal_probabilities(texts: pd.Series) -> pd.DataFrame:
    """One column per signal (probability in [0, 1]) plus ``thoughtful``, for each text."""
    con = _connection()
    con.register("_texts", pa.table({"t": pa.array(_prepared(texts).tolist(), type=pa.string())}))
    try:
        hits = con.execute(_query()).fetchnumpy()
    finally:
        con.unregister("_texts")
    out = {}
    for name, cues in CUES.items():
        logit = np.full(len(texts), BASE)
        for i, cue in enumerate(cues):
            logit += cue.weight * np.asarray(hits[f"{name}_{i}"], dtype=float)
        out[name] = 1.0 / (1.0 + np.exp(-logit))
    out["thoughtful"] = thoughtful_probability(np.asarray(hits["distinct_words"], dtype=float))
    return pd.DataFrame(out, index=texts.index)


def thoughtful_probability(distinct_words: np.ndarray) -> np.ndarray:
    """Substantive rather than a reaction: a logistic curve in the number of distinct words.

    ``p = 1 / (1 + exp(-(distinct_words - 12) / 2))``: 12 distinct words is an even call, 18 or
    more is ~95%, a one-liner ("Love it", "😂") is ~0.
    """
    return 1.0 / (1.0 + np.exp(-(distinct_words - 12.0) / 2.0))
