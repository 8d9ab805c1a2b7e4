import keras
import numpy as np
from absl.testing import parameterized

from msakeras import testing
from msakeras.models.mcer import mcer_model
from msakeras.testing import test_case
from tests.models.mmim_critic_weights import entropy_projections
from tests.models.mmim_critic_weights import is_likelihood_critic
from tests.models.mmim_critic_weights import weights_by_path

NUM_SAMPLES = 6
CROSS = ("cross_text", "cross_audio", "cross_vision")


def tiny_text_encoder(dropout=0.1):
    return testing.tiny_text_encoder(dropout=dropout)


def tiny_model(text_dropout_rate=0.1, **kwargs):
    arguments = dict(
        audio_dim=3,
        vision_dim=4,
        num_train_samples=NUM_SAMPLES,
        audio_hidden_dim=4,
        vision_hidden_dim=4,
        fusion_dim=4,
        text_post_dim=4,
        audio_post_dim=3,
        vision_post_dim=4,
        bottleneck_hidden_dim=4,
        cross_modal_dim=4,
        cross_modal_layers=1,
        cross_modal_heads=2,
        sequence_recurrent_dim=4,
        cross_head_dim=4,
        memory_capacity=8,
    )
    arguments.update(kwargs)
    return mcer_model.MCERModel(
        tiny_text_encoder(text_dropout_rate), **arguments
    )


def tiny_data(seed=0):
    generator = np.random.default_rng(seed)
    x = {
        "text_token_ids": generator.integers(3, 100, (NUM_SAMPLES, 5)).astype(
            "int32"
        ),
        "text_padding_mask": np.ones((NUM_SAMPLES, 5), "int32"),
        "audio": generator.normal(size=(NUM_SAMPLES, 4, 3)).astype("float32"),
        "audio_mask": np.ones((NUM_SAMPLES, 4), "int32"),
        "vision": generator.normal(size=(NUM_SAMPLES, 6, 4)).astype("float32"),
        "vision_mask": np.ones((NUM_SAMPLES, 6), "int32"),
        "index": generator.permutation(NUM_SAMPLES).astype("int32"),
    }
    x["audio_mask"][0, 2:] = 0
    x["vision_mask"][1, 3:] = 0
    x["text_padding_mask"][2, 3:] = 0
    y = generator.uniform(-3, 3, (NUM_SAMPLES, 1)).astype("float32")
    return x, y


def state_values(model, name):
    return [
        keras.ops.convert_to_numpy(weight)
        for weight in model.get_layer(name).weights
    ]


class MCERModelTest(test_case.TestCase):
    def test_model_basics(self):
        x, y = tiny_data()
        model = tiny_model()
        revived = self.run_model_test(model, x, y)
        outputs = model.predict(x, verbose=0)
        expected = {
            "sentiment",
            "fused_embedding",
            "lld_text_vision",
            "lld_text_audio",
            "entropy_projection_vision",
            "entropy_projection_audio",
            "discriminator_logits_text_audio",
            "discriminator_logits_text_vision",
            "discriminator_logits_audio_vision",
        }
        for modality in ("text", "audio", "vision"):
            expected |= {f"{modality}_sentiment", f"{modality}_embedding"}
        for key in CROSS:
            expected |= {f"{key}_sentiment", f"{key}_embedding"}
        self.assertEqual(set(outputs), expected)
        config, revived_config = model.get_config(), revived.get_config()
        config.pop("text_encoder")
        revived_config.pop("text_encoder")
        self.assertEqual(revived_config, config)
        for name in ("slgm_state", "clgm_state"):
            for saved, loaded in zip(
                state_values(model, name), state_values(revived, name)
            ):
                self.assertAllClose(loaded, saved)

    @parameterized.named_parameters(
        ("m_s_only", {"cross_modal_tasks": ()}),
        (
            "text_task_options",
            {
                "cross_modal_tasks": ("text",),
                "post_ln": True,
                "head_representation": "masked_mean",
                "frame_pool_size": 2,
            },
        ),
    )
    def test_variants_fit(self, options):
        x, y = tiny_data()
        model = tiny_model(**options)
        model.compile()
        history = model.fit(x, y, batch_size=3, epochs=1, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][-1]))
        outputs = model.predict(x, verbose=0)
        tasks = options["cross_modal_tasks"]
        self.assertEqual(
            {key for key in outputs if key.startswith("cross_")},
            {
                f"cross_{t}_{s}"
                for t in tasks
                for s in ("sentiment", "embedding")
            },
        )
        if not tasks:
            self.assertFalse(any("discriminator" in key for key in outputs))

    def test_masked_steps_never_change_outputs(self):
        x, _ = tiny_data()
        model = tiny_model(frame_pool_size=2)
        outputs = model.predict(x, verbose=0)
        noisy = {key: value.copy() for key, value in x.items()}
        noisy["audio"][0, 2:] += 50.0
        noisy["vision"][1, 3:] -= 50.0
        noisy["text_token_ids"][2, 3:] = 7
        noisy_outputs = model.predict(noisy, verbose=0)
        for key, value in outputs.items():
            self.assertAllClose(noisy_outputs[key], value, atol=1e-4, msg=key)

    def test_loss_terms_match_weights(self):
        # One training-mode loss evaluation against its parts: the compiled
        # MAE, α·KL_m + β·ΣKL_s (add_loss), γ·L_dc and −η·lld (no entropy
        # and zero label-weighted terms at the first visit).
        x, y = tiny_data()
        model = tiny_model(
            fusion_kl_weight=0.7,
            unimodal_kl_weight=0.3,
            discriminator_weight=0.5,
            mi_weight=0.2,
        )
        model.compile()
        y_pred = model(x, training=True)
        kl_terms = [keras.ops.convert_to_numpy(t) for t in model.losses]
        self.assertLen(kl_terms, 4)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        mae = np.mean(
            np.abs(keras.ops.convert_to_numpy(y_pred["sentiment"]) - y)
        )
        discrimination = keras.ops.convert_to_numpy(
            model.discrimination_loss(y_pred)
        )
        lld = sum(
            np.mean(keras.ops.convert_to_numpy(y_pred[f"lld_text_{m}"]))
            for m in ("vision", "audio")
        )
        expected = mae + sum(kl_terms) + 0.5 * discrimination - 0.2 * lld
        self.assertAllClose(loss, expected, atol=1e-4, rtol=1e-4)

    def test_clgm_update_matches_numpy(self):
        # Three epochs of one batch: CLGM labels move by eq. 30–31 from the
        # centres of the previous visit (NumPy replay of the ULGM rule).
        x, y = tiny_data()
        # No dropout: the training forward pass equals `model(x)`.
        model = tiny_model(
            text_dropout_rate=0.0,
            fusion_dropout=0.0,
            text_dropout=0.0,
            audio_dropout=0.0,
            vision_dropout=0.0,
            cross_modal_dropout=0.0,
        )
        model.compile()
        model.fit(
            x, y, batch_size=NUM_SAMPLES, epochs=2, shuffle=False, verbose=0
        )
        state = model.get_layer("clgm_state")
        tables = {
            key: keras.ops.convert_to_numpy(state.feature_tables[key])
            for key in ("fusion",) + CROSS
        }
        labels = {
            key: keras.ops.convert_to_numpy(state.label_tables[key])
            for key in ("fusion",) + CROSS
        }
        order = x["index"]
        y_m = np.empty(NUM_SAMPLES, "float32")
        y_m[order] = y[:, 0]

        def centres(key):
            table, own = tables[key], labels[key]
            positive = table[own > 0].mean(0) if (own > 0).any() else 0.0
            negative = table[own < 0].mean(0) if (own < 0).any() else 0.0
            return positive, negative

        def delta(key, features):
            positive, negative = centres(key)
            d_p = np.linalg.norm(features - positive, axis=-1)
            d_n = np.linalg.norm(features - negative, axis=-1)
            return (d_n - d_p) / (d_p + 1e-8)

        # The features the third fit step will see, read as the state does.
        y_pred = model(x, training=False)
        features = {
            "fusion": keras.ops.convert_to_numpy(y_pred["fused_embedding"]),
            **{
                key: keras.ops.convert_to_numpy(y_pred[f"{key}_embedding"])
                for key in CROSS
            },
        }
        delta_m = delta("fusion", features["fusion"][np.argsort(order)])
        expected = {}
        n = 3.0
        for key in CROSS:
            delta_c = delta(key, features[key][np.argsort(order)])
            candidate = 0.5 * (delta_c / (delta_m + 1e-8)) * y_m + 0.5 * (
                y_m + delta_c - delta_m
            )
            candidate = np.clip(candidate, -3.0, 3.0)
            expected[key] = (n - 1) / (n + 1) * labels[key] + 2 / (
                n + 1
            ) * candidate
        model.fit(
            x, y, batch_size=NUM_SAMPLES, epochs=1, shuffle=False, verbose=0
        )
        for key in CROSS:
            self.assertAllClose(
                state.label_tables[key], expected[key], atol=1e-3, msg=key
            )


class MCERTwoStageTest(test_case.TestCase):
    """`mmim_two_stage=True`: MMIM's stage 1 (critics alone), then the rest."""

    def test_stage_one_moves_only_the_likelihood_critics(self):
        x, y = tiny_data()
        model = tiny_model(mmim_two_stage=True)
        model.compile()
        stage = model.stage_one()
        before = weights_by_path(model)
        stage.fit(x, y, batch_size=3, epochs=1, verbose=0)
        after = weights_by_path(model)
        critics = [path for path in before if is_likelihood_critic(path)]
        self.assertNotEmpty(critics)
        for path, value in before.items():
            moved = not np.allclose(value, after[path])
            self.assertEqual(moved, is_likelihood_critic(path), path)

    def test_main_pass_keeps_the_critics(self):
        x, y = tiny_data()
        model = tiny_model(mmim_two_stage=True)
        model.compile()
        before = weights_by_path(model)
        # `train_on_batch` is the main pass alone (stage 1 runs at `fit`'s
        # epoch start); MCER's optimizer applies every 4 batches (Self-MM's
        # gradient accumulation).
        for _ in range(4):
            model.train_on_batch(x, y)
        after = weights_by_path(model)
        moved = {
            path
            for path, value in before.items()
            if not np.allclose(value, after[path])
        }
        self.assertFalse({path for path in moved if is_likelihood_critic(path)})
        self.assertIn("fusion", " ".join(moved))

    def test_fit_runs_stage_one_every_epoch(self):
        x, y = tiny_data()
        single = tiny_model()
        single.compile()
        self.assertNotIn(
            "mi_stage_loss",
            single.fit(x, y, batch_size=3, epochs=1, verbose=0).history,
        )
        model = tiny_model(mmim_two_stage=True)
        model.compile()
        before = weights_by_path(model)
        history = model.fit(x, y, batch_size=3, epochs=2, verbose=0)
        self.assertLen(history.history["mi_stage_loss"], 2)
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        after = weights_by_path(model)
        critics = [path for path in before if is_likelihood_critic(path)]
        self.assertTrue(
            any(not np.allclose(before[p], after[p]) for p in critics)
        )
        revived = self.run_model_test(tiny_model(mmim_two_stage=True), x, y)
        self.assertTrue(revived.get_config()["mmim_two_stage"])


class MCEREntropyProjectionTest(test_case.TestCase):
    """MMIM never steps the entropy projection P; neither does MCER.

    The default single-stage pass is the one that trained P (to maximise
    the entropy); P is non-trainable in the two-stage mode alike
    (`MMILB(train_entropy_projection=False)`).
    """

    def test_entropy_projection_never_moves(self):
        x, y = tiny_data()
        model = tiny_model()
        model.compile()
        before = entropy_projections(model)
        self.assertLen(before, 4)  # kernel and bias, vision and audio
        # 6 samples, batch 3: two batches per epoch, 4 accumulated steps
        # over two epochs.
        history = model.fit(x, y, batch_size=3, epochs=2, verbose=0)
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        after = entropy_projections(model)
        for path, value in before.items():
            np.testing.assert_array_equal(value, after[path], err_msg=path)
