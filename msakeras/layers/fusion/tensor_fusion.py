"""`TensorFusion`: TFN's outer product of modality vectors with 1s."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class TensorFusion(keras.layers.Layer):
    """Tensor fusion: flattened outer product of `[x^m; 1]` vectors.

    Computes `z = vec([x^1; 1] ⊗ [x^2; 1] ⊗ ... ⊗ [x^K; 1])`, of width
    `Π (d_m + 1)`, which holds every unimodal, bimodal and trimodal product
    of features (TFN's fusion layer, Zadeh et al. 2017, eq. 1; HyCon's
    "Tensor Fusion" variant, Table 4). Parameter-free; the model's head
    reads `z` (for HyCon's d = 50: 51³ = 132,651 features, the "large
    amount of parameters" the paper mentions). TFN prepends the 1; here it
    is appended, which only permutes the features.

    Args:
        **kwargs: Standard `keras.layers.Layer` arguments (`name`,
            `dtype`).

    Call arguments:
        inputs: list of float `(batch, width_i)` tensors (widths known).

    Returns:
        float `(batch, Π (width_i + 1))`; the last feature is the constant
        1 and the feature at flat index `Σ_m k_m Π_{n>m} (d_n + 1)` is
        `Π_m [x^m; 1]_{k_m}`.

    Example:

    ```python
    fused = msakeras.layers.TensorFusion()([text, audio, vision])
    # (batch, 51 * 51 * 51) for three 50-wide vectors
    ```

    Reference:
        [Zadeh et al., 2017, Tensor Fusion Network](
        https://arxiv.org/abs/1707.07250); Mai et al., IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, Table 4.
    """

    def build(self, inputs_shape):
        if not isinstance(inputs_shape, (list, tuple)) or len(inputs_shape) < 2:
            raise ValueError(
                "TensorFusion takes a list of at least 2 tensors. "
                f"Received shapes: {inputs_shape}"
            )
        widths = [shape[-1] for shape in inputs_shape]
        if None in widths:
            raise ValueError(
                f"TensorFusion needs known input widths; received {widths}."
            )

    def call(self, inputs):
        fused = None
        for tensor in inputs:
            ones = ops.ones_like(tensor[:, :1])
            augmented = ops.concatenate([tensor, ones], axis=-1)
            if fused is None:
                fused = augmented
                continue
            width = fused.shape[-1] * augmented.shape[-1]
            fused = ops.reshape(
                fused[:, :, None] * augmented[:, None, :], (-1, width)
            )
        return fused

    def compute_output_shape(self, inputs_shape):
        width = math.prod(shape[-1] + 1 for shape in inputs_shape)
        return (inputs_shape[0][0], width)
