"""`AdditionFusion`: element-wise sum of same-width modality vectors."""

import keras


@keras.saving.register_keras_serializable(package="msakeras")
class AdditionFusion(keras.layers.Layer):
    """Fusion by element-wise addition, HyCon's default.

    Computes `f = x^l + x^a + x^v` (HyCon §3.2 and Table 4, "Element-wise
    Addition (defaulted)"; MIB's `addition` fusion). Parameter-free: with
    contrastive training pulling the modalities into one space, the sum is
    enough (paper §4.5.3).

    Args:
        **kwargs: Standard `keras.layers.Layer` arguments (`name`,
            `dtype`).

    Call arguments:
        inputs: list of float `(batch, dim)` tensors of one width.

    Returns:
        float `(batch, dim)`.

    Example:

    ```python
    fused = msakeras.layers.AdditionFusion()([text, audio, vision])
    ```

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, eq. 2 and Table 4.
    """

    def build(self, inputs_shape):
        _check_same_width(inputs_shape, "AdditionFusion")

    def call(self, inputs):
        inputs = list(inputs)
        fused = inputs[0]
        for tensor in inputs[1:]:
            fused = fused + tensor
        return fused

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[0])


def _check_same_width(inputs_shape, layer_name):
    if not isinstance(inputs_shape, (list, tuple)) or len(inputs_shape) < 2:
        raise ValueError(
            f"{layer_name} takes a list of at least 2 tensors. "
            f"Received shapes: {inputs_shape}"
        )
    widths = [shape[-1] for shape in inputs_shape]
    if len(set(widths)) != 1:
        raise ValueError(
            f"{layer_name} needs inputs of one width; received widths {widths}."
        )
    return widths[0]
