"""Weight-map entries of the PyTorch modules MMSA's models are built from.

Each function adds the state-dict keys of one torch module (under a key
prefix) to a `WeightMap`, onto the matching Keras layer:

- `add_linear`: `nn.Linear` (`weight (out, in)`, `bias`) -> `Dense`.
- `add_lstm`: a one-layer `nn.LSTM` (`weight_ih_l0 (4h, in)`,
  `weight_hh_l0 (4h, h)`, `bias_ih_l0 + bias_hh_l0`; `_reverse` for the
  backward direction) -> `MaskedLSTMEncoder`'s forward / backward Keras
  `LSTM`. PyTorch's gate order i, f, g, o is Keras's i, f, c, o, so the
  kernels are the transposed weights and the bias is the sum of torch's two.
- `add_bert`: Hugging Face `BertModel` -> keras-hub `BertBackbone` (the
  layout of keras-hub's own Hugging Face converter, pooler included).
"""


def add_linear(weights, prefix, dense):
    """`<prefix>.weight`, `<prefix>.bias` -> a `keras.layers.Dense`."""
    weights.add(f"{prefix}.weight", dense.kernel, "linear")
    weights.add(f"{prefix}.bias", dense.bias)


def add_lstm(weights, prefix, lstm, suffix=""):
    """A one-layer `nn.LSTM` direction (`suffix` `""` or `"_reverse"`)."""
    cell = lstm.cell
    weights.add(f"{prefix}.weight_ih_l0{suffix}", cell.kernel, "linear")
    weights.add(
        f"{prefix}.weight_hh_l0{suffix}", cell.recurrent_kernel, "linear"
    )
    for name in ("bias_ih", "bias_hh"):
        weights.add(f"{prefix}.{name}_l0{suffix}", cell.bias, accumulate=True)


def add_lstm_encoder(weights, rnn_prefix, linear_prefix, encoder):
    """`nn.LSTM` + `nn.Linear` of an MMSA sLSTM -> `MaskedLSTMEncoder`."""
    add_lstm(weights, rnn_prefix, encoder.forward_lstms[0])
    if encoder.bidirectional:
        add_lstm(weights, rnn_prefix, encoder.backward_lstms[0], "_reverse")
    add_linear(weights, linear_prefix, encoder.output_dense)


def add_layer_norm(weights, prefix, norm):
    weights.add(f"{prefix}.weight", norm.gamma)
    weights.add(f"{prefix}.bias", norm.beta)


def add_bert(weights, prefix, backbone):
    """Hugging Face `BertModel` keys under `prefix` -> `BertBackbone`."""
    embeddings = f"{prefix}.embeddings"
    weights.add(
        f"{embeddings}.word_embeddings.weight",
        backbone.get_layer("token_embedding").embeddings,
    )
    weights.add(
        f"{embeddings}.position_embeddings.weight",
        backbone.get_layer("position_embedding").position_embeddings,
    )
    weights.add(
        f"{embeddings}.token_type_embeddings.weight",
        backbone.get_layer("segment_embedding").embeddings,
    )
    add_layer_norm(
        weights,
        f"{embeddings}.LayerNorm",
        backbone.get_layer("embeddings_layer_norm"),
    )
    for index in range(backbone.num_layers):
        block = backbone.get_layer(f"transformer_layer_{index}")
        layer = f"{prefix}.encoder.layer.{index}"
        attention = block._self_attention_layer
        for name, dense in (
            ("query", attention.query_dense),
            ("key", attention.key_dense),
            ("value", attention.value_dense),
        ):
            weights.add(
                f"{layer}.attention.self.{name}.weight",
                dense.kernel,
                "heads_in",
            )
            weights.add(
                f"{layer}.attention.self.{name}.bias", dense.bias, "heads_bias"
            )
        weights.add(
            f"{layer}.attention.output.dense.weight",
            attention.output_dense.kernel,
            "heads_out",
        )
        weights.add(
            f"{layer}.attention.output.dense.bias", attention.output_dense.bias
        )
        add_layer_norm(
            weights,
            f"{layer}.attention.output.LayerNorm",
            block._self_attention_layer_norm,
        )
        add_linear(
            weights,
            f"{layer}.intermediate.dense",
            block._feedforward_intermediate_dense,
        )
        add_linear(
            weights, f"{layer}.output.dense", block._feedforward_output_dense
        )
        add_layer_norm(
            weights, f"{layer}.output.LayerNorm", block._feedforward_layer_norm
        )
    add_linear(
        weights, f"{prefix}.pooler.dense", backbone.get_layer("pooled_dense")
    )
