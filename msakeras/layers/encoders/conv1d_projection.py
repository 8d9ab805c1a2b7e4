"""Per-step Conv1D projection of a modality sequence to the model width."""

import keras

from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class Conv1DProjection(explicit_mask_layer.ExplicitMaskLayer):
    """Temporal `Conv1D` without bias projecting a modality to `hidden_dim`.

    MulT and HyCon project each modality's features to the shared width `d`
    with `Conv1d(d_in, d, kernel_size, bias=False)` over time before their
    transformers. With a `mask`, padded input steps are zeroed before the
    convolution (so they cannot leak into valid steps through the kernel)
    and padded output steps are zeroed after it.

    Args:
        hidden_dim: int. Output width `d`.
        kernel_size: int. Temporal kernel size. Defaults to `1`.
        padding: str. `"same"` keeps the number of steps; `"valid"` gives
            `steps - kernel_size + 1` steps, output step `t` reading input
            steps `t .. t + kernel_size - 1` (PyTorch `padding=0`). Defaults
            to `"same"`.
        kernel_initializer: initializer for the kernel. Defaults to
            `"glorot_uniform"`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`, 1 = valid, right
            padded. With `padding="valid"` output step `t` is valid when
            input step `t + kernel_size - 1` is.

    Returns:
        float `(batch, output_steps, hidden_dim)`.

    Example:

    ```python
    audio = np.random.rand(2, 6, 5).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")
    projected = msakeras.layers.Conv1DProjection(8, kernel_size=3)(
        audio, mask=mask)  # (2, 6, 8)
    ```

    Reference:
        [Tsai et al., 2019, MulT](https://arxiv.org/abs/1906.00295),
        code: https://github.com/yaohungt/Multimodal-Transformer
        (`src/models.py`, `proj_l/proj_a/proj_v`).
    """

    def __init__(
        self,
        hidden_dim,
        kernel_size=1,
        padding="same",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(
                "`hidden_dim` must be a positive int. "
                f"Received: hidden_dim={hidden_dim!r}"
            )
        if not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(
                "`kernel_size` must be a positive int. "
                f"Received: kernel_size={kernel_size!r}"
            )
        if padding not in ("same", "valid"):
            raise ValueError(
                "`padding` must be 'same' or 'valid'. "
                f"Received: padding={padding!r}"
            )
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.padding = padding
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.convolution = keras.layers.Conv1D(
            hidden_dim,
            kernel_size,
            padding=padding,
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="convolution",
        )

    def build(self, inputs_shape):
        steps = inputs_shape[1]
        if (
            self.padding == "valid"
            and steps is not None
            and steps < self.kernel_size
        ):
            raise ValueError(
                f"With padding='valid', `inputs` needs at least "
                f"`kernel_size` ({self.kernel_size}) steps. "
                f"Received: inputs.shape={inputs_shape}"
            )
        self.convolution.build(inputs_shape)

    def call(self, inputs, mask=None):
        outputs = self.convolution(sequence_ops.zero_padded_steps(inputs, mask))
        if mask is None:
            return outputs
        if self.padding == "valid":
            mask = mask[:, self.kernel_size - 1 :]
        return sequence_ops.zero_padded_steps(outputs, mask)

    def compute_output_shape(self, inputs_shape):
        steps = inputs_shape[1]
        if self.padding == "valid" and steps is not None:
            steps = steps - self.kernel_size + 1
        return (inputs_shape[0], steps, self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "kernel_size": self.kernel_size,
            "padding": self.padding,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }
