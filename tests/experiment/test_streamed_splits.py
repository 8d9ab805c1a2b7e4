"""Whole-split computations read in batches equal the whole-array ones.

The sealed test read (`HeldOutTestData`) and the ridge baselines' training
split stream through `msakeras.data.iterate_split` / `FeatureSequence`;
on a tiny file each result must equal the same computation on the arrays
loaded whole (`load_split`), written out here.
"""

from unittest import mock

import numpy as np

import msakeras
from msakeras.experiment import HeldOutTestData
from msakeras.experiment import checkpoint_scoring
from msakeras.experiment import predict_arrays
from msakeras.metrics import ridge_baselines
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model

KEYS = list(checkpoint_scoring.RIDGE_KEYS)  # the inputs and the label


def whole_array_baselines(train, test, dataset, vocabulary_limit):
    """The baselines from whole arrays: vocabulary, features, ridge."""
    ids, mask = train["text_token_ids"], train["text_padding_mask"] == 1
    vocabulary = np.unique(ids[mask])
    if vocabulary.size > vocabulary_limit:
        vocabulary = None

    def features(arrays):
        sets = {
            "text": ridge_baselines.text_features(arrays, vocabulary),
            "audio": ridge_baselines.frame_statistics(
                arrays["audio"], arrays["audio_mask"]
            ),
            "vision": ridge_baselines.frame_statistics(
                arrays["vision"], arrays["vision_mask"]
            ),
        }
        sets["all"] = np.concatenate(
            [sets["text"], sets["audio"], sets["vision"]], axis=1
        )
        return sets

    train_sets, test_sets = features(train), features(test)
    return {
        key: msakeras.metrics.sentiment_scores(
            ridge_baselines.ridge_fit_predict(
                train_sets[key], train["label"], test_sets[key], alpha="auto"
            ),
            test["label"],
            dataset=dataset,
        )
        for key in ("text", "audio", "vision", "all")
    }


class StreamedSplitsTest(TestCase):
    def setUp(self):
        super().setUp()
        self.path = tiny_data(self.temp_dir, num=40)

    def test_iterate_split_concatenates_to_the_whole_split(self):
        whole = msakeras.data.load_split(self.path, "train", keys=KEYS)
        batches = list(
            msakeras.data.iterate_split(self.path, "train", KEYS, batch_size=7)
        )
        self.assertEqual([len(b["label"]) for b in batches], [7] * 5 + [5])
        for key in KEYS:
            np.testing.assert_array_equal(
                np.concatenate([batch[key] for batch in batches]), whole[key]
            )

    def test_ridge_baselines_in_batches_equal_the_whole_arrays(self):
        train = msakeras.data.load_split(self.path, "train", keys=KEYS)
        test = msakeras.data.load_split(self.path, "test", keys=KEYS)
        # 4096: the tiny vocabulary gets a column per token; 5: it overflows
        # during the batched pass and token ids are hashed instead.
        for limit in (4096, 5):
            with mock.patch.object(
                ridge_baselines, "_MAX_TEXT_FEATURES", limit
            ):
                streamed = ridge_baselines.ridge_baselines_from_batches(
                    lambda: msakeras.data.iterate_split(
                        self.path, "train", KEYS, batch_size=6
                    ),
                    msakeras.data.iterate_split(
                        self.path, "test", KEYS, batch_size=6
                    ),
                    "mosi",
                    alpha="auto",
                )
                expected = whole_array_baselines(train, test, "mosi", limit)
            for key in expected:
                for metric, value in expected[key].items():
                    self.assertAllClose(
                        streamed[key][metric], value, atol=1e-12, rtol=0
                    )

    def test_held_out_test_data_streams_the_same_prediction_and_labels(self):
        model = tiny_model()
        whole = msakeras.data.load_split(self.path, "test")
        data = HeldOutTestData(self.path, "test")
        streamed = data.predict(model, batch_size=5)
        expected = predict_arrays(model, whole, batch_size=5)
        np.testing.assert_array_equal(
            streamed["sentiment"], expected["sentiment"]
        )
        np.testing.assert_array_equal(
            data.labels(), whole["label"].astype(np.float64)
        )
        self.assertTrue(data.has("audio_mask"))
        self.assertFalse(data.has("label_text"))
        with self.assertRaisesRegex(ValueError, "no key 'label_text'"):
            data.labels("label_text")
