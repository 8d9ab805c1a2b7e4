import os

import keras
import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.layers.state import BatchHistoryMemory
from msakeras.testing import TestCase


@keras.saving.register_keras_serializable(package="msakeras_testing")
class _RememberingLayer(keras.layers.Layer):
    """Reads the memory, then stores the batch, inside the train step."""

    def __init__(self, capacity, **kwargs):
        super().__init__(**kwargs)
        self.capacity = capacity
        self.memory = BatchHistoryMemory(capacity=capacity, name="memory")

    def build(self, inputs_shape):
        self.memory.build(inputs_shape)
        self.built = True

    def call(self, inputs, training=None):
        history, history_weights = self.memory.read()
        if training:
            weights = ops.stack(
                [ops.ones_like(inputs[:, 0]), ops.zeros_like(inputs[:, 0])],
                axis=-1,
            )
            self.memory.write(inputs, weights)
            self.memory.increment()
        return inputs + 0.0 * ops.sum(history * history_weights[:, :1])

    def get_config(self):
        return {**super().get_config(), "capacity": self.capacity}


class BatchHistoryMemoryTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.vectors = rng.normal(size=(3, 2)).astype("float32")
        self.class_weights = np.array([[1, 0], [0, 1], [0, 0]], "float32")

    def test_layer_basics(self):
        layer = self.run_layer_test(
            BatchHistoryMemory,
            {"capacity": 4, "num_classes": 2},
            {"inputs": self.vectors},
            expected_output_shape=(3, 2),
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=3,
        )
        self.assertEqual(
            sorted(weight.path for weight in layer.weights),
            [
                "batch_history_memory/batch_counter",
                "batch_history_memory/class_weights",
                "batch_history_memory/vectors",
            ],
        )

    @parameterized.named_parameters(
        ("fewer_rows", 5), ("equal_rows", 3), ("more_rows", 2)
    )
    def test_write_read_capacity(self, capacity):
        memory = BatchHistoryMemory(capacity=capacity)
        memory.build((None, 2))
        memory.write(self.vectors, self.class_weights)
        vectors, class_weights = memory.read()
        expected_vectors = np.zeros((capacity, 2), "float32")
        expected_weights = np.zeros((capacity, 2), "float32")
        rows = min(capacity, 3)
        expected_vectors[:rows] = self.vectors[:rows]
        expected_weights[:rows] = self.class_weights[:rows]
        self.assertAllClose(vectors, expected_vectors)
        self.assertAllClose(class_weights, expected_weights)

    def test_write_replaces_and_reset_empties(self):
        memory = BatchHistoryMemory(capacity=4)
        memory.build((None, 2))
        memory.write(self.vectors, self.class_weights)
        memory.increment()
        memory.write(2.0 * self.vectors[:1], self.class_weights[1:2])
        memory.increment()
        vectors, class_weights = memory.read()
        expected = np.zeros((4, 2), "float32")
        expected[0] = 2.0 * self.vectors[0]
        self.assertAllClose(vectors, expected)
        self.assertAllClose(class_weights[0], self.class_weights[1])
        self.assertAllClose(class_weights[1:], np.zeros((3, 2), "float32"))
        self.assertEqual(int(ops.convert_to_numpy(memory.batch_counter)), 2)
        memory.reset()
        vectors, class_weights = memory.read()
        self.assertAllClose(vectors, np.zeros((4, 2), "float32"))
        self.assertAllClose(class_weights, np.zeros((4, 2), "float32"))
        self.assertEqual(int(ops.convert_to_numpy(memory.batch_counter)), 0)

    def test_wrong_widths_raise(self):
        memory = BatchHistoryMemory(capacity=4, num_classes=3)
        memory.build((None, 2))
        with self.assertRaisesRegex(ValueError, "width 3"):
            memory.write(self.vectors, self.class_weights)
        with self.assertRaisesRegex(ValueError, "width 2"):
            memory.write(self.vectors[:, :1], np.zeros((3, 3), "float32"))

    def test_updates_inside_fit_and_saves(self):
        inputs = keras.Input(shape=(2,))
        outputs = keras.layers.Dense(1, name="head")(
            _RememberingLayer(capacity=4, name="remember")(inputs)
        )
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        x = np.arange(12, dtype="float32").reshape(6, 2)
        model.fit(
            x,
            np.zeros((6, 1), "float32"),
            batch_size=3,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        memory = model.get_layer("remember").memory
        vectors, class_weights = memory.read()
        expected = np.zeros((4, 2), "float32")
        expected[:3] = x[3:]  # only the last batch is kept
        self.assertAllClose(vectors, expected)
        self.assertAllClose(class_weights[:, 0], np.array([1, 1, 1, 0.0]))
        self.assertEqual(int(ops.convert_to_numpy(memory.batch_counter)), 2)

        path = os.path.join(self.temp_dir, "memory.keras")
        model.save(path)
        revived = keras.models.load_model(path)
        self.assertAllClose(
            revived.get_layer("remember").memory.read()[0], expected
        )
