import functools

import keras
import numpy as np
from absl.testing import parameterized

import msakeras
from msakeras import testing
from msakeras.testing import TestCase

tiny_text_encoder = functools.partial(testing.tiny_text_encoder, hidden_dim=16)


def tiny_batch(num_samples=8, seed=0):
    rng = np.random.RandomState(seed)
    text_lengths = rng.randint(3, 7, (num_samples, 1))
    audio_lengths = rng.randint(1, 6, (num_samples, 1))
    vision_lengths = rng.randint(1, 5, (num_samples, 1))
    text_steps, audio_steps, vision_steps = 6, 6, 5
    x = {
        "text_token_ids": rng.randint(3, 100, (num_samples, text_steps)),
        "text_padding_mask": np.arange(text_steps)[None] < text_lengths,
        "audio": rng.normal(size=(num_samples, audio_steps, 5)),
        "audio_mask": np.arange(audio_steps)[None] < audio_lengths,
        "vision": rng.normal(size=(num_samples, vision_steps, 4)),
        "vision_mask": np.arange(vision_steps)[None] < vision_lengths,
    }
    for key in ("text_padding_mask", "audio_mask", "vision_mask"):
        x[key] = x[key].astype("int32")
    x["text_token_ids"] = (x["text_token_ids"] * x["text_padding_mask"]).astype(
        "int32"
    )
    for key in ("audio", "vision"):
        x[key] = (x[key] * x[f"{key}_mask"][..., None]).astype("float32")
    labels = np.round(rng.uniform(-3, 3, (num_samples, 1))).astype("float32")
    labels[0] = 0.0
    return x, labels


def tiny_model(**kwargs):
    settings = dict(
        audio_dim=5,
        vision_dim=4,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
        graph_hidden_dim=6,
    )
    settings.update(kwargs)
    return msakeras.models.HyConModel(tiny_text_encoder(), **settings)


class HyConModelTest(TestCase):
    @parameterized.named_parameters(
        ("add", "add", 8),
        ("concat", "concat", 24),
        ("tensor", "tensor", 9**3),
        ("graph", "graph", 24),
    )
    def test_model_basics_per_fusion(self, fusion, fused_width):
        x, y = tiny_batch()
        model = tiny_model(fusion=fusion)
        before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
        revived = self.run_model_test(model, x, y)
        self.assertIsInstance(revived, msakeras.models.HyConModel)
        self.assertEqual(revived.get_config()["fusion"], fusion)
        outputs = revived.predict(x, verbose=0)
        self.assertEqual(outputs["fused_embedding"].shape, (8, fused_width))
        for modality in ("text", "audio", "vision"):
            self.assertEqual(outputs[f"{modality}_embedding"].shape, (8, 8))
        # Training moved the fusion block and the encoders.
        after = [keras.ops.convert_to_numpy(w) for w in model.weights]
        changed = {
            w.path.split("/")[0]
            for w, old, new in zip(model.weights, before, after)
            if not np.allclose(old, new)
        }
        self.assertContainsSubset(
            {"audio_encoder", "vision_projection", "sentiment_head"}, changed
        )
        if fusion == "graph":
            self.assertIn("fusion", changed)

    def test_loss_is_mae_plus_hybrid_with_tracked_terms(self):
        x, y = tiny_batch()
        model = tiny_model(margin=0.7, inter_modal_weight=0.5)
        model.compile(optimizer=keras.optimizers.SGD(0.0))
        outputs = model(x, training=False)
        terms = msakeras.losses.hybrid_contrastive_terms(
            y,
            keras.ops.stack(
                [
                    outputs[f"{m}_embedding"]
                    for m in ("text", "audio", "vision")
                ],
                axis=1,
            ),
            margin=0.7,
        )
        means = {
            key: float(np.mean(keras.ops.convert_to_numpy(value)))
            for key, value in terms.items()
        }
        mae = float(
            np.mean(
                np.abs(keras.ops.convert_to_numpy(outputs["sentiment"]) - y)
            )
        )
        expected = (
            mae
            + means["intra_modal"]
            + 0.5 * means["inter_modal"]
            + means["semi"]
        )
        results = model.evaluate(
            x, y, batch_size=8, verbose=0, return_dict=True
        )
        self.assertAllClose(results["loss"], expected, atol=1e-4)
        self.assertAllClose(
            results["iamcl_loss"], means["intra_modal"], atol=1e-5
        )
        self.assertAllClose(
            results["iemcl_loss"], means["inter_modal"], atol=1e-5
        )
        self.assertAllClose(results["scl_loss"], means["semi"], atol=1e-5)
        history = model.fit(
            x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x, y)
        ).history
        for name in ("iamcl_loss", "iemcl_loss", "scl_loss", "hybrid_loss"):
            self.assertIn(name, history)
            self.assertIn(f"val_{name}", history)

    def test_last_step_modes(self):
        x, _ = tiny_batch(4)
        masks = {
            "text": x["text_padding_mask"],
            "audio": x["audio_mask"],
            "vision": x["vision_mask"],
        }
        sources = {
            "text": "text_projection",
            "audio": "audio_encoder",
            "vision": "vision_encoder",
        }
        for mode in (True, False):
            model = tiny_model(last_valid_step=mode)
            probe = keras.Model(
                model.inputs,
                {m: model.get_layer(s).output for m, s in sources.items()},
            )
            sequences = probe.predict(x, verbose=0)
            outputs = model.predict(x, verbose=0)
            for modality, sequence in sequences.items():
                if mode:  # each row's last valid step
                    index = masks[modality].sum(axis=1) - 1
                else:  # the proxy code's index T - 1
                    index = np.full(4, sequence.shape[1] - 1)
                self.assertAllClose(
                    outputs[f"{modality}_embedding"],
                    sequence[np.arange(4), index],
                    atol=1e-5,
                    msg=f"{mode} {modality}",
                )

    def test_key_padding_mask_option(self):
        # Rows 0-1 full length, rows 2-3 padded (audio and vision).
        x, _ = tiny_batch(4, seed=1)
        rng = np.random.RandomState(2)
        lengths = {"audio": [6, 6, 2, 3], "vision": [5, 5, 2, 4]}
        for key, row_lengths in lengths.items():
            steps = x[key].shape[1]
            mask = np.arange(steps)[None] < np.array(row_lengths)[:, None]
            x[f"{key}_mask"] = mask.astype("int32")
            x[key] = (rng.normal(size=x[key].shape) * mask[..., None]).astype(
                "float32"
            )
        masked = tiny_model(key_padding_mask=True)
        unmasked = tiny_model(key_padding_mask=False)
        unmasked.set_weights(masked.get_weights())
        self.assertFalse(unmasked.get_config()["key_padding_mask"])
        self.assertTrue(masked.get_config()["key_padding_mask"])
        revived = unmasked.from_config(unmasked.get_config())
        self.assertFalse(
            revived.get_layer("audio_encoder").use_key_padding_mask
        )
        out_masked = masked(x, training=False)
        out_unmasked = unmasked(x, training=False)
        for modality in ("audio", "vision"):
            a = keras.ops.convert_to_numpy(out_masked[f"{modality}_embedding"])
            b = keras.ops.convert_to_numpy(
                out_unmasked[f"{modality}_embedding"]
            )
            # No padding: the two settings agree; padding: they differ.
            self.assertAllClose(a[:2], b[:2], atol=1e-5)
            for row in (2, 3):
                self.assertGreater(np.abs(a[row] - b[row]).max(), 1e-4)
        # Reference for the masked setting: the padded row computed alone,
        # cut to its valid length (no padding at all); the unmasked
        # setting (the proxy code) lets the padding change it.
        row = 2
        cut = {
            "text_token_ids": x["text_token_ids"][row : row + 1],
            "text_padding_mask": x["text_padding_mask"][row : row + 1],
        }
        for key, row_lengths in lengths.items():
            length = row_lengths[row]
            cut[key] = x[key][row : row + 1, :length]
            cut[f"{key}_mask"] = x[f"{key}_mask"][row : row + 1, :length]
        alone = masked(cut, training=False)
        alone_unmasked = unmasked(cut, training=False)
        for modality in ("audio", "vision"):
            key = f"{modality}_embedding"
            self.assertAllClose(out_masked[key][row], alone[key][0], atol=1e-5)
            # Cut to its length, the row has no padding: both agree...
            self.assertAllClose(
                alone_unmasked[key][0], alone[key][0], atol=1e-5
            )
            # ...and the unmasked model differs only through the padding.
            difference = keras.ops.convert_to_numpy(
                out_unmasked[key][row] - alone_unmasked[key][0]
            )
            self.assertGreater(np.abs(difference).max(), 1e-4)

    def test_bad_config(self):
        for kwargs, argument in [
            ({"fusion": "lmf"}, "fusion"),
            ({"semi_contrastive_weight": -1.0}, "semi_contrastive_weight"),
            ({"similarity": "dot"}, "similarity"),
        ]:
            with self.assertRaisesRegex(ValueError, argument):
                tiny_model(**kwargs)
