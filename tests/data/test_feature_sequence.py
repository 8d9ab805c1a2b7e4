import os
import pickle

import keras
import numpy as np

from msakeras.data import feature_sequence
from msakeras.data import synthetic
from msakeras.testing import test_case

NUM_TRAIN = 10


def _batches(sequence):
    return [sequence[i] for i in range(len(sequence))]


class FeatureSequenceTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.path = synthetic.make_synthetic_dataset(
            os.path.join(self.temp_dir, "sims.h5"),
            dataset="sims",
            num_train=NUM_TRAIN,
            num_valid=3,
            num_test=3,
            text_length=8,
            audio_steps=6,
            vision_steps=5,
            audio_dim=3,
            vision_dim=4,
            vocabulary_size=32,
        )

    def test_batch_structure(self):
        sequence = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4
        )
        self.assertEqual(len(sequence), 3)
        self.assertEqual(sequence.num_samples, NUM_TRAIN)
        self.assertEqual(sequence.attributes["dataset"], "synthetic_sims")
        inputs, labels = sequence[0]
        self.assertEqual(
            list(inputs),
            [
                "text_token_ids",
                "text_padding_mask",
                "audio",
                "audio_mask",
                "vision",
                "vision_mask",
                "index",
            ],
        )
        expected = {
            "text_token_ids": ((4, 8), "int32"),
            "text_padding_mask": ((4, 8), "int32"),
            "audio": ((4, 6, 3), "float32"),
            "audio_mask": ((4, 6), "int32"),
            "vision": ((4, 5, 4), "float32"),
            "vision_mask": ((4, 5), "int32"),
            "index": ((4,), "int32"),
        }
        for key, (shape, dtype) in expected.items():
            self.assertEqual(inputs[key].shape, shape, key)
            self.assertEqual(inputs[key].dtype, np.dtype(dtype), key)
        self.assertEqual(labels.shape, (4, 1))
        self.assertEqual(labels.dtype, np.float32)
        # Rows come sorted within a batch (h5py needs increasing indices).
        self.assertTrue(np.all(np.diff(inputs["index"]) > 0))
        self.assertEqual(sequence[2][1].shape, (2, 1))

    def test_every_sample_once_and_deterministic_shuffle(self):
        sequence = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4, seed=3
        )
        twin = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4, seed=3
        )
        orders = []
        for _ in range(3):
            indices = [inputs["index"] for inputs, _ in _batches(sequence)]
            flat = np.concatenate(indices)
            self.assertEqual(sorted(flat.tolist()), list(range(NUM_TRAIN)))
            twin_flat = np.concatenate(
                [inputs["index"] for inputs, _ in _batches(twin)]
            )
            np.testing.assert_array_equal(flat, twin_flat)
            orders.append(flat)
            sequence.on_epoch_end()
            twin.on_epoch_end()
        self.assertFalse(np.array_equal(orders[0], orders[1]))
        other_seed = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4, seed=4
        )
        other = np.concatenate(
            [inputs["index"] for inputs, _ in _batches(other_seed)]
        )
        self.assertFalse(np.array_equal(orders[0], other))

    def test_unshuffled_options_and_labels(self):
        sequence = feature_sequence.FeatureSequence(
            self.path,
            "train",
            batch_size=3,
            shuffle=False,
            max_samples=7,
            input_keys=["audio", "audio_mask"],
            label_keys=["label", "label_text"],
        )
        self.assertEqual(len(sequence), 3)
        inputs, labels = sequence[2]
        self.assertEqual(list(inputs), ["audio", "audio_mask"])
        self.assertEqual(sorted(labels), ["label", "label_text"])
        self.assertEqual(labels["label_text"].shape, (1, 1))
        served = np.concatenate(
            [batch[1]["label"][:, 0] for batch in _batches(sequence)]
        )
        np.testing.assert_array_equal(sequence.get_labels(), served)
        with self.assertRaises(IndexError):
            sequence[3]

    def test_get_labels_follows_shuffled_order(self):
        sequence = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4, seed=1
        )
        served = np.concatenate([y[:, 0] for _, y in _batches(sequence)])
        np.testing.assert_array_equal(sequence.get_labels(), served)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "missing key 'raw'"):
            feature_sequence.FeatureSequence(
                self.path, "train", input_keys=["raw"]
            )
        with self.assertRaisesRegex(ValueError, "strings"):
            feature_sequence.FeatureSequence(
                self.path, "train", input_keys=["id"]
            )
        with self.assertRaisesRegex(ValueError, "no split 'dev'"):
            feature_sequence.FeatureSequence(self.path, "dev")
        with self.assertRaisesRegex(ValueError, "batch_size"):
            feature_sequence.FeatureSequence(self.path, "train", batch_size=0)

    def test_pickle_drops_the_file_handle(self):
        sequence = feature_sequence.FeatureSequence(
            self.path, "test", batch_size=2, shuffle=False
        )
        first = sequence[0]
        revived = pickle.loads(pickle.dumps(sequence))
        self.assertIsNone(revived._file)
        self.assertAllClose(revived[0], first)
        sequence.close()
        self.assertAllClose(sequence[0], first)

    def test_fit_functional_model(self):
        sequence = feature_sequence.FeatureSequence(
            self.path,
            "train",
            batch_size=4,
            input_keys=["text_token_ids", "audio", "vision"],
        )
        inputs = {
            "text_token_ids": keras.Input(
                (8,), dtype="int32", name="text_token_ids"
            ),
            "audio": keras.Input((6, 3), name="audio"),
            "vision": keras.Input((5, 4), name="vision"),
        }
        text = keras.layers.GlobalAveragePooling1D()(
            keras.layers.Embedding(32, 4)(inputs["text_token_ids"])
        )
        audio = keras.layers.GlobalAveragePooling1D()(inputs["audio"])
        vision = keras.layers.GlobalAveragePooling1D()(inputs["vision"])
        output = keras.layers.Dense(1)(
            keras.layers.Concatenate()([text, audio, vision])
        )
        model = keras.Model(inputs, output)
        model.compile(optimizer="adam", loss="mae")
        validation = feature_sequence.FeatureSequence(
            self.path,
            "valid",
            batch_size=4,
            shuffle=False,
            input_keys=["text_token_ids", "audio", "vision"],
        )
        history = model.fit(
            sequence, validation_data=validation, epochs=2, verbose=0
        )
        self.assertLen(history.history["loss"], 2)
        self.assertTrue(np.isfinite(history.history["val_loss"][-1]))
        predictions = model.predict(validation, verbose=0)
        self.assertEqual(predictions.shape, (3, 1))


class FeatureSequenceShardTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.path = synthetic.make_synthetic_dataset(
            os.path.join(self.temp_dir, "mosi.h5"),
            num_train=11,
            num_valid=3,
            num_test=3,
            text_length=6,
            audio_steps=3,
            vision_steps=3,
            audio_dim=2,
            vision_dim=2,
            vocabulary_size=32,
        )

    def test_shards_rebuild_every_global_batch(self):
        whole = feature_sequence.FeatureSequence(
            self.path, "train", batch_size=4, seed=5
        )
        shards = [
            feature_sequence.FeatureSequence(
                self.path,
                "train",
                batch_size=4,
                seed=5,
                shard_index=index,
                shard_count=2,
            )
            for index in range(2)
        ]
        for epoch in range(2):
            for shard in shards:
                self.assertEqual(len(shard), len(whole))
            for batch in range(len(whole)):
                inputs, labels = whole[batch]
                pieces = [shard[batch] for shard in shards]
                # Shard 0 then shard 1 is the unsharded batch, row for row.
                for key in inputs:
                    np.testing.assert_array_equal(
                        np.concatenate([piece[0][key] for piece in pieces]),
                        inputs[key],
                    )
                np.testing.assert_array_equal(
                    np.concatenate([piece[1] for piece in pieces]), labels
                )
                # Disjoint halves (the last batch of 3 splits 2 + 1).
                sizes = [len(piece[1]) for piece in pieces]
                self.assertEqual(
                    sizes, [len(labels) - len(labels) // 2, len(labels) // 2]
                )
            whole.on_epoch_end()
            for shard in shards:
                shard.on_epoch_end()

    def test_shard_reads_only_its_rows(self):
        import h5py

        shard = feature_sequence.FeatureSequence(
            self.path,
            "train",
            batch_size=4,
            seed=5,
            shard_index=1,
            shard_count=2,
        )
        reads = []
        original = h5py.Dataset.__getitem__

        def recording(dataset, selection):
            reads.append((dataset.name, np.asarray(selection).size))
            return original(dataset, selection)

        h5py.Dataset.__getitem__ = recording
        try:
            shard[0]
        finally:
            h5py.Dataset.__getitem__ = original
        self.assertTrue(reads)
        self.assertTrue(all(size == 2 for _, size in reads), reads)

    def test_bad_shard_arguments(self):
        with self.assertRaisesRegex(ValueError, "shard_index"):
            feature_sequence.FeatureSequence(
                self.path, "train", shard_index=2, shard_count=2
            )
        with self.assertRaisesRegex(ValueError, "global batch"):
            feature_sequence.FeatureSequence(
                self.path, "train", batch_size=2, shard_count=3
            )
