"""Bidirectional GRU sequence encoder over valid frames (BBFN "gru")."""

import keras
from keras import ops

from msakeras import backend
from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class BiGRUSequenceEncoder(explicit_mask_layer.ExplicitMaskLayer):
    """1-layer bidirectional GRU giving a projected sequence and a summary.

    BBFN's `gru` sequence encoder (used by MCER's cross-modal task): a
    bidirectional GRU runs over the valid frames only (PyTorch packed
    sequences). The backward direction reverses each row's valid steps in
    place (`reverse_within_length`), runs a forward GRU and reverses its
    outputs back, so it never reads padding. Then

    - `sequence = Dense(hidden_dim)([fwd_t; bwd_t])` per step, zero at
      padded steps;
    - `summary = LayerNorm(Dense(hidden_dim)([h_fwd; h_bwd]))` with the
      final states of both directions (forward at `length - 1`, backward
      after reading step 0).

    Args:
        hidden_dim: int. Output width `d` of both outputs.
        recurrent_dim: int or None. GRU units per direction; `None` uses the
            input width (BBFN: hidden size equal to the input size).
            Defaults to `None`.
        kernel_initializer: initializer for the GRU kernels and the Dense
            kernels. Defaults to `"glorot_uniform"`.
        layer_norm_epsilon: float. Epsilon of the summary LayerNorm
            (PyTorch's default). Defaults to `1e-5`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, features)`, right padded; padded steps
            are never read.
        mask: optional int or bool `(batch, steps)`, 1 = valid step. `None`
            = all steps valid.

    Returns:
        dict with `"sequence"`: float `(batch, steps, hidden_dim)`, zero at
        padded steps, and `"summary"`: float `(batch, hidden_dim)`.

    Example:

    ```python
    vision = np.random.rand(2, 6, 5).astype("float32")
    vision_mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6], "int32")
    outputs = msakeras.layers.BiGRUSequenceEncoder(hidden_dim=8)(
        vision, mask=vision_mask)
    outputs["sequence"].shape, outputs["summary"].shape  # (2, 6, 8), (2, 8)
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669),
        code: https://github.com/declare-lab/BBFN (`modules/encoders.py`,
        `SeqEncoder`).
    """

    def __init__(
        self,
        hidden_dim,
        recurrent_dim=None,
        kernel_initializer="glorot_uniform",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(
                "`hidden_dim` must be a positive int. "
                f"Received: hidden_dim={hidden_dim!r}"
            )
        if recurrent_dim is not None and (
            not isinstance(recurrent_dim, int) or recurrent_dim < 1
        ):
            raise ValueError(
                "`recurrent_dim` must be None or a positive int. "
                f"Received: recurrent_dim={recurrent_dim!r}"
            )
        self.hidden_dim = hidden_dim
        self.recurrent_dim = recurrent_dim
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.sequence_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=self._initializer(),
            dtype=self.dtype_policy,
            name="sequence_dense",
        )
        self.summary_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=self._initializer(),
            dtype=self.dtype_policy,
            name="summary_dense",
        )
        self.summary_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="summary_norm",
        )

    def _initializer(self):
        # A fresh instance per variable, never one shared object.
        return keras.initializers.get(
            keras.initializers.serialize(self.kernel_initializer)
        )

    def build(self, inputs_shape):
        if len(inputs_shape) != 3 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must be (batch, steps, features) with a known "
                f"width. Received: inputs.shape={inputs_shape}"
            )
        units = self.recurrent_dim or inputs_shape[-1]
        # Created here: the default width depends on the input.
        self.forward_gru, self.backward_gru = (
            keras.layers.GRU(
                units,
                return_sequences=True,
                kernel_initializer=self._initializer(),
                recurrent_initializer=self._initializer(),
                dtype=backend.recurrent_dtype_policy(self.dtype_policy),
                name=f"{direction}_gru",
            )
            for direction in ("forward", "backward")
        )
        self.forward_gru.build(inputs_shape)
        self.backward_gru.build(inputs_shape)
        concatenated = tuple(inputs_shape[:2]) + (2 * units,)
        self.sequence_dense.build(concatenated)
        self.summary_dense.build((inputs_shape[0], 2 * units))
        self.summary_norm.build((inputs_shape[0], self.hidden_dim))

    def call(self, inputs, mask=None, training=None):
        forward = backend.run_recurrent(
            self.forward_gru, inputs, training=training
        )
        # Reversed within length: the GRU reads valid frames only; its
        # outputs are in reversed time.
        reversed_backward = backend.run_recurrent(
            self.backward_gru,
            sequence_ops.reverse_within_length(inputs, mask),
            training=training,
        )
        backward = sequence_ops.reverse_within_length(reversed_backward, mask)
        sequence = self.sequence_dense(
            ops.concatenate([forward, backward], axis=-1)
        )
        sequence = sequence_ops.zero_padded_steps(sequence, mask)
        final_states = sequence_ops.gather_last_valid_step(
            ops.concatenate([forward, reversed_backward], axis=-1), mask
        )
        summary = self.summary_norm(self.summary_dense(final_states))
        return {"sequence": sequence, "summary": summary}

    def compute_output_shape(self, inputs_shape):
        return {
            "sequence": tuple(inputs_shape[:2]) + (self.hidden_dim,),
            "summary": (inputs_shape[0], self.hidden_dim),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "recurrent_dim": self.recurrent_dim,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
