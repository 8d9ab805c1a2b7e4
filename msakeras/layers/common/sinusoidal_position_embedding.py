"""fairseq-style sinusoidal position embedding, as MulT uses it."""

import math

import keras
from keras import ops

from msakeras.layers.common import explicit_mask_layer


@keras.saving.register_keras_serializable(package="msakeras")
class SinusoidalPositionEmbedding(explicit_mask_layer.ExplicitMaskLayer):
    """fairseq sinusoidal position embedding with zero vectors on padding.

    Returns the embedding only (add it to the inputs yourself). For a width
    `d`, `half = d // 2` and `freq_j = exp(-j * log(max_wavelength) /
    (half - 1))`; a valid step at index `t` gets position `p = t + 1`
    (positions start at 1) and the vector `[sin(p * freq), cos(p * freq)]`
    (all sines first, then all cosines; an odd `d` gets a trailing zero
    channel). Padded steps get position 0's slot, the zero vector, and do
    not shift later positions (MulT `make_positions`).

    Padding comes from the explicit `mask`. The MulT reference instead
    treats every step whose **first feature channel is exactly 0** as
    padding; `first_channel_padding=True` adds that rule (a step is then
    valid only if the mask says so and its first channel is non-zero).

    Args:
        max_wavelength: float. The base of the frequencies (fairseq: 10000).
            Defaults to `10000.0`.
        first_channel_padding: bool. Also treat steps whose first input
            channel is exactly 0 as padding (MulT/MIB/MCL reference rule).
            Defaults to `False`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, hidden_dim)`; only its shape (and the
            first channel with `first_channel_padding=True`) is read.
            `hidden_dim` must be at least 4.
        mask: optional int or bool `(batch, steps)`, 1 = valid. `None` =
            all steps valid.

    Returns:
        float `(batch, steps, hidden_dim)`, zero at padded steps.

    Example:

    ```python
    features = np.random.rand(2, 5, 8).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")
    positions = msakeras.layers.SinusoidalPositionEmbedding()(
        features, mask=mask)
    hidden = features * 8**0.5 + positions  # MulT's encoder input
    ```

    Reference:
        [Tsai et al., 2019, MulT](https://arxiv.org/abs/1906.00295),
        code: https://github.com/yaohungt/Multimodal-Transformer
        (`modules/position_embedding.py`, from fairseq).
    """

    def __init__(
        self, max_wavelength=10000.0, first_channel_padding=False, **kwargs
    ):
        super().__init__(**kwargs)
        if not max_wavelength > 1:
            raise ValueError(
                "`max_wavelength` must be greater than 1. "
                f"Received: max_wavelength={max_wavelength}"
            )
        if not isinstance(first_channel_padding, bool):
            raise ValueError(
                "`first_channel_padding` must be a bool. Received: "
                f"first_channel_padding={first_channel_padding!r}"
            )
        self.max_wavelength = max_wavelength
        self.first_channel_padding = first_channel_padding

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim is None or hidden_dim < 4:
            # fairseq divides by `hidden_dim // 2 - 1`.
            raise ValueError(
                "The width of `inputs` (hidden_dim) must be at least 4 for "
                f"sinusoidal positions. Received: inputs.shape={inputs_shape}"
            )
        self.built = True

    def call(self, inputs, mask=None):
        hidden_dim = inputs.shape[-1]
        half_dim = hidden_dim // 2
        dtype = self.compute_dtype
        scale = math.log(self.max_wavelength) / (half_dim - 1)
        frequencies = ops.exp(ops.arange(half_dim, dtype="float32") * -scale)
        steps = ops.shape(inputs)[1]
        valid = ops.ones((ops.shape(inputs)[0], steps), dtype="bool")
        if mask is not None:
            valid = ops.logical_and(valid, ops.cast(mask, "bool"))
        if self.first_channel_padding:
            valid = ops.logical_and(valid, ops.not_equal(inputs[..., 0], 0))
        positions = ops.arange(1, steps + 1, dtype="float32")[None, :]
        positions = positions * ops.cast(valid, "float32")
        angles = positions[:, :, None] * frequencies[None, None, :]
        embedding = ops.concatenate([ops.sin(angles), ops.cos(angles)], -1)
        if hidden_dim % 2 == 1:
            embedding = ops.pad(embedding, [[0, 0], [0, 0], [0, 1]])
        # Position 0 (padding) is the zero vector, not [sin 0, cos 0].
        embedding = embedding * ops.cast(valid, "float32")[:, :, None]
        return ops.cast(embedding, dtype)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_wavelength": self.max_wavelength,
            "first_channel_padding": self.first_channel_padding,
        }
