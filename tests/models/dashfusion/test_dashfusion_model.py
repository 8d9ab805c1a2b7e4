import functools

import keras
import numpy as np
import pytest
from absl.testing import parameterized

from msakeras import models
from msakeras import testing
from msakeras.data import contrastive_pair_sampler
from msakeras.models.dashfusion import dashfusion_hyperparameters
from msakeras.models.dashfusion import dashfusion_layers
from msakeras.testing import test_case
from msakeras.testing import tiny_models

tiny_text_encoder = functools.partial(
    testing.tiny_text_encoder, max_sequence_length=8, name=None
)


def tiny_model(**kwargs):
    config = dict(audio_dim=5, vision_dim=4, **tiny_models.DASHFUSION_SIZES)
    config.update(kwargs)
    return models.DashFusionModel(text_encoder=tiny_text_encoder(), **config)


def tiny_data(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    text_mask = np.ones((batch, 6), "int32")
    text_mask[1, 4:] = 0
    audio_mask = np.ones((batch, 7), "int32")
    audio_mask[0, 3:] = 0
    vision_mask = np.ones((batch, 6), "int32")
    vision_mask[2, 2:] = 0
    x = {
        "text_token_ids": rng.integers(1, 100, (batch, 6)).astype("int32")
        * text_mask,
        "text_padding_mask": text_mask,
        "audio": rng.normal(size=(batch, 7, 5)).astype("float32")
        * audio_mask[..., None],
        "audio_mask": audio_mask,
        "vision": rng.normal(size=(batch, 6, 4)).astype("float32")
        * vision_mask[..., None],
        "vision_mask": vision_mask,
    }
    y = np.array(
        [1.2, -0.8, 2.6, -2.2, 0.4, 1.0, -1.6, 0.0][:batch], "float32"
    ).reshape(-1, 1)
    return x, y


def numpy_official_contrastive(embeddings, temperature=0.5):
    """`docs/models/dashfusion.md` for one anchor: 28 rows, 22 positive, 16
    negative."""
    stacked = np.concatenate(
        [embeddings[name] for name in ("text", "vision", "audio", "aligned")]
    )
    unit = stacked / np.linalg.norm(stacked, axis=1, keepdims=True)
    logits = unit @ unit.T / temperature
    positives = [(k, 7 + k) for k in range(7)] + [(k, 14 + k) for k in range(7)]
    for base in (0, 7, 14, 21):
        positives += [(base, base + 1), (base, base + 2)]
    negatives = {
        base: [base + j for j in range(3, 7)] for base in (0, 7, 14, 21)
    }
    losses = []
    for a, p in positives:
        denominator = np.exp(logits[a, p]) + sum(
            np.exp(logits[a, n]) for n in negatives.get(a, [])
        )
        losses.append(-np.log(np.exp(logits[a, p]) / denominator))
    return np.mean(losses), len(positives)


class DashFusionModelTest(test_case.TestCase):
    def test_model_basics(self):
        x, y = tiny_data()
        # Eager fit/predict and the `.keras` round trip, with the default
        # two-layer HBF (the traced path: `test_compiled_graph_fit`).
        revived = self.run_model_test(
            tiny_model(num_fusion_layers=2),
            x,
            y,
            compile_kwargs={"run_eagerly": True},
        )
        self.assertEqual(revived.partners_per_role, 0)
        self.assertEqual(revived.get_config()["num_fusion_layers"], 2)
        outputs = revived(x, training=False)
        self.assertEqual(tuple(outputs["fused_embedding"].shape), (4, 32))
        self.assertEqual(tuple(outputs["text_embedding"].shape), (4, 8))
        self.assertEqual(tuple(outputs["aligned_embedding"].shape), (4, 8))

    @pytest.mark.large
    def test_compiled_graph_fit(self):
        # Traced train/predict functions (about 100 s of tracing on TF).
        x, y = tiny_data()
        revived = self.run_model_test(tiny_model(num_fusion_layers=2), x, y)
        self.assertEqual(revived.get_config()["num_fusion_layers"], 2)

    def test_short_fit_lowers_loss_and_tracks_terms(self):
        x, y = tiny_data()
        model = tiny_model(encoder_dropout=0.0, position_dropout=0.0)
        # Eager steps: the graph path is covered by `test_model_basics`.
        model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
        history = model.fit(x, y, epochs=8, batch_size=4, verbose=0)
        losses = history.history["loss"]
        self.assertLess(losses[-1], losses[0])
        for name in (
            "contrastive_loss",
            "semantic_alignment_loss",
            "supervised_contrastive_loss",
            "mae",
        ):
            self.assertIn(name, history.history)
            self.assertTrue(np.all(np.isfinite(history.history[name])))

    # Encoder dropout 0 sends the encoders' attention through the fused
    # `ops.dot_product_attention` kernel (the recipe's embedded default);
    # dropout > 0 through the explicit masked softmax.
    @parameterized.named_parameters(
        ("explicit_attention", 0.5), ("fused_attention", 0.0)
    )
    def test_padded_steps_never_change_outputs(self, encoder_dropout):
        x, _ = tiny_data()
        model = tiny_model(encoder_dropout=encoder_dropout)
        noisy = {key: value.copy() for key, value in x.items()}
        for key in ("audio", "vision"):
            noisy[key][x[f"{key}_mask"] == 0] += 100.0
        noisy["text_token_ids"][x["text_padding_mask"] == 0] = 7
        # Direct inference calls (no traced predict function: fast on TF).
        clean = model(x, training=False)
        perturbed = model(noisy, training=False)
        for key in clean:
            self.assertAllClose(clean[key], perturbed[key], atol=1e-4)

    def test_attention_masks_are_off_by_default(self):
        # Official layers.py: no key masks in the temporal alignment or
        # the HBF; `mask_attention=True` is the option.
        x, _ = tiny_data()
        official = tiny_model()
        self.assertFalse(official.get_config()["mask_attention"])
        masked = tiny_model(mask_attention=True)
        masked.set_weights(official.get_weights())
        a = keras.ops.convert_to_numpy(official(x, training=False)["sentiment"])
        b = keras.ops.convert_to_numpy(masked(x, training=False)["sentiment"])
        # Rows 0-2 hold padding (audio, text, vision): the settings differ
        # there; row 3 has none: they agree.
        for row in range(3):
            self.assertGreater(np.abs(a[row] - b[row]).max(), 1e-4)
        self.assertAllClose(a[3], b[3], atol=1e-5)
        full = {key: value.copy() for key, value in x.items()}
        for key in ("text_padding_mask", "audio_mask", "vision_mask"):
            full[key][:] = 1
        a = keras.ops.convert_to_numpy(
            official(full, training=False)["sentiment"]
        )
        b = keras.ops.convert_to_numpy(
            masked(full, training=False)["sentiment"]
        )
        self.assertAllClose(a, b, atol=1e-5)

    @parameterized.named_parameters(
        ("no_temporal_alignment", {"temporal_alignment": False}),
        ("no_semantic_alignment", {"semantic_alignment": False}),
        (
            "no_contrastive_term",
            {"supervised_contrastive": False, "semantic_alignment": False},
        ),
        ("concatenation", {"fusion": "concat"}),
        ("official_unmasked", {"mask_attention": False}),
    )
    def test_ablations_fit(self, kwargs):
        x, y = tiny_data()
        model = tiny_model(**kwargs)
        model.compile(run_eagerly=True)
        history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][0]))
        config = model.get_config()
        for key, value in kwargs.items():
            self.assertEqual(config[key], value)

    def test_official_contrastive_structure_matches_numpy(self):
        rng = np.random.default_rng(3)
        batch = 2
        embeddings = {
            name: rng.normal(size=(7 * batch, 6)).astype("float32")
            for name in ("text", "vision", "audio", "aligned")
        }
        terms = dashfusion_layers.dashfusion_contrastive_loss(
            embeddings,
            labels=np.zeros((batch, 1), "float32"),
            partners_per_role=2,
        )
        expected = []
        for anchor in range(batch):
            rows = [anchor + role * batch for role in range(7)]
            value, count = numpy_official_contrastive(
                {name: array[rows] for name, array in embeddings.items()}
            )
            self.assertEqual(count, 22)
            expected.append(value)
        self.assertAllClose(
            terms["contrastive"], np.mean(expected), atol=1e-5, rtol=1e-5
        )

    def test_fit_on_sampler_batches(self):
        x, y = tiny_data(batch=8)
        arrays = {**x, "index": np.arange(8, dtype="int32")}

        class Dataset(keras.utils.PyDataset):
            def __len__(self):
                return 2

            def __getitem__(self, index):
                rows = slice(4 * index, 4 * index + 4)
                return (
                    {key: value[rows] for key, value in arrays.items()},
                    y[rows],
                )

            def read_samples(self, ids, keys):
                return {key: arrays[key][ids] for key in keys}

        sampler = contrastive_pair_sampler.ContrastivePairSampler(
            Dataset(),
            labels=y[:, 0],
            partners_per_role=2,
            candidates_per_list=3,
        )
        model = tiny_model(partners_per_role=2)
        model.compile(run_eagerly=True)
        features = x  # predict in index order for the refresh
        callback = contrastive_pair_sampler.SamplerRefreshCallback(
            sampler, features
        )
        history = model.fit(sampler, epochs=2, verbose=0, callbacks=[callback])
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        self.assertGreater(history.history["contrastive_loss"][0], 0.0)
        evaluation = model.evaluate(x, y, verbose=0, return_dict=True)
        self.assertTrue(np.isfinite(evaluation["loss"]))

    def test_official_optimizer_and_schedule(self):
        model = tiny_model()
        optimizer = dashfusion_hyperparameters.make_dashfusion_optimizer(
            model, steps_per_epoch=10, dataset="mosi", epochs=20
        )
        schedule = keras.saving.deserialize_keras_object(
            optimizer.get_config()["learning_rate"]
        )
        self.assertIsInstance(
            schedule, dashfusion_hyperparameters.LinearWarmupLinearDecay
        )
        self.assertEqual(optimizer.get_config()["weight_decay"], 1e-3)
        values = [float(schedule(step)) for step in (0, 50, 100, 150, 200)]
        self.assertAllClose(
            values, [0.0, 2.5e-5, 5e-5, 2.5e-5, 0.0], atol=1e-12
        )
        self.assertEqual(
            set(dashfusion_hyperparameters.DASHFUSION_HYPERPARAMETERS),
            {"mosi", "mosei", "sims"},
        )
        mosei = dashfusion_hyperparameters.DASHFUSION_HYPERPARAMETERS["mosei"]
        self.assertEqual(
            (
                mosei["num_encoder_layers"],
                mosei["batch_size"],
                mosei["learning_rate"],
            ),
            (4, 8, 2e-5),
        )
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(schedule)
        )
        self.assertEqual(revived.get_config(), schedule.get_config())
