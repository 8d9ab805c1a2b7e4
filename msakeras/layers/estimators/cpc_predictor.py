"""`CPCPredictor`: MMIM's fusion-to-modality predictor `G`
(docs/building_blocks.md)."""

import keras


@keras.saving.register_keras_serializable(package="msakeras")
class CPCPredictor(keras.layers.Layer):
    """Predicts a unimodal representation from the fusion result.

    MMIM's `G_φ` (paper eq. 10, official `CPC.net`): with `num_layers=1`
    a single linear map `p = W Z + b` (`d_z -> output_dim`); with more
    layers the official stack `Linear(d_z -> d_m), Tanh, Linear(d_m ->
    d_m), ..., Linear(d_m -> d_m)`, i.e. the Tanh follows the first layer
    only. The predictions feed `msakeras.losses.InfoNCE` together with the
    true representation `h_m`; normalisation happens there. Kernels are
    Xavier-normal (official init); biases are zeros (GAP: PyTorch's
    default is uniform).

    Args:
        output_dim: int. Width `d_m` of the predicted representation.
        num_layers: int. Number of dense layers (official `cpc_layers`).
            Defaults to `1`.
        kernel_initializer: str or initializer. Kernel initializer of every
            dense sublayer. Defaults to `"glorot_normal"` (Xavier-normal).

    Call arguments:
        fused: float `(batch, d_z)`. The fusion result `Z`.

    Returns:
        float `(batch, output_dim)`, the predictions `G(Z)`.

    Example:

    ```python
    predictor = CPCPredictor(output_dim=768, name="cpc_text")
    loss = msakeras.losses.InfoNCE()(text_cls, predictor(fused))
    ```

    Reference:
        Han et al., EMNLP 2021, eqs. 10-12, https://arxiv.org/abs/2109.00412
    """

    def __init__(
        self,
        output_dim,
        num_layers=1,
        kernel_initializer="glorot_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 1:
            raise ValueError(
                f"`num_layers` must be at least 1; received {num_layers}."
            )
        self.output_dim = output_dim
        self.num_layers = num_layers
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.prediction_layers = []
        for index in range(num_layers):
            # Official CPC: Tanh after the first of several layers only.
            activation = "tanh" if index == 0 and num_layers > 1 else None
            self.prediction_layers.append(
                keras.layers.Dense(
                    output_dim,
                    activation=activation,
                    kernel_initializer=keras.initializers.get(
                        keras.initializers.serialize(self.kernel_initializer)
                    ),
                    dtype=self.dtype_policy,
                    name=f"prediction_{index}",
                )
            )

    def build(self, fused_shape):
        shape = tuple(fused_shape)
        for layer in self.prediction_layers:
            layer.build(shape)
            shape = shape[:-1] + (self.output_dim,)
        self.built = True

    def call(self, fused):
        outputs = fused
        for layer in self.prediction_layers:
            outputs = layer(outputs)
        return outputs

    def compute_output_shape(self, fused_shape):
        return tuple(fused_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "output_dim": self.output_dim,
            "num_layers": self.num_layers,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }
