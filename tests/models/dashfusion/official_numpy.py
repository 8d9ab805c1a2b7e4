"""NumPy transcription of DashFusion's official PyTorch modules.

Written from ultramarineX/DashFusion (`src/model/layers.py`,
`src/model/audio_encoder.py`), not from msakeras: parameters are kept in
PyTorch's layout (`Linear.weight` is `(out, in)`) under the official
attribute names, and each function follows the official `forward` line by
line (inference: dropout is the identity). `load_*` functions copy these
parameters into the msakeras layers, so a test compares the layer with
the official computation on the same weights.
"""

import math

import numpy as np

_ERF = np.vectorize(math.erf)


# --- torch primitives ------------------------------------------------------
def linear(x, parameters):
    """`nn.Linear`: `x W^T + b` (`parameters = (W (out, in), b or None)`)."""
    weight, bias = parameters
    y = x @ weight.T
    return y if bias is None else y + bias


def layer_norm(x, parameters, epsilon=1e-5):
    """`nn.LayerNorm` (biased variance, eps 1e-5)."""
    gamma, beta = parameters
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def gelu(x):
    """`nn.GELU()` (exact, erf)."""
    return 0.5 * x * (1.0 + _ERF(x / math.sqrt(2.0)))


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def split_heads(x, heads):
    """`b n (h d) -> b h n d`."""
    b, n, width = x.shape
    return x.reshape(b, n, heads, width // heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """`b h n d -> b n (h d)`."""
    b, h, n, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, n, h * d)


def feed_forward(x, parameters):
    """`FeedForward`: Linear, GELU, (Dropout), Linear, (Dropout)."""
    return linear(gelu(linear(x, parameters["net.0"])), parameters["net.3"])


# --- random parameters in the official layout ------------------------------
class Parameters:
    """Draws official-layout parameters from one NumPy generator."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def linear(self, fan_in, fan_out, bias=True):
        weight = self.rng.normal(0, fan_in**-0.5, (fan_out, fan_in))
        b = self.rng.normal(0, 0.1, fan_out) if bias else None
        return (
            weight.astype("float32"),
            None if b is None else b.astype("float32"),
        )

    def norm(self, width):
        return (
            (1.0 + 0.1 * self.rng.normal(size=width)).astype("float32"),
            (0.1 * self.rng.normal(size=width)).astype("float32"),
        )

    def vector(self, shape, scale=1.0):
        return (scale * self.rng.normal(size=shape)).astype("float32")


# --- layers.py -------------------------------------------------------------
def attention(queries, keys, values, parameters, heads):
    """`Attention.forward` (mask None): biased q/k/v, scale d_model^-0.5."""
    d_model = queries.shape[-1]
    q = split_heads(linear(queries, parameters["to_query"]), heads)
    k = split_heads(linear(keys, parameters["to_key"]), heads)
    v = split_heads(linear(values, parameters["to_value"]), heads)
    dots = q @ k.transpose(0, 1, 3, 2) * d_model**-0.5
    return merge_heads(softmax(dots) @ v)


def cross_transformer_layer(target, source, parameters, heads):
    """One layer of `TransformerEncoder` (`source = target`) or
    `CrossTransformerEncoder`: `x = PostNormAttention(x, s, s) + x`,
    `x = PostNormForward(x) + x`."""
    attended = attention(target, source, source, parameters["attn.fn"], heads)
    target = layer_norm(attended, parameters["attn.norm"]) + target
    forward = feed_forward(target, parameters["ff.fn"])
    return layer_norm(forward, parameters["ff.norm"]) + target


def multi_ca(query, h_t, h_a, h_v, parameters, heads):
    """`Multi_CA.forward`: no-bias projections, scale head_dim^-0.5."""
    scale = (query.shape[-1] // heads) ** -0.5
    q = split_heads(linear(query, parameters["to_q"]), heads)
    out = query
    for name, sequence in (("t", h_t), ("a", h_a), ("v", h_v)):
        k = split_heads(linear(sequence, parameters[f"to_k_{name}"]), heads)
        v = split_heads(linear(sequence, parameters[f"to_v_{name}"]), heads)
        out = out + merge_heads(
            softmax(q @ k.transpose(0, 1, 3, 2) * scale) @ v
        )
    out = layer_norm(out, parameters["norm1"])
    out = out + feed_forward(out, parameters["ffn"])
    return layer_norm(out, parameters["norm2"])


def hierarchical_bottleneck_fusion(x_m, x_t, x_a, x_v, parameters, heads,
                                   initial_query_len=8):  # fmt: skip
    """`HierarchicalBottleneckFusion.forward`."""
    m_t, m_a, m_v = x_t, x_a, x_v
    query = None
    keep = initial_query_len
    for level, level_parameters in enumerate(parameters):
        source = x_m if level == 0 else query
        query = cross_transformer_layer(
            source, source, level_parameters["encoder_q"], heads
        )
        query = query[:, :keep]
        query = multi_ca(
            query, m_t, m_a, m_v, level_parameters["encoder_q2tav"], heads
        )
        m_t = cross_transformer_layer(
            m_t, query, level_parameters["encoder_t"], heads
        )
        m_a = cross_transformer_layer(
            m_a, query, level_parameters["encoder_a"], heads
        )
        m_v = cross_transformer_layer(
            m_v, query, level_parameters["encoder_v"], heads
        )
        keep = max(1, keep // 2)
    return np.concatenate(
        [query[:, 0], m_t[:, 0], m_a[:, 0], m_v[:, 0]], axis=-1
    )


def temporal_alignment(h_t, h_a, h_v, parameters, heads, dim_head):
    """`TemporalAlignment.forward` (`dim != heads * dim_head`: `to_out`)."""
    scale = dim_head**-0.5
    q = split_heads(linear(h_t, parameters["to_q"]), heads)
    outs = []
    for name, sequence in (("ta", h_a), ("tv", h_v)):
        k = split_heads(linear(sequence, parameters[f"to_k_{name}"]), heads)
        v = split_heads(linear(sequence, parameters[f"to_v_{name}"]), heads)
        outs.append(
            merge_heads(softmax(q @ k.transpose(0, 1, 3, 2) * scale) @ v)
        )
    return h_t + linear(outs[0] + outs[1], parameters["to_out.0"])


# --- audio_encoder.py (the vision encoder is the same) ---------------------
def torch_encoder_layer(x, key_padding_mask, parameters, heads):
    """`nn.TransformerEncoderLayer(norm_first=False, activation='gelu')`:
    `x = norm1(x + SA(x))`, `x = norm2(x + linear2(gelu(linear1(x))))`;
    SA is `nn.MultiheadAttention` (packed in-projection, scale
    head_dim^-0.5, padded keys (`True`) at -inf, biased out-projection)."""
    width = x.shape[-1]
    w, b = parameters["self_attn.in_proj"]
    q = split_heads(x @ w[:width].T + b[:width], heads)
    k = split_heads(x @ w[width : 2 * width].T + b[width : 2 * width], heads)
    v = split_heads(x @ w[2 * width :].T + b[2 * width :], heads)
    dots = q @ k.transpose(0, 1, 3, 2) * (width // heads) ** -0.5
    dots = np.where(key_padding_mask[:, None, None, :], -np.inf, dots)
    attended = linear(
        merge_heads(softmax(dots) @ v), parameters["self_attn.out_proj"]
    )
    x = layer_norm(x + attended, parameters["norm1"])
    forward = linear(
        gelu(linear(x, parameters["linear1"])), parameters["linear2"]
    )
    return layer_norm(x + forward, parameters["norm2"])


def audio_encoder(audio, key_padding_mask, parameters, heads):
    """`AudioEncoder.forward` -> `x` (the sequence; `x_avc` is its mean).

    `key_padding_mask`: bool `(batch, steps + 1)`, True = padded, the
    `[CLS]` slot first (the official dataloader prepends it).
    """
    x = linear(
        audio, parameters["pos_encoder.proj"]
    )  # PositionEncodingTraining
    cls = np.broadcast_to(
        parameters["pos_encoder.cls_token"], (len(x), 1, x.shape[-1])
    )
    x = (
        np.concatenate([cls, x], axis=1)
        + parameters["pos_encoder.position_embeddings"]
    )
    for layer_parameters in parameters["layers"]:
        x = torch_encoder_layer(x, key_padding_mask, layer_parameters, heads)
    x = layer_norm(x, parameters["layernorm"])
    return x * (~key_padding_mask)[..., None]


# --- parameters and their places in the msakeras layers --------------------
def block_parameters(draw, width, ff_dim):
    """A depth-1 `TransformerEncoder` / `CrossTransformerEncoder` layer."""
    return {
        "attn.fn": {
            name: draw.linear(width, width)
            for name in ("to_query", "to_key", "to_value")
        },
        "attn.norm": draw.norm(width),
        "ff.fn": {
            "net.0": draw.linear(width, ff_dim),
            "net.3": draw.linear(ff_dim, width),
        },
        "ff.norm": draw.norm(width),
    }


def hbf_parameters(draw, width, ff_dim, depth):
    levels = []
    for _ in range(depth):
        multi = {
            name: draw.linear(width, width, bias=False)
            for name in (
                "to_q", "to_k_t", "to_k_a", "to_k_v", "to_v_t", "to_v_a",
                "to_v_v",
            )
        }  # fmt: skip
        multi.update(
            ffn={
                "net.0": draw.linear(width, ff_dim),
                "net.3": draw.linear(ff_dim, width),
            },
            norm1=draw.norm(width),
            norm2=draw.norm(width),
        )
        levels.append(
            {
                "encoder_q": block_parameters(draw, width, ff_dim),
                "encoder_q2tav": multi,
                **{
                    f"encoder_{name}": block_parameters(draw, width, ff_dim)
                    for name in ("t", "a", "v")
                },
            }
        )
    return levels


def _dense(prefix, parameters):
    weight, bias = parameters
    values = {f"{prefix}/kernel": weight.T}
    if bias is not None:
        values[f"{prefix}/bias"] = bias
    return values


def _norm(prefix, parameters):
    return {f"{prefix}/gamma": parameters[0], f"{prefix}/beta": parameters[1]}


def _feed_forward(prefix, parameters):
    return {
        **_dense(f"{prefix}/intermediate_dense", parameters["net.0"]),
        **_dense(f"{prefix}/output_dense", parameters["net.3"]),
    }


def _block(prefix, parameters):
    values = {}
    for ours, theirs in (
        ("query", "to_query"), ("key", "to_key"), ("value", "to_value"),
    ):  # fmt: skip
        values.update(
            _dense(f"{prefix}/{ours}_dense", parameters["attn.fn"][theirs])
        )
    values.update(_norm(f"{prefix}/attention_norm", parameters["attn.norm"]))
    values.update(_feed_forward(f"{prefix}/feedforward", parameters["ff.fn"]))
    values.update(_norm(f"{prefix}/feedforward_norm", parameters["ff.norm"]))
    return values


def hbf_weights(levels):
    """`{path below the layer: value}` of `HierarchicalBottleneckFusion`.

    The official model calls `HBF(H, X_t, X_v, X_a)`: its `a` slots hold
    vision and its `v` slots audio, so `encoder_a`/`to_*_a` are our vision
    weights and `encoder_v`/`to_*_v` our audio ones.
    """
    ours_for = {"t": "text", "a": "vision", "v": "audio"}
    values = {}
    for level, p in enumerate(levels):
        values.update(_block(f"self_block_{level}", p["encoder_q"]))
        multi = p["encoder_q2tav"]
        prefix = f"multi_cross_attention_{level}"
        values.update(_dense(f"{prefix}/query_dense", multi["to_q"]))
        for theirs, ours in ours_for.items():
            for kind in ("k", "v"):
                name = "key" if kind == "k" else "value"
                values.update(
                    _dense(
                        f"{prefix}/{ours}_{name}_dense",
                        multi[f"to_{kind}_{theirs}"],
                    )
                )
        values.update(_norm(f"{prefix}/attention_norm", multi["norm1"]))
        values.update(_feed_forward(f"{prefix}/feedforward", multi["ffn"]))
        values.update(_norm(f"{prefix}/feedforward_norm", multi["norm2"]))
        for theirs, ours in ours_for.items():
            values.update(
                _block(f"{ours}_cross_block_{level}", p[f"encoder_{theirs}"])
            )
    return values


def temporal_alignment_parameters(draw, dim, heads, dim_head):
    inner = heads * dim_head
    parameters = {
        name: draw.linear(dim, inner, bias=False)
        for name in ("to_q", "to_k_ta", "to_k_tv", "to_v_ta", "to_v_tv")
    }
    parameters["to_out.0"] = draw.linear(inner, dim)
    return parameters


def temporal_alignment_weights(parameters):
    values = {}
    for ours, theirs in (
        ("query", "to_q"),
        ("audio_key", "to_k_ta"),
        ("audio_value", "to_v_ta"),
        ("vision_key", "to_k_tv"),
        ("vision_value", "to_v_tv"),
        ("output", "to_out.0"),
    ):
        values.update(_dense(f"{ours}_dense", parameters[theirs]))
    return values


def audio_encoder_parameters(draw, features, width, ff_dim, steps, layers):
    return {
        "pos_encoder.proj": draw.linear(features, width),
        "pos_encoder.cls_token": draw.vector((1, 1, width)),
        "pos_encoder.position_embeddings": draw.vector(
            (1, steps + 1, width), 0.5
        ),
        "layers": [
            {
                "self_attn.in_proj": (
                    draw.vector((3 * width, width), width**-0.5),
                    draw.vector(3 * width, 0.1),
                ),
                "self_attn.out_proj": draw.linear(width, width),
                "norm1": draw.norm(width),
                "norm2": draw.norm(width),
                "linear1": draw.linear(width, ff_dim),
                "linear2": draw.linear(ff_dim, width),
            }
            for _ in range(layers)
        ],
        "layernorm": draw.norm(width),
    }


def sequence_encoder_weights(parameters, heads):
    """`DashFusionSequenceEncoder` weights (keras-hub transformer layers:
    per-head `EinsumDense` kernels `(width, heads, head_dim)`)."""
    width = parameters["pos_encoder.proj"][0].shape[0]
    head_dim = width // heads
    values = {
        **_dense("input_dense", parameters["pos_encoder.proj"]),
        "cls_token": parameters["pos_encoder.cls_token"].reshape(width),
        "position_embeddings": parameters["pos_encoder.position_embeddings"][0],
        **_norm("output_norm", parameters["layernorm"]),
    }
    for index, p in enumerate(parameters["layers"]):
        prefix = f"transformer_layer_{index}"
        weight, bias = p["self_attn.in_proj"]
        for part, name in enumerate(("query", "key", "value")):
            rows = slice(part * width, (part + 1) * width)
            values[f"{prefix}/self_attention_layer/{name}/kernel"] = weight[
                rows
            ].T.reshape(width, heads, head_dim)
            values[f"{prefix}/self_attention_layer/{name}/bias"] = bias[
                rows
            ].reshape(heads, head_dim)
        out_weight, out_bias = p["self_attn.out_proj"]
        values[f"{prefix}/self_attention_layer/attention_output/kernel"] = (
            out_weight.T.reshape(heads, head_dim, width)
        )
        values[f"{prefix}/self_attention_layer/attention_output/bias"] = (
            out_bias
        )
        values.update(_norm(f"{prefix}/self_attention_layer_norm", p["norm1"]))
        values.update(_norm(f"{prefix}/feedforward_layer_norm", p["norm2"]))
        values.update(
            _dense(f"{prefix}/feedforward_intermediate_dense", p["linear1"])
        )
        values.update(
            _dense(f"{prefix}/feedforward_output_dense", p["linear2"])
        )
    return values


def assign(layer, values):
    """Sets every weight of `layer` from `values` (paths below the layer);
    raises if a weight has no value or a value no weight."""
    values = dict(values)
    for weight in layer.weights:
        path = weight.path.split("/", 1)[1]
        if path not in values:
            raise KeyError(f"No reference value for {weight.path}.")
        value = np.asarray(values.pop(path), "float32")
        if tuple(value.shape) != tuple(weight.shape):
            raise ValueError(f"{weight.path}: {value.shape} vs {weight.shape}")
        weight.assign(value)
    if values:
        raise KeyError(f"Reference values without a weight: {sorted(values)}")
