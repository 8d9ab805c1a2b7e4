"""keras-hub `BertBackbone` with the exact (erf) GELU of Hugging Face BERT."""

import keras
import keras_hub


@keras.saving.register_keras_serializable(package="msakeras")
class ExactGeluBertBackbone(keras_hub.models.BertBackbone):
    """`BertBackbone` whose feed-forward blocks use the exact (erf) GELU.

    keras-hub's `BertBackbone` hard-codes the tanh approximation of GELU,
    while Hugging Face BERT (and every checkpoint our references fine-tune)
    uses the exact erf form; hidden states differ by up to 4.4e-3. This
    subclass swaps the activation in every transformer block, which brings
    the difference to Hugging Face's `BertModel` down to a few 1e-6, and it
    survives a `.keras` round trip (a patched plain instance does not: its
    config rebuilds with the approximation).

    It touches the private `_feedforward_intermediate_dense` of keras-hub's
    `TransformerEncoder`, hence the pinned keras-hub range in
    `pyproject.toml`; `tests/layers/encoders` checks a block against a NumPy
    erf-GELU.

    Args: as `keras_hub.models.BertBackbone`.

    Example:

    ```python
    backbone = ExactGeluBertBackbone(
        vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, https://arxiv.org/abs/1810.04805
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        gelu = keras.activations.get("gelu")  # approximate=False
        for block in self.transformer_layers:
            block.activation = gelu
            block._feedforward_intermediate_dense.activation = gelu
