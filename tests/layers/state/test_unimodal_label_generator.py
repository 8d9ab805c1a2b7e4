import os

import keras
import numpy as np
from absl.testing import parameterized

from msakeras.layers.state import unimodal_label_generator
from msakeras.testing import test_case

UnimodalLabelGenerator = unimodal_label_generator.UnimodalLabelGenerator
KEYS = ("fusion", "text", "audio", "vision")
DIMS = {"fusion": 4, "text": 3, "audio": 2, "vision": 3}


class MMSASelfMMLabels:
    """MMSA 2.2.1's `trains/multiTask/SELF_MM.py` label state, in NumPy.

    A transcription of the trainer's `init_labels` (every training sample's
    four labels set to `y_m` before training), `update_labels`,
    `update_features` and `update_centers`, driven as its `do_train` loop
    does: per batch, the loss reads `label_map` first; then, if
    `epochs > 1`, `update_labels(..., cur_epoches=epochs)`; then
    `update_features`; then `update_centers` over the *whole* tables (in
    epoch 1 these include the zero features of samples not seen yet).
    """

    def __init__(self, y_all, label_range=3.0, exclude_zero=True):
        self.H = label_range
        self.exclude_zero = exclude_zero
        n = len(y_all)
        self.label_map = {key: np.array(y_all, np.float64) for key in KEYS}
        self.feature_map = {key: np.zeros((n, DIMS[key])) for key in KEYS}
        self.center_map = {
            key: {"pos": np.zeros(DIMS[key]), "neg": np.zeros(DIMS[key])}
            for key in KEYS
        }

    def update_features(self, features, indexes):
        for key in KEYS:
            self.feature_map[key][indexes] = features[key]

    def update_centers(self):
        for key in KEYS:
            labels = self.label_map[key]
            neg = labels < 0
            pos = labels > 0 if self.exclude_zero else labels >= 0
            self.center_map[key]["pos"] = self.feature_map[key][pos].mean(0)
            self.center_map[key]["neg"] = self.feature_map[key][neg].mean(0)

    def update_labels(self, features, cur_epoches, indexes):
        minimum = 1e-8

        def delta(key):
            d_p = np.linalg.norm(
                features[key] - self.center_map[key]["pos"], axis=-1
            )
            d_n = np.linalg.norm(
                features[key] - self.center_map[key]["neg"], axis=-1
            )
            return (d_n - d_p) / (d_p + minimum)

        delta_f = delta("fusion")
        fusion = self.label_map["fusion"][indexes]
        for key in KEYS[1:]:
            delta_s = delta(key)
            alpha = delta_s / (delta_f + minimum)
            new = 0.5 * alpha * fusion + 0.5 * (fusion + delta_s - delta_f)
            new = np.clip(new, -self.H, self.H)
            n = cur_epoches
            self.label_map[key][indexes] = (n - 1) / (n + 1) * self.label_map[
                key
            ][indexes] + 2 / (n + 1) * new

    def train_batch(self, epoch, indexes, features):
        """One batch of `do_train` (1-based `epoch`); returns the labels
        the batch's loss used."""
        read = {key: self.label_map[key][indexes].copy() for key in KEYS[1:]}
        if epoch > 1:
            self.update_labels(features, epoch, indexes)
        self.update_features(features, indexes)
        self.update_centers()
        return read


class GeneratedLabelsReference:
    """The layer's rule for caller-generated labels (ULG_MI, MCER's CLGM),
    which MMSA has no code for: clamp, then Self-MM's epoch momentum from
    the sample's second visit, features and centres as Self-MM."""

    def __init__(self, num_samples, label_range=3.0, exclude_zero=True):
        self.label_range = label_range
        self.exclude_zero = exclude_zero
        self.labels = {key: np.zeros(num_samples) for key in KEYS}
        self.features = {
            key: np.zeros((num_samples, DIMS[key])) for key in KEYS
        }
        self.centres = {key: np.zeros((2, DIMS[key])) for key in KEYS}
        self.visits = np.zeros(num_samples, int)

    def delta(self, key, features):
        d_p = np.linalg.norm(features - self.centres[key][0], axis=-1)
        d_n = np.linalg.norm(features - self.centres[key][1], axis=-1)
        return (d_n - d_p) / (d_p + 1e-8)

    def update(self, index, y_m, features, generated=None):
        seen = self.visits[index] > 0
        old = {
            key: np.where(seen, self.labels[key][index], y_m)
            for key in KEYS[1:]
        }
        n = self.visits[index] + 1.0
        delta_m = self.delta("fusion", features["fusion"])
        for key in KEYS[1:]:
            if generated is None:
                delta_s = self.delta(key, features[key])
                candidate = 0.5 * delta_s / (delta_m + 1e-8) * y_m + 0.5 * (
                    y_m + delta_s - delta_m
                )
            else:
                candidate = generated[key]
            candidate = np.clip(candidate, -self.label_range, self.label_range)
            smoothed = (n - 1) / (n + 1) * old[key] + 2 / (n + 1) * candidate
            self.labels[key][index] = np.where(n > 1, smoothed, old[key])
        self.labels["fusion"][index] = y_m
        for key in KEYS:
            self.features[key][index] = features[key]
        self.visits[index] += 1
        member = self.visits > 0
        for key in KEYS:
            labels = self.labels[key]
            positive = (labels > 0) if self.exclude_zero else (labels >= 0)
            for row, mask in enumerate(
                (positive & member, (labels < 0) & member)
            ):
                if mask.any():
                    self.centres[key][row] = self.features[key][mask].mean(0)
                else:
                    self.centres[key][row] = 0.0
        return old


def random_features(generator, batch):
    return {
        key: generator.normal(size=(batch, DIMS[key])).astype("float32")
        for key in KEYS
    }


def table(variable):
    return keras.ops.convert_to_numpy(variable)


class UnimodalLabelGeneratorTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.num_samples = 6
        self.generator = np.random.default_rng(0)

    def make_layer(self, **kwargs):
        layer = UnimodalLabelGenerator(self.num_samples, **kwargs)
        layer.build({key: (None, DIMS[key]) for key in KEYS}, (None,))
        return layer

    def test_layer_basics(self):
        features = random_features(self.generator, 3)
        self.run_layer_test(
            UnimodalLabelGenerator,
            init_kwargs={"num_train_samples": 6, "label_range": 1.0},
            input_data={
                "features": features,
                "index": np.arange(3, dtype="int32"),
            },
            expected_output_shape={key: (3, DIMS[key]) for key in KEYS},
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=13,
            run_training_check=False,
        )

    def test_invalid_arguments(self):
        with self.assertRaisesRegex(ValueError, "num_train_samples"):
            UnimodalLabelGenerator(0)
        with self.assertRaisesRegex(ValueError, "fusion_key"):
            UnimodalLabelGenerator(4, modalities=("fusion", "text"))

    @parameterized.named_parameters(
        ("exclude_zero", True, 3.0),
        ("include_zero", False, 3.0),
        ("clamped", True, 0.35),
    )
    def test_updates_match_mmsa_self_mm(self, exclude_zero, label_range):
        layer = self.make_layer(
            exclude_zero=exclude_zero, label_range=label_range
        )
        # Labels with an exact zero (exclude_zero matters) and both signs.
        y_all = np.array([1.2, -0.8, 0.0, 2.4, -1.6, 0.4], "float32")
        reference = MMSASelfMMLabels(y_all, label_range, exclude_zero)
        for epoch in range(1, 5):  # momentum with n = 1, 2, 3, 4
            order = self.generator.permutation(self.num_samples)
            for batch in (order[:3], order[3:]):
                index = batch.astype("int32")
                features = random_features(self.generator, len(index))
                read = layer.update(index, y_all[index], features)
                expected = reference.train_batch(
                    epoch,
                    index,
                    {k: v.astype("float64") for k, v in features.items()},
                )
                for key in KEYS[1:]:
                    self.assertAllClose(
                        read[key], expected[key], atol=1e-4, rtol=1e-4
                    )
            # After each epoch every sample has been seen, so the centres
            # agree too (in epoch 1, MMSA's include unseen zero features:
            # the documented DIFFERENCE, never used for a label).
            for key in KEYS:
                self.assertAllClose(
                    table(layer.label_tables[key]),
                    reference.label_map[key],
                    atol=1e-4,
                    rtol=1e-4,
                )
                centres = reference.center_map[key]
                self.assertAllClose(
                    table(layer.centres[key]),
                    np.stack([centres["pos"], centres["neg"]]),
                    atol=1e-5,
                    rtol=1e-5,
                )
        self.assertAllClose(table(layer.visits), np.full(6, 4))
        moved = table(layer.label_tables["text"])
        self.assertGreater(np.abs(moved - y_all).max(), 1e-3)
        self.assertLessEqual(
            np.abs(moved).max(), max(label_range, np.abs(y_all).max()) + 1e-6
        )

    def test_generated_labels_rule(self):
        layer = self.make_layer(label_range=1.0)
        reference = GeneratedLabelsReference(self.num_samples, 1.0)
        y_all = np.linspace(-1, 1, 6).astype("float32")
        index = np.array([4, 0, 2, 5, 1, 3], "int32")  # shuffled ids
        for epoch in range(3):
            features = random_features(self.generator, 6)
            generated = {
                key: self.generator.uniform(-2, 2, 6).astype("float32")
                for key in KEYS[1:]
            }
            read = layer.update(
                index, y_all[index], features, generated_labels=generated
            )
            expected = reference.update(
                index, y_all[index], features, generated
            )
            for key in KEYS[1:]:
                self.assertAllClose(read[key], expected[key], atol=1e-5)
        for key in KEYS:
            self.assertAllClose(
                table(layer.label_tables[key]), reference.labels[key], atol=1e-5
            )
            self.assertAllClose(
                table(layer.feature_tables[key]),
                reference.features[key],
                atol=1e-6,
            )

    def test_first_visit_reads_multimodal_label_and_keeps_it(self):
        layer = self.make_layer()
        index = np.array([3, 1], "int32")
        y_m = np.array([[0.5], [-2.0]], "float32")
        read = layer.update(index, y_m, random_features(self.generator, 2))
        for key in KEYS[1:]:
            self.assertAllClose(read[key], y_m[:, 0])
            self.assertAllClose(
                table(layer.label_tables[key])[[3, 1]], y_m[:, 0]
            )
        self.assertAllClose(table(layer.visits), [0, 1, 0, 1, 0, 0])

    def test_call_never_updates(self):
        layer = self.make_layer()
        features = random_features(self.generator, 3)
        index = np.arange(3, dtype="int32")
        before = [table(weight) for weight in layer.weights]
        for training in (True, False):
            outputs = layer(features, index, training=training)
            self.assertAllClose(outputs, features)
        for weight, value in zip(layer.weights, before):
            self.assertAllClose(table(weight), value)

    def test_tables_survive_keras_round_trip(self):
        inputs = {key: keras.Input((DIMS[key],), name=key) for key in KEYS}
        index = keras.Input((), dtype="int32", name="index")
        layer = UnimodalLabelGenerator(self.num_samples, name="ulgm")
        outputs = layer(inputs, index)
        model = keras.Model({**inputs, "index": index}, outputs)
        for _ in range(2):
            ids = np.array([5, 2, 0, 1, 4, 3], "int32")
            layer.update(
                ids, np.linspace(-2, 2, 6), random_features(self.generator, 6)
            )
        path = os.path.join(self.temp_dir, "ulgm.keras")
        model.save(path)
        revived = keras.models.load_model(path).get_layer("ulgm")
        for weight, loaded in zip(layer.weights, revived.weights):
            self.assertEqual(weight.path, loaded.path)
            self.assertAllClose(table(loaded), table(weight))
