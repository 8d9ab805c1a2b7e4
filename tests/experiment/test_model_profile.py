import keras
import numpy as np

import msakeras
from msakeras.backend import device_info
from msakeras.experiment import model_profile
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_model


class ModelProfileTest(TestCase):
    def test_parameter_table_counts_blocks(self):
        model = tiny_model(audio_dim=3, vision_dim=4, vocabulary_size=50)
        table = model_profile.parameter_table(model)
        self.assertEqual(table.loc["embedding", "trainable"], 50 * 4)
        self.assertEqual(table.loc["sentiment", "trainable"], (4 + 3 + 4) + 1)
        self.assertEqual(table.loc["total", "trainable"], 200 + 12)
        self.assertEqual(table.loc["total", "frozen"], 0)
        model.get_layer("embedding").trainable = False
        table = model_profile.parameter_table(model)
        self.assertEqual(table.loc["embedding", "frozen"], 200)
        self.assertEqual(table.loc["total", "trainable"], 12)

    def test_forward_flops_of_a_dense_layer(self):
        inputs = {"x": keras.Input((8,), name="x")}
        model = keras.Model(inputs, keras.layers.Dense(5)(inputs["x"]))
        flops = device_info.forward_flops(
            model, {"x": np.ones((1, 8), "float32")}
        )
        if keras.config.backend() in ("torch", "tensorflow", "jax"):
            # 2 * 8 * 5 multiply-adds; TF also counts the bias add.
            self.assertGreaterEqual(flops, 80)
            self.assertLessEqual(flops, 80 + 5)

    def test_profile_numbers_on_a_tiny_model(self):
        splits, _ = msakeras.data.generate_synthetic_splits(
            "mosi", num_train=8, num_valid=1, num_test=1, text_length=8,
            audio_steps=6, vision_steps=5, audio_dim=3, vision_dim=4,
            vocabulary_size=50,
        )  # fmt: skip
        model = tiny_model()
        numbers = model_profile.profile_model(
            model, splits["train"], warmup=1, steps=2
        )
        self.assertEqual(numbers["batch_size"], 8)
        self.assertGreater(numbers["train_samples_per_second"], 0)
        self.assertGreater(numbers["inference_samples_per_second"], 0)
        self.assertGreaterEqual(numbers["flops_per_sample"], 2 * 11)
        self.assertGreater(numbers["peak_memory_bytes"], 0)
        self.assertEqual(numbers["backend"], keras.config.backend())


class NamedModelsTest(TestCase):
    """Every recipe model name builds and runs (`python -m msakeras.profile
    mcer` once answered "unknown model")."""

    def test_every_model_name_builds_and_predicts(self):
        from msakeras.testing import tiny_text_encoder

        self.assertEqual(
            sorted(model_profile.MODEL_CLASSES),
            ["dashfusion", "hycon", "mcer", "mmim", "self_mi"],
        )
        splits, _ = msakeras.data.generate_synthetic_splits(
            "mosi", num_train=4, num_valid=1, num_test=1, text_length=8,
            audio_steps=6, vision_steps=5, audio_dim=3, vision_dim=4,
            vocabulary_size=50,
        )  # fmt: skip
        for name in model_profile.MODEL_CLASSES:
            with self.subTest(model=name):
                model = model_profile.build_named_model(
                    name,
                    tiny_text_encoder(),
                    audio_dim=3,
                    vision_dim=4,
                    num_train_samples=4,
                )
                keys = [tensor.name for tensor in model.inputs]
                outputs = model.predict(
                    {key: splits["train"][key] for key in keys}, verbose=0
                )
                self.assertEqual(outputs["sentiment"].shape, (4, 1))
                self.assertAllFinite(outputs["sentiment"])
