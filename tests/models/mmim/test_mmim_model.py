import functools

import keras
import numpy as np
from absl.testing import parameterized

import msakeras
from msakeras import testing
from msakeras.models.mmim import mmim_model
from msakeras.testing import TestCase
from tests.models.mmim_critic_weights import entropy_projections
from tests.models.mmim_critic_weights import is_likelihood_critic
from tests.models.mmim_critic_weights import weights_by_path

tiny_text_encoder = functools.partial(
    testing.tiny_text_encoder, hidden_dim=16, exact_gelu=True
)


def tiny_batch(num_samples=12, seed=0):
    rng = np.random.RandomState(seed)
    audio_lengths = rng.randint(1, 8, (num_samples, 1))
    vision_lengths = rng.randint(1, 7, (num_samples, 1))
    x = {
        "text_token_ids": rng.randint(3, 100, (num_samples, 6)).astype("int32"),
        "text_padding_mask": np.ones((num_samples, 6), "int32"),
        "audio": rng.normal(size=(num_samples, 7, 5)).astype("float32"),
        "audio_mask": (np.arange(7)[None] < audio_lengths).astype("int32"),
        "vision": rng.normal(size=(num_samples, 6, 4)).astype("float32"),
        "vision_mask": (np.arange(6)[None] < vision_lengths).astype("int32"),
    }
    x["audio"] *= x["audio_mask"][..., None]
    x["vision"] *= x["vision_mask"][..., None]
    labels = np.round(rng.uniform(-3, 3, (num_samples, 1))).astype("float32")
    labels[0] = 0.0  # a neutral sample joins neither entropy class
    return x, labels


def tiny_model(**kwargs):
    settings = dict(
        audio_dim=5,
        vision_dim=4,
        audio_hidden_dim=8,
        vision_hidden_dim=8,
        fusion_dim=16,
        memory_capacity=16,
    )
    settings.update(kwargs)
    return msakeras.models.MMIMModel(tiny_text_encoder(), **settings)


def numpy_entropy(vectors, labels, epsilon=1e-6):
    """¼ Σ_c logdet(Σ_c + εI): biased covariance per label sign class."""
    total = 0.0
    for members in (labels > 0, labels < 0):
        chosen = vectors[members]
        centred = chosen - chosen.mean(axis=0)
        covariance = centred.T @ centred / len(chosen)
        _, logdet = np.linalg.slogdet(
            covariance + epsilon * np.eye(vectors.shape[1])
        )
        total += 0.25 * logdet
    return total


class MMIMModelTest(TestCase):
    def test_model_basics(self):
        x, y = tiny_batch()
        model = self.run_model_test(tiny_model(), x, y)
        self.assertIsInstance(model, msakeras.models.MMIMModel)
        self.assertEqual(model.get_config()["audio_dim"], 5)

    def test_outputs(self):
        x, _ = tiny_batch(4)
        outputs = tiny_model()(x)
        self.assertEqual(tuple(outputs["sentiment"].shape), (4, 1))
        self.assertEqual(tuple(outputs["fused_embedding"].shape), (4, 16))
        self.assertEqual(tuple(outputs["cpc_text"].shape), (4, 16))
        self.assertEqual(tuple(outputs["lld_text_vision"].shape), (4,))
        self.assertEqual(
            tuple(outputs["entropy_projection_audio"].shape), (4, 2)
        )

    @parameterized.named_parameters(("all", "all"), ("critics", "critics"))
    def test_stage_one_moves_only_the_likelihood_critics(self, gradients):
        x, y = tiny_batch()
        model = tiny_model(stage_one_gradients=gradients)
        model.compile()
        stage = model.stage_one()
        before = weights_by_path(model)
        stage.fit(x, y, batch_size=6, epochs=1, verbose=0)
        after = weights_by_path(model)
        for path, value in before.items():
            moved = not np.allclose(value, after[path])
            self.assertEqual(moved, is_likelihood_critic(path), path)

    def test_stage_two_keeps_the_critics_and_trains_the_rest(self):
        x, y = tiny_batch()
        model = tiny_model(two_stage=False)
        model.compile()
        before = weights_by_path(model)
        model.fit(x, y, batch_size=6, epochs=1, verbose=0)
        after = weights_by_path(model)
        for path, value in before.items():
            moved = not np.allclose(value, after[path])
            if "mmilb_" in path:
                self.assertFalse(moved, path)
            # The pooler is frozen; attention key biases get no gradient
            # (softmax is invariant to a shift shared by every key).
            elif "pooled_dense" not in path and "key/bias" not in path:
                self.assertTrue(moved, path)

    def test_text_encoder_has_its_own_learning_rate(self):
        x, y = tiny_batch()
        model = tiny_model(two_stage=False)
        main, stage_one = model.make_optimizers(text_learning_rate=0.0)
        model.compile(optimizer=main, stage_one_optimizer=stage_one)
        text_paths = {v.path for v in model.text_encoder.trainable_variables}
        before = weights_by_path(model)
        model.fit(x, y, batch_size=6, epochs=1, verbose=0)
        after = weights_by_path(model)
        for path in text_paths:
            self.assertAllClose(after[path], before[path], atol=0)
        self.assertFalse(
            np.allclose(
                after["fusion/dense_0/kernel"], before["fusion/dense_0/kernel"]
            )
        )

    def test_fit_runs_both_stages_every_epoch(self):
        x, y = tiny_batch()
        model = tiny_model()
        model.compile()
        history = model.fit(x, y, batch_size=6, epochs=2, verbose=0)
        self.assertLen(history.history["mi_stage_loss"], 2)
        # Two batches per epoch; the memory restarts every epoch.
        self.assertEqual(
            int(
                keras.ops.convert_to_numpy(
                    model.ba_bound.vision_memory.batch_counter
                )
            ),
            2,
        )

    def test_stage_one_step_is_built_once_across_epochs(self):
        # Stage 1 is a nested `fit` every epoch: its model, train function
        # and (graph backends) traced step must be reused, not rebuilt.
        x, y = tiny_batch()
        model = tiny_model()
        model.compile()
        stage_model = model.stage_one()
        calls = []
        step = stage_model.train_step

        def counted_step(*args, **kwargs):
            calls.append(1)
            return step(*args, **kwargs)

        stage_model.train_step = counted_step
        seen = []

        class Record(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                current = model.stage_one()
                seen.append((current, current.train_function, len(calls)))

        model.fit(x, y, batch_size=6, epochs=3, verbose=0, callbacks=[Record()])
        self.assertTrue(all(entry[0] is stage_model for entry in seen))
        self.assertTrue(all(entry[1] is seen[0][1] for entry in seen))
        counts = [entry[2] for entry in seen]
        if keras.config.backend() == "torch":  # eager: one call per batch
            self.assertEqual(counts, [2, 4, 6])
        else:  # traced in epoch 1 only
            self.assertEqual(counts[1:], [counts[0]] * 2)
            self.assertLessEqual(counts[0], 2)

    def test_entropy_projection_never_moves(self):
        # Official: P sits in the critics' group, which only stage 1 (no
        # entropy) steps, so P keeps its initialisation.
        x, y = tiny_batch()
        model = tiny_model()
        model.compile()
        before = entropy_projections(model)
        self.assertLen(before, 4)
        model.fit(x, y, batch_size=6, epochs=2, verbose=0)
        after = entropy_projections(model)
        for path, value in before.items():
            np.testing.assert_array_equal(value, after[path], err_msg=path)

    def test_data_epoch_counts_training_epochs_not_passes(self):
        # Stage 1 is a nested `fit` over the same PyDataset, whose
        # `on_epoch_end` advanced the data epoch too: two data epochs per
        # training epoch, so the order (and the epoch that resume saves)
        # counted passes.
        from tests.experiment.tiny_runs import tiny_data

        path = tiny_data(self.temp_dir, num=12)
        data_epochs = {}
        for two_stage in (True, False):
            model = tiny_model(audio_dim=3, vision_dim=4, two_stage=two_stage)
            model.compile()
            train = msakeras.data.FeatureSequence(
                path,
                "train",
                batch_size=6,
                input_keys=[tensor.name for tensor in model.inputs],
            )
            model.fit(train, epochs=3, verbose=0)
            data_epochs[two_stage] = train.epoch
        # Stage 1 adds no data epoch: the same count as stage 2 alone
        # (whatever Keras's own count of `on_epoch_end` calls is).
        self.assertEqual(data_epochs[True], data_epochs[False])
        self.assertGreaterEqual(data_epochs[False], 3)

    def test_bidirectional_model_fits(self):
        # MMSA's variant (the SIMS recipe): the sLSTMs are bidirectional but
        # end in a Dense to `*_hidden_dim`, so the CPC predictors must map Z
        # to that output width (they were sized 2h and crashed on step 1).
        x, y = tiny_batch()
        model = tiny_model(
            bidirectional=True, audio_hidden_dim=6, vision_hidden_dim=5
        )
        model.compile()
        outputs = model.predict(x, verbose=0)
        self.assertEqual(outputs["audio_embedding"].shape, (12, 6))
        self.assertEqual(outputs["cpc_audio"].shape, (12, 6))
        self.assertEqual(outputs["vision_embedding"].shape, (12, 5))
        self.assertEqual(outputs["cpc_vision"].shape, (12, 5))
        history = model.fit(x, y, batch_size=6, epochs=2, verbose=0)
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        self.assertTrue(np.all(np.isfinite(history.history["cpc_loss"])))

    def test_stage_two_gradients_are_clipped_globally(self):
        x, y = tiny_batch()
        model = tiny_model(two_stage=False)
        clip = 1e-3
        optimizer = msakeras.optimizers.GlobalClipMultiOptimizer(
            keras.optimizers.OptimizerMap(
                default_optimizer=keras.optimizers.SGD(1.0),
                optimizer_map={
                    mmim_model.MMILB_PATTERN: keras.optimizers.SGD(0.0)
                },
            ),
            global_clipnorm=clip,
        )
        model.compile(optimizer=optimizer)
        before = weights_by_path(model)
        model.fit(x, y, batch_size=12, epochs=1, verbose=0)
        after = weights_by_path(model)
        step = np.sqrt(sum(np.sum((after[p] - before[p]) ** 2) for p in before))
        # The critics' gradients count in the norm but do not move: the
        # applied step is at most `clip` and not zero.
        self.assertLessEqual(step, clip * (1 + 1e-4))
        self.assertGreater(step, 0.0)

    def test_entropy_joins_the_loss_from_the_third_batch(self):
        x, y = tiny_batch(12, seed=3)
        model = tiny_model(memory_capacity=12)
        model.compile()
        y_pred = model(x, training=False)
        model.ba_bound.reset_memories()
        losses = [
            float(
                keras.ops.convert_to_numpy(
                    model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
                )
            )
            for _ in range(3)
        ]
        self.assertAlmostEqual(losses[0], losses[1], places=5)
        labels = y[:, 0]
        expected = 0.0
        for modality in ("vision", "audio"):
            vectors = keras.ops.convert_to_numpy(
                y_pred[f"entropy_projection_{modality}"]
            ).astype("float64")
            # Memory (previous batch) and current batch: the same rows.
            expected += numpy_entropy(
                np.concatenate([vectors, vectors]),
                np.concatenate([labels, labels]),
            )
        self.assertAllClose(
            losses[2], losses[1] - 0.1 * expected, atol=1e-4, rtol=1e-4
        )
        self.assertEqual(
            int(
                keras.ops.convert_to_numpy(
                    model.ba_bound.audio_memory.batch_counter
                )
            ),
            3,
        )

    def test_too_small_classes_are_skipped_not_nan(self):
        x, y = tiny_batch(6)
        y[:] = np.array([[0.0], [1.0], [2.0], [3.0], [1.0], [-1.0]])
        model = tiny_model(vision_hidden_dim=12, audio_hidden_dim=12)
        model.compile()
        y_pred = model(x, training=False)
        model.ba_bound.reset_memories()
        for _ in range(3):
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        self.assertAllFinite(loss)
        # Negative class: 2 rows < width 3 + 1, skipped in both pairs.
        self.assertGreater(
            float(
                keras.ops.convert_to_numpy(
                    model.ba_bound.skipped_tracker.result()
                )
            ),
            0,
        )

    def test_short_fit_lowers_the_training_loss(self):
        x, y = tiny_batch(16, seed=1)
        model = tiny_model()
        model.compile()
        history = model.fit(x, y, batch_size=8, epochs=6, verbose=0)
        self.assertLess(history.history["mae"][-1], history.history["mae"][0])

    def test_bad_config(self):
        with self.assertRaisesRegex(ValueError, "stage_one_fraction"):
            tiny_model(stage_one_fraction=0.0)
        with self.assertRaisesRegex(ValueError, "stage_one_gradients"):
            tiny_model(stage_one_gradients="some")
        with self.assertRaisesRegex(ValueError, "cpc_weight"):
            tiny_model(cpc_weight=-1.0)
