import functools
import os

import keras
import numpy as np
from absl.testing import parameterized

import msakeras
from msakeras import testing
from msakeras.models.self_mi import self_mi_model
from msakeras.testing import test_case

NUM_SAMPLES = 6


tiny_text_encoder = functools.partial(testing.tiny_text_encoder, hidden_dim=16)


def tiny_model(**kwargs):
    arguments = dict(
        audio_dim=3,
        vision_dim=4,
        num_train_samples=NUM_SAMPLES,
        audio_hidden_dim=4,
        vision_hidden_dim=4,
        fusion_dim=8,
        text_post_dim=4,
        audio_post_dim=3,
        vision_post_dim=4,
    )
    arguments.update(kwargs)
    return self_mi_model.SelfMIModel(tiny_text_encoder(), **arguments)


def tiny_data(seed=0):
    generator = np.random.default_rng(seed)
    x = {
        "text_token_ids": generator.integers(3, 100, (NUM_SAMPLES, 5)).astype(
            "int32"
        ),
        "text_padding_mask": np.ones((NUM_SAMPLES, 5), "int32"),
        "audio": generator.normal(size=(NUM_SAMPLES, 4, 3)).astype("float32"),
        "audio_mask": np.ones((NUM_SAMPLES, 4), "int32"),
        "vision": generator.normal(size=(NUM_SAMPLES, 4, 4)).astype("float32"),
        "vision_mask": np.ones((NUM_SAMPLES, 4), "int32"),
        "index": generator.permutation(NUM_SAMPLES).astype("int32"),
    }
    x["audio_mask"][0, 2:] = 0
    y = generator.uniform(-3, 3, (NUM_SAMPLES, 1)).astype("float32")
    return x, y


def state_values(model):
    return [
        keras.ops.convert_to_numpy(weight)
        for weight in model.get_layer("label_state").weights
    ]


class SelfMIModelTest(test_case.TestCase):
    @parameterized.named_parameters(
        ("ulg_mi", "ulg_mi", 2), ("ulgm_affine_heads", "ulgm", 1)
    )
    def test_model_basics(self, label_generator, head_layers):
        x, y = tiny_data()
        model = tiny_model(
            label_generator=label_generator, head_layers=head_layers
        )
        revived = self.run_model_test(model, x, y)
        outputs = model.predict(x, verbose=0)
        expected = {
            "sentiment",
            "fused_embedding",
            "text_sentiment",
            "audio_sentiment",
            "vision_sentiment",
            "text_embedding",
            "audio_embedding",
            "vision_embedding",
            "cpc_text",
            "cpc_audio",
            "cpc_vision",
        }
        if label_generator == "ulg_mi":
            expected |= {
                f"generated_{m}_label" for m in ("text", "audio", "vision")
            }
        self.assertEqual(set(outputs), expected)
        config, revived_config = model.get_config(), revived.get_config()
        config.pop("text_encoder")
        revived_config.pop("text_encoder")
        self.assertEqual(revived_config, config)
        for saved, loaded in zip(state_values(model), state_values(revived)):
            self.assertAllClose(loaded, saved)

    def test_state_changes_only_in_fit(self):
        x, y = tiny_data()
        model = tiny_model(label_generator="ulgm")
        model.compile()
        before = state_values(model)
        model.evaluate(x, y, batch_size=3, verbose=0)
        model.predict(x, batch_size=3, verbose=0)
        for value, initial in zip(state_values(model), before):
            self.assertAllClose(value, initial)
        model.fit(x, y, batch_size=3, epochs=3, shuffle=True, verbose=0)
        state = model.get_layer("label_state")
        self.assertAllClose(state.visits, np.full(NUM_SAMPLES, 3))
        by_index = np.empty(NUM_SAMPLES, "float32")
        by_index[x["index"]] = y[:, 0]  # tables are keyed by `index`
        self.assertAllClose(state.label_tables["fusion"], by_index)
        # Epochs 2 and 3 moved the unimodal labels away from y_m.
        moved = keras.ops.convert_to_numpy(state.label_tables["text"])
        self.assertGreater(np.abs(moved - by_index).max(), 1e-4)

    def test_loss_terms_match_numpy(self):
        x, y = tiny_data()
        model = tiny_model(label_generator="ulg_mi", cpc_weight=0.3)
        model.compile()
        outputs = model(x, training=False)
        state = model.get_layer("label_state")
        # A second visit with known stored labels: the unimodal terms use
        # them (read before the update).
        stored = np.linspace(-1, 1, NUM_SAMPLES).astype("float32")
        for modality in ("text", "audio", "vision"):
            state.label_tables[modality].assign(stored)
        state.visits.assign(np.ones(NUM_SAMPLES, "int32"))
        loss = model.compute_loss(x=x, y=y, y_pred=outputs, training=True)
        out = {
            key: keras.ops.convert_to_numpy(value)
            for key, value in outputs.items()
        }
        y_m = y[:, 0]
        labels = stored[x["index"]]
        expected = np.mean(np.abs(out["sentiment"][:, 0] - y_m))
        for modality in ("text", "audio", "vision"):
            expected += np.mean(
                np.tanh(np.abs(labels - y_m))
                * np.abs(out[f"{modality}_sentiment"][:, 0] - labels)
            )
            expected += np.mean(
                np.abs(out[f"generated_{modality}_label"][:, 0] - y_m)
            )
            expected += 0.3 * np.mean(
                keras.ops.convert_to_numpy(
                    msakeras.losses.info_nce(
                        out[f"{modality}_embedding"], out[f"cpc_{modality}"]
                    )
                )
            )
        self.assertAllClose(loss, expected, atol=1e-4, rtol=1e-4)

    def test_cpc_and_label_generation_start_at_epoch_two(self):
        # Algorithm 1: `if n != 1` -- CPC loss and generated labels from
        # epoch 2 on; epoch 1 trains the task heads only.
        x, y = tiny_data()
        model = tiny_model(label_generator="ulg_mi", cpc_weight=0.3)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        # G^s and R^s learn only from L_CPC and L_gen.
        watched = [
            weight
            for name in ("cpc_text", "cpc_audio", "generator_text")
            for weight in model.get_layer(name).weights
        ]

        def values():
            return [keras.ops.convert_to_numpy(w).copy() for w in watched]

        state = model.get_layer("label_state")
        by_index = np.empty(NUM_SAMPLES, "float32")
        by_index[x["index"]] = y[:, 0]
        initial = values()
        first = model.fit(x, y, batch_size=3, epochs=1, verbose=0).history
        self.assertEqual(first["cpc_loss"][0], 0.0)
        self.assertEqual(first["generation_loss"][0], 0.0)
        for before, after in zip(initial, values()):
            self.assertAllClose(after, before, atol=0, rtol=0)
        for modality in ("text", "audio", "vision"):
            self.assertAllClose(
                state.label_tables[modality], by_index, atol=1e-6
            )
        after_first = values()
        second = model.fit(x, y, batch_size=3, epochs=1, verbose=0).history
        self.assertGreater(second["cpc_loss"][0], 0.0)
        self.assertGreater(second["generation_loss"][0], 0.0)
        changed = [
            np.abs(after - before).max()
            for before, after in zip(after_first, values())
        ]
        self.assertGreater(min(changed), 0.0)
        moved = keras.ops.convert_to_numpy(state.label_tables["text"])
        self.assertGreater(np.abs(moved - by_index).max(), 1e-4)

    def test_generator_gradient_stops_at_fusion(self):
        # ULG_MI's L_gen trains the generator (G^s, R^s), never the
        # backbone: the gradient of the generated label is zero at the
        # fusion layer and everything before it, non-zero in the generator.
        from tests.gradients import gradients_of_sum

        x, _ = tiny_data()
        model = tiny_model(label_generator="ulg_mi")
        generated = keras.Model(
            model.inputs, model.output["generated_text_label"]
        )
        self.assertEqual(generated.output.shape[-1], 1)
        grads = gradients_of_sum(generated, x)
        past_stop = {
            path: grad
            for path, grad in grads.items()
            if path.split("/")[1] == "text_encoder"
            or "self_mm_features/fusion/" in path
            or "audio_encoder" in path
            or "vision_encoder" in path
        }
        generator = {
            path: grad for path, grad in grads.items() if "generator" in path
        }
        self.assertNotEmpty(past_stop)
        self.assertNotEmpty(generator)
        for path, grad in past_stop.items():
            self.assertEqual(float(np.max(np.abs(grad))), 0.0, path)
        self.assertGreater(
            max(float(np.max(np.abs(g))) for g in generator.values()), 0.0
        )

    def test_optimizer_groups(self):
        model = tiny_model()
        optimizer = model.make_optimizers(
            learning_rate=1e-3,
            text_learning_rate=5e-5,
            audio_learning_rate=2e-3,
            vision_learning_rate=1e-4,
            l2_decay=1e-2,
            text_l2_decay=1e-3,
            gradient_accumulation_steps=4,
        )
        optimizer_map = optimizer._optimizer_map

        def group(path):
            variable = next(
                v for v in model.trainable_variables if v.path == path
            )
            chosen = optimizer_map(variable)
            return (
                float(keras.ops.convert_to_numpy(chosen.learning_rate)),
                chosen.l2_decay,
                chosen.gradient_accumulation_steps,
            )

        self.assertAllClose(
            group("transformer_layer_0/self_attention_layer/query/kernel"),
            (5e-5, 1e-3 / 4, 4),
        )
        self.assertAllClose(
            group("transformer_layer_0/self_attention_layer/query/bias"),
            (5e-5, 0.0, 4),
        )
        self.assertAllClose(
            group("embeddings_layer_norm/gamma"), (5e-5, 0.0, 4)
        )
        self.assertAllClose(
            group("self_mm_features/audio_encoder/output_dense/kernel"),
            (2e-3, 1e-3 / 4, 4),
        )
        self.assertAllClose(
            group("fusion_head_output/kernel"), (1e-3, 1e-2 / 4, 4)
        )

    def test_resumed_model_continues_state(self):
        x, y = tiny_data()
        model = tiny_model(label_generator="ulgm")
        model.compile()
        model.fit(x, y, batch_size=3, epochs=2, verbose=0)
        path = os.path.join(self.temp_dir, "model.keras")
        model.save(path)
        revived = keras.models.load_model(path)
        for saved, loaded in zip(state_values(model), state_values(revived)):
            self.assertAllClose(loaded, saved)
        revived.fit(x, y, batch_size=3, epochs=1, verbose=0)
        self.assertAllClose(
            revived.get_layer("label_state").visits, np.full(NUM_SAMPLES, 3)
        )

    def test_invalid_arguments(self):
        with self.assertRaisesRegex(ValueError, "label_generator"):
            tiny_model(label_generator="distance")
        with self.assertRaisesRegex(ValueError, "head_layers"):
            tiny_model(head_layers=3)
