import math
import os

import keras
import numpy as np
import pytest

from msakeras.layers.encoders import bert_loading
from msakeras.layers.encoders import bert_text_encoder
from msakeras.layers.encoders import exact_gelu_bert_backbone
from msakeras.testing import TestCase


def tiny_backbone(exact=True):
    cls = (
        exact_gelu_bert_backbone.ExactGeluBertBackbone
        if exact
        else __import__("keras_hub").models.BertBackbone
    )
    return cls(
        vocabulary_size=100,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )


def numpy_erf_gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class ExactGeluBertBackboneTest(TestCase):
    def test_feedforward_uses_exact_gelu(self):
        backbone = tiny_backbone()
        dense = backbone.transformer_layers[0]._feedforward_intermediate_dense
        inputs = np.random.RandomState(0).normal(size=(3, 16)) * 3.0
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in dense.weights)
        expected = numpy_erf_gelu(inputs @ kernel + bias)
        self.assertAllClose(
            dense(inputs.astype("float32")), expected, atol=1e-5
        )
        tanh_gelu = (
            0.5
            * (inputs @ kernel + bias)
            * (
                1
                + np.tanh(
                    math.sqrt(2 / math.pi)
                    * (
                        (inputs @ kernel + bias)
                        + 0.044715 * (inputs @ kernel + bias) ** 3
                    )
                )
            )
        )
        self.assertGreater(np.max(np.abs(expected - tanh_gelu)), 1e-5)

    def test_exact_gelu_survives_keras_round_trip(self):
        backbone = tiny_backbone()
        inputs = {
            "token_ids": np.array([[1, 5, 7, 2, 0]], "int32"),
            "segment_ids": np.zeros((1, 5), "int32"),
            "padding_mask": np.array([[1, 1, 1, 1, 0]], "int32"),
        }
        path = os.path.join(self.temp_dir, "backbone.keras")
        backbone.save(path)
        revived = keras.models.load_model(path)
        self.assertIsInstance(
            revived, exact_gelu_bert_backbone.ExactGeluBertBackbone
        )
        self.assertAllClose(
            revived(inputs)["sequence_output"],
            backbone(inputs)["sequence_output"],
            atol=1e-6,
        )


class BertTextEncoderTest(TestCase):
    def setUp(self):
        super().setUp()
        self.input_data = {
            "token_ids": np.array([[1, 5, 7, 2, 0], [1, 9, 2, 0, 0]], "int32"),
            "padding_mask": np.array(
                [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], "int32"
            ),
        }

    def test_layer_basics(self):
        self.run_layer_test(
            bert_text_encoder.BertTextEncoder,
            {"backbone": tiny_backbone()},
            self.input_data,
            expected_output_shape={"sequence": (2, 5, 16), "cls": (2, 16)},
            # pooled_dense kernel and bias are frozen.
            expected_num_trainable_weights=37,
            expected_num_non_trainable_weights=2,
        )

    def test_cls_is_first_token_of_last_layer(self):
        backbone = tiny_backbone()
        encoder = bert_text_encoder.BertTextEncoder(backbone)
        outputs = encoder(**self.input_data)
        reference = backbone(
            {
                **self.input_data,
                "segment_ids": np.zeros((2, 5), "int32"),
            }
        )["sequence_output"]
        self.assertAllClose(
            outputs["cls"], keras.ops.convert_to_numpy(reference)[:, 0]
        )

    def test_padded_tokens_do_not_change_cls(self):
        encoder = bert_text_encoder.BertTextEncoder(tiny_backbone())
        noisy = dict(self.input_data)
        noisy["token_ids"] = self.input_data["token_ids"].copy()
        noisy["token_ids"][1, 3:] = 50  # padded positions only
        self.assertAllClose(
            encoder(**self.input_data)["cls"],
            encoder(**noisy)["cls"],
            atol=1e-5,
        )

    def test_freezing(self):
        encoder = bert_text_encoder.BertTextEncoder(
            tiny_backbone(), fine_tune=False
        )
        encoder(**self.input_data)
        self.assertEmpty(encoder.trainable_weights)

    def test_bad_backbone_and_too_long_input(self):
        with self.assertRaisesRegex(ValueError, "backbone"):
            bert_text_encoder.BertTextEncoder(keras.layers.Dense(3))
        encoder = bert_text_encoder.BertTextEncoder(tiny_backbone())
        with self.assertRaisesRegex(ValueError, "max_sequence_length"):
            encoder(np.ones((1, 20), "int32"), np.ones((1, 20), "int32"))


SENTENCE = "The movie was surprisingly wonderful, though a bit long."


@pytest.mark.large
class BundledMiniLMTest(TestCase):
    def test_matches_hugging_face_bert(self):
        transformers = pytest.importorskip("transformers")
        pytest.importorskip("torch")
        import torch

        path = bert_loading.bundled_minilm_path()
        tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        encoded = tokenizer(SENTENCE, return_tensors="np")
        with torch.no_grad():
            reference = transformers.BertModel.from_pretrained(path)(
                **{k: torch.from_numpy(v) for k, v in encoded.items()}
            ).last_hidden_state.numpy()[0]
        encoder = bert_text_encoder.BertTextEncoder(
            bert_loading.load_bert_backbone()
        )
        outputs = encoder(
            encoded["input_ids"].astype("int32"),
            encoded["attention_mask"].astype("int32"),
        )
        self.assertEqual(encoder.hidden_dim, 384)
        self.assertAllClose(outputs["sequence"][0], reference, atol=1e-4)
        # The tanh-GELU backbone keras-hub loads is measurably further off.
        approximate = bert_text_encoder.BertTextEncoder(
            bert_loading.load_bert_backbone(exact_gelu=False)
        )
        difference = np.max(
            np.abs(
                keras.ops.convert_to_numpy(
                    approximate(
                        encoded["input_ids"].astype("int32"),
                        encoded["attention_mask"].astype("int32"),
                    )["sequence"][0]
                )
                - reference
            )
        )
        self.assertGreater(difference, 1e-4)

    def test_vocabulary_is_bert_base_uncased(self):
        vocabulary = bert_loading.load_bert_vocabulary()
        self.assertLen(vocabulary, 30522)
        self.assertEqual(vocabulary[101], "[CLS]")
        self.assertEqual(vocabulary[102], "[SEP]")
        with self.assertRaisesRegex(ValueError, "does not exist"):
            bert_loading.load_bert_backbone("/nonexistent/bert")
