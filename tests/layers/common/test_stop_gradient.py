import keras
import numpy as np

from msakeras.layers.common import stop_gradient
from msakeras.testing import test_case


class StopGradientTest(test_case.TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            stop_gradient.StopGradient,
            init_kwargs={},
            input_data={"inputs": np.ones((2, 3), "float32")},
            expected_output_shape=(2, 3),
            expected_num_trainable_weights=0,
        )

    def test_forward_is_identity(self):
        values = np.random.RandomState(0).normal(size=(4, 5)).astype("float32")
        self.assertAllClose(stop_gradient.StopGradient()(values), values)

    def test_no_gradient_reaches_the_layers_before_it(self):
        inputs = keras.Input((3,))
        kept = keras.layers.Dense(1, name="kept")(inputs)
        stopped = stop_gradient.StopGradient()(
            keras.layers.Dense(1, name="stopped")(inputs)
        )
        model = keras.Model(inputs, keras.layers.Add()([kept, stopped]))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = {
            layer: [w.copy() for w in model.get_layer(layer).get_weights()]
            for layer in ("kept", "stopped")
        }
        x = np.random.RandomState(1).normal(size=(8, 3)).astype("float32")
        model.fit(x, np.full((8, 1), 5.0, "float32"), epochs=1, verbose=0)
        for old, new in zip(
            before["stopped"], model.get_layer("stopped").get_weights()
        ):
            np.testing.assert_array_equal(old, new)
        moved = [
            np.max(np.abs(old - new))
            for old, new in zip(
                before["kept"], model.get_layer("kept").get_weights()
            )
        ]
        self.assertGreater(max(moved), 1e-3)
