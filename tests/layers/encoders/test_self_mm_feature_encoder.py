import numpy as np

from msakeras.layers.encoders import self_mm_feature_encoder
from msakeras.testing import test_case
from tests.layers.encoders import rnn_reference

SIZES = {
    "audio_hidden_dim": 3,
    "audio_output_dim": 2,
    "vision_hidden_dim": 4,
    "vision_output_dim": 3,
    "fusion_dim": 5,
    "text_post_dim": 2,
    "audio_post_dim": 3,
    "vision_post_dim": 4,
}


def relu(x):
    return np.maximum(x, 0.0)


class SelfMMFeatureEncoderTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = {
            "text": rng.normal(size=(3, 6)).astype("float32"),
            "audio": rng.normal(size=(3, 5, 4)).astype("float32"),
            "audio_mask": np.array(
                [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], "int32"
            ),
            "vision": rng.normal(size=(3, 5, 2)).astype("float32"),
            "vision_mask": np.array(
                [[1, 1, 0, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], "int32"
            ),
        }

    def test_layer_basics(self):
        self.run_layer_test(
            self_mm_feature_encoder.SelfMMFeatureEncoder,
            init_kwargs={**SIZES, "fusion_dropout": 0.1, "audio_dropout": 0.1},
            input_data=self.inputs,
            expected_output_shape={
                "audio_features": (3, 2),
                "vision_features": (3, 3),
                "fusion": (3, 5),
                "text": (3, 2),
                "audio": (3, 3),
                "vision": (3, 4),
            },
            # Two sLSTMs (3 each) + their linears (2 each) + four post
            # layers (2 each).
            expected_num_trainable_weights=18,
        )

    def test_matches_numpy(self):
        # Self-MM eqs. 1-3: X_s = W_s h_s + b (sLSTM final state on the
        # valid frames), F_m = ReLU(W_m [X_t; X_a; X_v] + b_m), F_s =
        # ReLU(W_s' X_s + b_s') (dropout off at inference).
        layer = self_mm_feature_encoder.SelfMMFeatureEncoder(
            **SIZES, fusion_dropout=0.5, vision_dropout=0.5
        )
        outputs = layer(**self.inputs, training=False)

        def encoder(sublayer, sequences, mask):
            weights = rnn_reference.weights_by_name(sublayer)
            states = []
            for row, length in zip(sequences, mask.sum(1)):
                states.append(
                    rnn_reference.numpy_lstm(
                        row[:length],
                        weights["forward_lstm_0/lstm_cell/kernel"],
                        weights["forward_lstm_0/lstm_cell/recurrent_kernel"],
                        weights["forward_lstm_0/lstm_cell/bias"],
                    )[-1]
                )
            return (
                np.stack(states) @ weights["output_dense/kernel"]
                + weights["output_dense/bias"]
            )

        def post(sublayer, features):
            kernel, bias = (
                np.asarray(w) for w in sublayer.dense_layers[0].get_weights()
            )
            return relu(features @ kernel + bias)

        encoded = {
            "text": self.inputs["text"],
            "audio": encoder(
                layer.audio_encoder,
                self.inputs["audio"],
                self.inputs["audio_mask"],
            ),
            "vision": encoder(
                layer.vision_encoder,
                self.inputs["vision"],
                self.inputs["vision_mask"],
            ),
        }
        self.assertAllClose(
            outputs["audio_features"], encoded["audio"], atol=1e-5
        )
        self.assertAllClose(
            outputs["vision_features"], encoded["vision"], atol=1e-5
        )
        fusion = post(
            layer.fusion,
            np.concatenate(
                [encoded["text"], encoded["audio"], encoded["vision"]], -1
            ),
        )
        self.assertAllClose(outputs["fusion"], fusion, atol=1e-5)
        for modality, sublayer in layer.post_layers().items():
            self.assertAllClose(
                outputs[modality],
                post(sublayer, encoded[modality]),
                atol=1e-5,
                msg=modality,
            )

    def test_moved_sublayers_name_the_old_layers(self):
        layer = self_mm_feature_encoder.SelfMMFeatureEncoder(**SIZES)
        self.assertEqual(
            layer.moved_sublayers(),
            {
                "audio_encoder": "audio_encoder",
                "vision_encoder": "vision_encoder",
                "fusion": "fusion",
                "text_post": "text_post",
                "audio_post": "audio_post",
                "vision_post": "vision_post",
            },
        )
