"""The semantic tier's fast encoder: all-MiniLM-L6-v2 as an ONNX graph run by ONNX Runtime.

The graph is built in memory, at load, from the weights the model package ships
(``model.safetensors``): the same BERT forward pass as :class:`afterclick.text.semantic.MiniLM`
(the NumPy reference), written with standard ONNX operators so that ONNX Runtime fuses the layer
norms, GELUs and biases and runs every operator on all cores. Nothing is downloaded and no
file is written. Texts are tokenised once, sorted by token count and cut into batches of similar
length (a batch is padded to its own longest text, and holds about ``TOKENS`` tokens), so little
work goes into padding.

Needs ``onnxruntime`` and ``onnx`` (both in the ``semantic`` extra); without them the tier falls
back to the NumPy encoder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HIDDEN, HEADS = 384, 12
TOKENS = 2048  # padded tokens per batch: big enough for the matrix products, small enough for the cache
MAX_BATCH = 128


class _Graph:
    """Collects the nodes and weights of one ONNX graph."""

    def __init__(self, weights: dict[str, np.ndarray]):
        from onnx import helper, numpy_helper

        self.h, self.np_helper, self.w = helper, numpy_helper, weights
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, value, name: str | None = None) -> str:
        name = name or f"c{len(self.inits)}"
        self.inits.append(self.np_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, key: str, transpose: bool = False) -> str:
        v = self.w[key].astype(np.float32)
        return self.const(np.ascontiguousarray(v.T) if transpose else v, key)

    def op(self, kind: str, *inputs: str, **attrs) -> str:
        self.n += 1
        out = f"{kind.lower()}{self.n}"
        self.nodes.append(self.h.make_node(kind, list(inputs), [out], **attrs))
        return out

    def dense(self, x: str, prefix: str) -> str:
        return self.op("Add", self.op("MatMul", x, self.weight(prefix + ".weight", transpose=True)),
                       self.weight(prefix + ".bias"))

    def layer_norm(self, x: str, prefix: str) -> str:
        return self.op("LayerNormalization", x, self.weight(prefix + ".weight"), self.weight(prefix + ".bias"),
                       axis=-1, epsilon=1e-12)


def _attention(g: _Graph, x: str, p: str, mask_bias: str) -> str:
    """Self-attention with its residual: x + dense(softmax(q·kᵀ/√d + mask) · v)."""
    d = HIDDEN // HEADS
    split = g.const(np.array([0, 0, HEADS, d], dtype=np.int64))
    q, k, v = (g.op("Reshape", g.dense(x, p + f"attention.self.{m}"), split) for m in ("query", "key", "value"))
    q = g.op("Transpose", q, perm=[0, 2, 1, 3])
    k = g.op("Transpose", k, perm=[0, 2, 3, 1])
    v = g.op("Transpose", v, perm=[0, 2, 1, 3])
    att = g.op("Add", g.op("Mul", g.op("MatMul", q, k), g.const(np.float32(1 / np.sqrt(d)))), mask_bias)
    ctx = g.op("MatMul", g.op("Softmax", att, axis=-1), v)
    ctx = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), g.const(np.array([0, 0, HIDDEN], dtype=np.int64)))
    return g.op("Add", x, g.dense(ctx, p + "attention.output.dense"))


def _gelu(g: _Graph, h: str) -> str:
    """Exact GELU, 0.5·h·(1 + erf(h/√2)), in the form ONNX Runtime fuses into one operator."""
    e = g.op("Erf", g.op("Div", h, g.const(np.float32(np.sqrt(2.0)))))
    return g.op("Mul", g.op("Mul", h, g.op("Add", e, g.const(np.float32(1.0)))), g.const(np.float32(0.5)))


def build_model(weights: dict[str, np.ndarray]):
    """all-MiniLM-L6-v2 as an ONNX ModelProto: ``input_ids``, ``attention_mask`` (int64, batch ×
    tokens) → ``embedding`` (batch × 384, mean-pooled over real tokens, unit length)."""
    from onnx import TensorProto, helper

    w = {k.removeprefix("bert."): v for k, v in weights.items()}
    g = _Graph(w)
    layers = 1 + max(int(k.split(".")[2]) for k in w if k.startswith("encoder.layer."))
    n = g.op("Gather", g.op("Shape", "input_ids"), g.const(np.array([1], dtype=np.int64)), axis=0)
    positions = g.op("Range", g.const(np.int64(0)), g.op("Squeeze", n), g.const(np.int64(1)))
    x = g.op("Add", g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "input_ids", axis=0),
             g.op("Gather", g.weight("embeddings.position_embeddings.weight"), positions, axis=0))
    x = g.op("Add", x, g.const(w["embeddings.token_type_embeddings.weight"][0].astype(np.float32)))
    x = g.layer_norm(x, "embeddings.LayerNorm")
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    pad = g.op("Sub", g.const(np.float32(1.0)), mask)
    mask_bias = g.op("Unsqueeze", g.op("Mul", pad, g.const(np.float32(-1e9))), g.const(np.array([1, 2], dtype=np.int64)))
    for i in range(layers):
        p = f"encoder.layer.{i}."
        x = g.layer_norm(_attention(g, x, p, mask_bias), p + "attention.output.LayerNorm")
        h = _gelu(g, g.dense(x, p + "intermediate.dense"))
        x = g.layer_norm(g.op("Add", x, g.dense(h, p + "output.dense")), p + "output.LayerNorm")
    m = g.op("Unsqueeze", mask, g.const(np.array([2], dtype=np.int64)))
    total = g.op("ReduceSum", g.op("Mul", x, m), g.const(np.array([1], dtype=np.int64)), keepdims=0)
    count = g.op("Max", g.op("ReduceSum", m, g.const(np.array([1], dtype=np.int64)), keepdims=0),
                 g.const(np.float32(1e-9)))
    pooled = g.op("Div", total, count)
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[1], keepdims=1),
                g.const(np.float32(1e-12)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"]))
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])], g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="afterclick")


def batches(lengths: np.ndarray, tokens: int = TOKENS, most: int = MAX_BATCH) -> list[np.ndarray]:
    """Indices of texts in batches of similar token count: sorted by length, each batch as many
    texts as fit ``tokens`` padded tokens (at least one, at most ``most``)."""
    order = np.argsort(lengths, kind="stable")
    out, start = [], 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < most and (end - start + 1) * lengths[order[end]] <= tokens:
            end += 1
        out.append(order[start:end])
        start = end
    return out


class OnnxMiniLM:
    """all-MiniLM-L6-v2 through ONNX Runtime: ``encode(texts) -> (n, 384)`` unit vectors, equal to
    the NumPy reference encoder's to float32 rounding."""

    def __init__(self, path: Path | None = None, threads: int | None = None):
        from afterclick.text.semantic import SemanticUnavailable, load_model

        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise SemanticUnavailable("pip install 'afterclick[semantic]' (onnxruntime, onnx)") from exc
        self.tok, weights = load_model(path, padding=False)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # idle threads sleep instead of spinning: the machine is often shared
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = build_model(weights)
        self.session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts) -> np.ndarray:
        texts = [t if isinstance(t, str) else "" for t in texts]
        out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        enc = self.tok.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in enc])
        for idx in batches(lengths):
            ids = np.zeros((len(idx), lengths[idx].max()), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, :lengths[i]] = enc[i].ids
            mask = (np.arange(ids.shape[1]) < lengths[idx][:, None]).astype(np.int64)
            out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out
