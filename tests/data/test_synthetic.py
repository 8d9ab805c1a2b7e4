import os
from unittest import mock

import numpy as np
from absl.testing import parameterized

from msakeras.data import hdf5_store
from msakeras.data import schema
from msakeras.data import synthetic
from msakeras.metrics import ridge_baselines
from msakeras.testing import test_case


class SyntheticTest(test_case.TestCase):
    def test_same_seed_same_bytes(self):
        kwargs = dict(
            num_train=5, num_valid=2, num_test=2, audio_steps=7, vision_steps=6
        )
        first, _ = synthetic.generate_synthetic_splits(seed=5, **kwargs)
        second, _ = synthetic.generate_synthetic_splits(seed=5, **kwargs)
        other, _ = synthetic.generate_synthetic_splits(seed=6, **kwargs)
        for split in first:
            for key, value in first[split].items():
                self.assertEqual(
                    value.tobytes(), second[split][key].tobytes(), key
                )
        self.assertNotEqual(
            first["train"]["audio"].tobytes(), other["train"]["audio"].tobytes()
        )

    @parameterized.named_parameters(
        ("mosi", "mosi", 50, (375, 5), (500, 20), 3.0),
        ("mosei", "mosei", 50, (500, 74), (500, 35), 3.0),
        ("sims", "sims", 39, (400, 33), (55, 709), 1.0),
    )
    def test_release_shapes_and_padding(
        self, kind, text_length, audio, vision, bound
    ):
        splits, attributes = synthetic.generate_synthetic_splits(
            kind, num_train=6, num_valid=2, num_test=2
        )
        self.assertEqual(attributes["dataset"], f"synthetic_{kind}")
        self.assertEqual(attributes["text_vocabulary"], "bert_base_uncased")
        train = splits["train"]
        schema.validate_split(train, "train", dataset=attributes["dataset"])
        self.assertEqual(train["text_token_ids"].shape, (6, text_length))
        self.assertEqual(train["audio"].shape, (6,) + audio)
        self.assertEqual(train["vision"].shape, (6,) + vision)
        lengths = train["text_padding_mask"].sum(axis=1)
        rows = np.arange(6)
        self.assertTrue(np.all(train["text_token_ids"][:, 0] == 101))
        self.assertTrue(
            np.all(train["text_token_ids"][rows, lengths - 1] == 102)
        )
        for key in ("audio", "vision"):
            padded = train[f"{key}_mask"] == 0
            self.assertTrue(np.all(train[key][padded] == 0))
            self.assertTrue(np.all(np.abs(train[key][~padded]).sum(-1) > 0))
        self.assertLessEqual(np.abs(train["label"]).max(), bound)
        if kind == "sims":
            np.testing.assert_allclose(
                train["label"] * 5, np.round(train["label"] * 5), atol=1e-5
            )
            self.assertIn("label_vision", train)
        else:
            # Annotator means: multiples of 1/3, 1/4 or 1/5.
            np.testing.assert_allclose(
                train["label"] * 60, np.round(train["label"] * 60), atol=1e-4
            )

    def test_vocabulary_remap_and_file(self):
        path = synthetic.make_synthetic_dataset(
            os.path.join(self.temp_dir, "tiny.h5"),
            num_train=4,
            num_valid=2,
            num_test=2,
            text_length=10,
            audio_steps=4,
            vision_steps=4,
            vocabulary_size=16,
        )
        train = hdf5_store.load_split(path, "train")
        self.assertLess(train["text_token_ids"].max(), 16)
        self.assertTrue(np.all(train["text_token_ids"][:, 0] == 1))
        attributes = hdf5_store.read_attributes(path)
        self.assertEqual(
            attributes["text_vocabulary"], "bert_base_uncased_remapped_16"
        )
        self.assertEqual(attributes["audio_max_length"], 4)

    def test_default_path_honours_cache_variable(self):
        with mock.patch.dict(os.environ, {"MSAKERAS_CACHE": self.temp_dir}):
            path = synthetic.default_synthetic_path("synthetic_sims")
        self.assertEqual(
            path, os.path.join(self.temp_dir, "synthetic_sims_v1.h5")
        )
        with self.assertRaisesRegex(ValueError, "iemocap"):
            synthetic.default_synthetic_path("iemocap")

    def test_fusion_beats_every_single_modality(self):
        splits, _ = synthetic.generate_synthetic_splits(
            "mosi",
            num_train=400,
            num_valid=2,
            num_test=300,
            audio_steps=60,
            vision_steps=60,
        )
        results = ridge_baselines.single_modality_ridge_baselines(
            splits["train"], splits["test"], "mosi"
        )
        for modality in ("text", "audio", "vision"):
            self.assertGreater(results[modality]["Corr"], 0.2, modality)
            self.assertGreater(
                results["all"]["Corr"],
                results[modality]["Corr"] + 0.15,
                modality,
            )
            self.assertLess(results["all"]["MAE"], results[modality]["MAE"])
