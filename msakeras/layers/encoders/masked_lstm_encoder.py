"""LSTM over the valid frames of a right-padded sequence ("sLSTM")."""

import keras
from keras import ops

from msakeras import backend
from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class MaskedLSTMEncoder(explicit_mask_layer.ExplicitMaskLayer):
    """LSTM summary of a padded sequence: final valid state, dropout, Dense.

    The "sLSTM" of Self-MM (`AuViSubNet`) and MMIM (`RNNEncoder`): an LSTM
    over the valid frames only (PyTorch packed sequences), the final hidden
    state at each row's last valid frame `h_n`, dropout, then
    `Dense(output_dim)` without activation. The LSTM runs with
    `return_sequences=True` over the right-padded input and the state at
    `length - 1` is gathered by a one-hot over time, which is faster than
    `mask=` under torch and exports to ONNX.

    With `bidirectional=True` the backward direction also reads only valid
    frames: each row's valid steps are reversed in place
    (`reverse_within_length`), a second LSTM runs forwards over them, and
    its state at `length - 1` is the backward final state; the forward and
    backward states are concatenated (`2 * hidden_dim`). With
    `num_layers > 1`, each layer reads the previous layer's per-step
    outputs (both directions concatenated, back in the original order) after
    dropout, as `torch.nn.LSTM(dropout=p)` does.

    Rows with no valid step give the output of the Dense layer on zeros.

    Args:
        hidden_dim: int. LSTM units `h`.
        output_dim: int. Width of the output Dense layer.
        bidirectional: bool. Add a backward LSTM (MMSA's MMIM variant).
            Defaults to `False`.
        dropout: float. Dropout rate on the final state, and between LSTM
            layers when `num_layers > 1`. Defaults to `0.0`.
        kernel_initializer: initializer for the LSTM kernels, the LSTM
            recurrent kernels and the Dense kernel (MMIM: `"glorot_normal"`,
            Xavier-normal). Defaults to `"glorot_uniform"`.
        num_layers: int. Stacked LSTM layers. Defaults to `1`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, features)`, right padded; padded steps
            are never read.
        mask: optional int or bool `(batch, steps)`, 1 = valid step. `None`
            = all steps valid.
        training: bool. Whether dropout is active.

    Returns:
        float `(batch, output_dim)`.

    Example:

    ```python
    audio = np.random.rand(2, 6, 5).astype("float32")
    audio_mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")
    encoder = msakeras.layers.MaskedLSTMEncoder(hidden_dim=16, output_dim=8)
    audio_embedding = encoder(audio, mask=audio_mask)  # (2, 8)
    ```

    Reference:
        [Yu et al., 2021, Self-MM](https://arxiv.org/abs/2102.04830),
        code: https://github.com/thuiar/MMSA (`AuViSubNet`);
        [Han et al., 2021, MMIM](https://arxiv.org/abs/2109.00412),
        code: https://github.com/declare-lab/Multimodal-Infomax
        (`RNNEncoder`).
    """

    def __init__(
        self,
        hidden_dim,
        output_dim,
        bidirectional=False,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        num_layers=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("hidden_dim", hidden_dim),
            ("output_dim", output_dim),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{argument}` must be a positive int. "
                    f"Received: {argument}={value!r}"
                )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"`dropout` must be in [0, 1). Received: dropout={dropout}"
            )
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.bidirectional = bool(bidirectional)
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.num_layers = num_layers

        self.forward_lstms = [
            self._lstm(f"forward_lstm_{index}") for index in range(num_layers)
        ]
        self.backward_lstms = [
            self._lstm(f"backward_lstm_{index}")
            for index in (range(num_layers) if self.bidirectional else ())
        ]
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.output_dense = keras.layers.Dense(
            output_dim,
            kernel_initializer=self._initializer(),
            dtype=self.dtype_policy,
            name="output_dense",
        )

    def _lstm(self, name):
        return keras.layers.LSTM(
            self.hidden_dim,
            return_sequences=True,
            kernel_initializer=self._initializer(),
            recurrent_initializer=self._initializer(),
            dtype=backend.recurrent_dtype_policy(self.dtype_policy),
            name=name,
        )

    def _initializer(self):
        # A fresh instance per variable, never one shared object.
        return keras.initializers.get(
            keras.initializers.serialize(self.kernel_initializer)
        )

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                "`inputs` must be (batch, steps, features). "
                f"Received: inputs.shape={inputs_shape}"
            )
        layer_shape = tuple(inputs_shape)
        width = self.hidden_dim * (2 if self.bidirectional else 1)
        for index in range(self.num_layers):
            self.forward_lstms[index].build(layer_shape)
            if self.bidirectional:
                self.backward_lstms[index].build(layer_shape)
            layer_shape = layer_shape[:2] + (width,)
        self.dropout_layer.build((inputs_shape[0], width))
        self.output_dense.build((inputs_shape[0], width))

    def call(self, inputs, mask=None, training=None):
        hidden = inputs
        for index in range(self.num_layers):
            if index > 0:
                hidden = self.dropout_layer(hidden, training=training)
            last_layer = index == self.num_layers - 1
            forward = backend.run_recurrent(
                self.forward_lstms[index], hidden, training=training
            )
            if not self.bidirectional:
                outputs = [forward]
            else:
                # Reversed within length: the LSTM reads valid frames only,
                # in reverse order, and its outputs are in reversed time.
                backward = backend.run_recurrent(
                    self.backward_lstms[index],
                    sequence_ops.reverse_within_length(hidden, mask),
                    training=training,
                )
                if last_layer:
                    outputs = [forward, backward]
                else:
                    outputs = [
                        forward,
                        sequence_ops.reverse_within_length(backward, mask),
                    ]
            hidden = ops.concatenate(outputs, axis=-1)
        # The backward half is in reversed time, so `length - 1` is its
        # final state too.
        state = sequence_ops.gather_last_valid_step(hidden, mask)
        state = self.dropout_layer(state, training=training)
        return self.output_dense(state)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "output_dim": self.output_dim,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "num_layers": self.num_layers,
        }
