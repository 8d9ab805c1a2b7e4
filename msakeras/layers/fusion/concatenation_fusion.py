"""`ConcatenationFusion`: concatenation of modality vectors."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class ConcatenationFusion(keras.layers.Layer):
    """Fusion by concatenation, `f = [x^l; x^a; x^v]`.

    HyCon's "Concatenation" variant (Table 4). Parameter-free; the model's
    regression head reads the concatenated vector (GAP: the paper gives no
    layer after the concatenation; MIB's `concat` fusion feeds it to the
    decoder directly).

    Args:
        **kwargs: Standard `keras.layers.Layer` arguments (`name`,
            `dtype`).

    Call arguments:
        inputs: list of float `(batch, width_i)` tensors, concatenated in
            order.

    Returns:
        float `(batch, sum of width_i)`.

    Example:

    ```python
    fused = msakeras.layers.ConcatenationFusion()([text, audio, vision])
    ```

    Reference:
        Mai et al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797,
        Table 4.
    """

    def build(self, inputs_shape):
        if not isinstance(inputs_shape, (list, tuple)) or len(inputs_shape) < 2:
            raise ValueError(
                "ConcatenationFusion takes a list of at least 2 tensors. "
                f"Received shapes: {inputs_shape}"
            )

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=-1)

    def compute_output_shape(self, inputs_shape):
        widths = [shape[-1] for shape in inputs_shape]
        width = None if None in widths else sum(widths)
        return (inputs_shape[0][0], width)
