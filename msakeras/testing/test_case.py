"""The shared `TestCase` for msakeras tests (framework-free: keras only)."""

import os
import tempfile

import keras
import numpy as np
from absl.testing import parameterized
from keras import ops


def _to_numpy(structure):
    return keras.tree.map_structure(
        lambda value: np.asarray(ops.convert_to_numpy(value)), structure
    )


class TestCase(parameterized.TestCase):
    """Base class: resets Keras state, seeds, and offers contract checks.

    `run_layer_test`, `run_loss_test`, `run_serialization_test` and
    `run_model_test` check the contracts every public class must meet
    (registered name, config round trip, symbolic and eager calls, weight
    counts, a `fit` step, `.keras` round trip).
    """

    def setUp(self):
        super().setUp()
        keras.config.disable_traceback_filtering()
        keras.backend.clear_session()
        keras.utils.set_random_seed(1337)
        self._temp_dir = tempfile.TemporaryDirectory()
        self.temp_dir = self._temp_dir.name

    def tearDown(self):
        self._temp_dir.cleanup()
        super().tearDown()

    # --- numbers -----------------------------------------------------------
    def assertAllClose(self, actual, desired, atol=1e-6, rtol=1e-6, msg=None):
        # A nested list of numbers compared with one tensor is one array.
        if isinstance(desired, (list, tuple)) and not isinstance(
            actual, (list, tuple)
        ):
            desired = np.asarray(desired)
        actual, desired = _to_numpy(actual), _to_numpy(desired)
        keras.tree.map_structure(
            lambda a, d: np.testing.assert_allclose(
                a, d, atol=atol, rtol=rtol, err_msg=msg or ""
            ),
            actual,
            desired,
        )

    def assertAllFinite(self, value, msg=None):
        for array in keras.tree.flatten(_to_numpy(value)):
            self.assertTrue(np.all(np.isfinite(array)), msg or array)

    # --- contracts ---------------------------------------------------------
    def run_serialization_test(self, instance):
        """Config round trip, `msakeras>` registered name, same class back."""
        cls = type(instance)
        name = keras.saving.get_registered_name(cls)
        self.assertTrue(name.startswith("msakeras>"), name)
        config = instance.get_config()
        revived = cls.from_config(config)
        self.assertEqual(_comparable(revived.get_config()), _comparable(config))
        serialized = keras.saving.serialize_keras_object(instance)
        again = keras.saving.deserialize_keras_object(serialized)
        self.assertIs(type(again), cls)
        return revived

    def run_layer_test(
        self,
        cls,
        init_kwargs,
        input_data,
        expected_output_shape=None,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=None,
        expected_num_losses=0,
        run_training_check=True,
        call_kwargs=None,
    ):
        """Serialization, symbolic and eager call, weights, one `fit` step.

        `input_data` is a dict of call arguments (NumPy arrays).
        """
        call_kwargs = call_kwargs or {}
        layer = cls(**init_kwargs)
        self.run_serialization_test(layer)

        # Symbolic call.
        symbolic = keras.tree.map_structure(
            lambda value: keras.Input(
                batch_shape=value.shape, dtype=value.dtype
            ),
            input_data,
        )
        layer_symbolic = cls(**init_kwargs)
        symbolic_output = layer_symbolic(**symbolic, **call_kwargs)
        if expected_output_shape is not None:
            self._assert_shapes(symbolic_output, expected_output_shape)

        # Eager call, training and inference.
        output = layer(**input_data, **call_kwargs, training=True)
        if expected_output_shape is not None:
            self._assert_shapes(output, expected_output_shape)
        self.assertEqual(len(layer.losses), expected_num_losses)
        if expected_num_trainable_weights is not None:
            self.assertLen(
                layer.trainable_weights, expected_num_trainable_weights
            )
        if expected_num_non_trainable_weights is not None:
            self.assertLen(
                layer.non_trainable_weights, expected_num_non_trainable_weights
            )
        inference_a = layer(**input_data, **call_kwargs, training=False)
        inference_b = layer(**input_data, **call_kwargs, training=False)
        self.assertAllClose(inference_a, inference_b, atol=1e-6)

        # Config round trip keeps outputs when weights are copied.
        revived = cls.from_config(layer.get_config())
        revived(**input_data, **call_kwargs)
        revived.set_weights(layer.get_weights())
        self.assertAllClose(
            revived(**input_data, **call_kwargs, training=False),
            inference_a,
            atol=1e-5,
        )

        if run_training_check and layer.trainable_weights:
            self._run_fit_step(cls, init_kwargs, input_data, call_kwargs)
        return layer

    def _assert_shapes(self, output, expected):
        """`expected`: a shape tuple, or a dict/list of them like `output`."""
        if isinstance(expected, dict):
            self.assertEqual(set(output), set(expected))
            for key in expected:
                self._assert_shapes(output[key], expected[key])
        elif isinstance(expected, list):
            self.assertLen(output, len(expected))
            for tensor, shape in zip(output, expected):
                self._assert_shapes(tensor, shape)
        else:
            self.assertEqual(tuple(output.shape), tuple(expected))

    def _run_fit_step(self, cls, init_kwargs, input_data, call_kwargs):
        inputs = keras.tree.map_structure(
            lambda value: keras.Input(shape=value.shape[1:], dtype=value.dtype),
            input_data,
        )
        output = cls(**init_kwargs)(**inputs, **call_kwargs)
        # Every output joins the loss: some outputs may depend only on
        # frozen weights (MMILB's entropy projection).
        means = [_MeanToScalar()(t) for t in keras.tree.flatten(output)]
        pooled = keras.layers.Add()(means) if len(means) > 1 else means[0]
        model = keras.Model(inputs, pooled)
        model.compile(optimizer="sgd", loss="mse")
        batch = keras.tree.flatten(input_data)[0].shape[0]
        history = model.fit(
            input_data,
            np.zeros((batch, 1), "float32"),
            epochs=1,
            batch_size=batch,
            verbose=0,
        )
        self.assertTrue(np.isfinite(history.history["loss"][0]))

    def run_loss_test(
        self, loss_cls, loss_fn, init_kwargs, y_true, y_pred, fn_kwargs=None
    ):
        """The class equals the mean of the per-sample function; weights."""
        fn_kwargs = fn_kwargs or {}
        loss = loss_cls(**init_kwargs)
        self.run_serialization_test(loss)
        per_sample = _to_numpy(loss_fn(y_true, y_pred, **fn_kwargs))
        self.assertEqual(per_sample.shape, (y_true.shape[0],))
        self.assertAllClose(
            loss(y_true, y_pred), np.mean(per_sample), atol=1e-5, rtol=1e-5
        )
        weights = np.linspace(0.0, 1.0, y_true.shape[0]).astype("float32")
        weighted = loss(y_true, y_pred, sample_weight=weights)
        self.assertAllClose(
            weighted, np.mean(per_sample * weights), atol=1e-5, rtol=1e-5
        )
        summed = loss_cls(**{**init_kwargs, "reduction": "sum"})
        self.assertAllClose(
            summed(y_true, y_pred), np.sum(per_sample), atol=1e-4, rtol=1e-5
        )
        return loss

    def run_model_test(self, model, x, y, compile_kwargs=None, atol=1e-5):
        """`compile()`, one `fit`, `predict` structure, `.keras` round trip."""
        model.compile(**(compile_kwargs or {}))
        history = model.fit(x, y, epochs=1, batch_size=len(y), verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][0]))
        predictions = model.predict(x, batch_size=len(y), verbose=0)
        self.assertIn("sentiment", predictions)
        self.assertEqual(predictions["sentiment"].shape, (len(y), 1))
        path = os.path.join(self.temp_dir, "model.keras")
        model.save(path)
        revived = keras.models.load_model(path)
        self.assertIs(type(revived), type(model))
        revived_predictions = revived.predict(x, batch_size=len(y), verbose=0)
        self.assertAllClose(
            revived_predictions["sentiment"],
            predictions["sentiment"],
            atol=atol,
            rtol=atol,
        )
        return revived


@keras.saving.register_keras_serializable(package="msakeras_testing")
class _MeanToScalar(keras.layers.Layer):
    def call(self, inputs):
        inputs = ops.cast(inputs, "float32")
        flat = ops.reshape(inputs, (ops.shape(inputs)[0], -1))
        return ops.mean(flat, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


def _comparable(config):
    """Config with nested objects flattened to plain comparable values."""
    return keras.tree.map_structure(
        lambda value: (
            value.tolist() if isinstance(value, np.ndarray) else value
        ),
        config,
    )
