import keras
import numpy as np
from absl.testing import parameterized

from msakeras import backend
from msakeras.testing import TestCase


def _layer(kind, units):
    cls = keras.layers.LSTM if kind == "lstm" else keras.layers.GRU
    return cls(units, return_sequences=True)


class RunRecurrentTest(TestCase):
    """The dispatch equals the Keras layer, outputs and gradients.

    Under torch this compares the fused-kernel fast path with Keras's
    generic loop; elsewhere both sides are the generic layer.
    """

    @parameterized.named_parameters(("lstm", "lstm"), ("gru", "gru"))
    def test_matches_the_keras_layer(self, kind):
        rng = np.random.RandomState(0)
        inputs = rng.normal(size=(3, 6, 4)).astype("float32")
        layer = _layer(kind, 5)
        layer.build(inputs.shape)
        for variable in layer.weights:  # non-zero biases, both gate blocks
            variable.assign(rng.normal(size=variable.shape) * 0.5)
        self.assertAllClose(
            backend.run_recurrent(layer, inputs), layer(inputs), atol=1e-5
        )

    @parameterized.named_parameters(("lstm", "lstm"), ("gru", "gru"))
    def test_gradients_match(self, kind):
        rng = np.random.RandomState(1)
        inputs = rng.normal(size=(2, 5, 3)).astype("float32")
        targets = rng.normal(size=(2, 1)).astype("float32")
        gradients = {}
        for name, use_dispatch in (("dispatch", True), ("layer", False)):
            keras.utils.set_random_seed(3)
            sequence_input = keras.Input((5, 3))
            layer = _layer(kind, 4)
            hidden = (_Dispatch(layer) if use_dispatch else layer)(
                sequence_input
            )
            output = keras.layers.Dense(1)(
                keras.layers.GlobalAveragePooling1D()(hidden)
            )
            model = keras.Model(sequence_input, output)
            model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
            before = [np.array(w) for w in model.get_weights()]
            model.train_on_batch(inputs, targets)
            gradients[name] = [
                b - np.array(a) for a, b in zip(model.get_weights(), before)
            ]
        for dispatch, layer in zip(gradients["dispatch"], gradients["layer"]):
            self.assertAllClose(dispatch, layer, atol=1e-5)


class _Dispatch(keras.layers.Layer):
    def __init__(self, recurrent, **kwargs):
        super().__init__(**kwargs)
        self.recurrent = recurrent

    def build(self, input_shape):
        self.recurrent.build(input_shape)

    def call(self, inputs):
        return backend.run_recurrent(self.recurrent, inputs)

    def compute_output_shape(self, input_shape):
        return self.recurrent.compute_output_shape(input_shape)
