import numpy as np

from msakeras.data import contrastive_pair_sampler as sampler_module
from msakeras.testing import test_case


def official_pre_sample(rank, labels, keep=10):
    """ConFEDE/DashFusion `__pre_sample`, transcribed (index bug kept)."""
    size = len(labels)
    retrieve = {"ss": [], "sd": [], "dd": []}
    for i in range(size):
        ss, sd, dd = [], [], []
        for j in range(size):
            if i == j:
                continue
            if labels[i] == labels[int(rank[i][j])]:
                ss.append(j)
            else:
                sd.append(j)
        for j in range(-1, -size, -1):
            if i == j:
                continue
            if labels[i] != labels[int(rank[i][j])]:
                dd.append(j)
        retrieve["ss"].append([j % size for j in ss[:keep]])
        retrieve["sd"].append([j % size for j in sd[:keep]])
        retrieve["dd"].append([j % size for j in dd[:keep]])
    return retrieve


def intended_pre_sample(similarity, labels, keep=10):
    """The rule the paper describes: sample ids, the anchor excluded."""
    retrieve = {"ss": [], "sd": [], "dd": []}
    for i in range(len(labels)):
        order = [j for j in np.argsort(-similarity[i], kind="stable") if j != i]
        retrieve["ss"].append(
            [j for j in order if labels[j] == labels[i]][:keep]
        )
        retrieve["sd"].append(
            [j for j in order if labels[j] != labels[i]][:keep]
        )
        retrieve["dd"].append(
            [j for j in order[::-1] if labels[j] != labels[i]][:keep]
        )
    return retrieve


class _ArrayDataset:
    """A tiny in-memory `FeatureSequence` stand-in with `read_samples`."""

    def __init__(self, arrays, labels, batch_size):
        self.arrays, self.labels, self.batch_size = arrays, labels, batch_size

    def __len__(self):
        return int(np.ceil(len(self.labels) / self.batch_size))

    def __getitem__(self, index):
        rows = np.arange(
            index * self.batch_size,
            min((index + 1) * self.batch_size, len(self.labels)),
        )
        inputs = {key: value[rows] for key, value in self.arrays.items()}
        return inputs, self.labels[rows].reshape(-1, 1)

    def read_samples(self, ids, keys):
        return {key: self.arrays[key][ids] for key in keys}


class ContrastivePairSamplerTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        # 8 samples, classes after rounding: 1 1 -1 -1 0 1 -1 0.
        self.labels = np.array(
            [0.8, 1.2, -1.0, -0.6, 0.2, 1.4, -1.2, -0.2], "float32"
        )
        rng = np.random.default_rng(0)
        self.features = rng.normal(size=(8, 3)).astype("float32")
        self.similarity = sampler_module.cosine_similarity(self.features)

    def test_intended_choices_match_numpy(self):
        lists = sampler_module.retrieve_candidates(
            self.similarity, self.labels, candidates_per_list=3
        )
        expected = intended_pre_sample(
            self.similarity, np.round(self.labels), keep=3
        )
        for role in ("ss", "sd", "dd"):
            for i in range(8):
                self.assertEqual(list(lists[role][i]), expected[role][i])
                classes = np.round(self.labels)
                for j in lists[role][i]:
                    self.assertNotEqual(j, i)
                    self.assertEqual(classes[j] == classes[i], role == "ss")

    def test_chunked_features_equal_full_matrix(self):
        full = sampler_module.retrieve_candidates(
            self.similarity, self.labels, candidates_per_list=3
        )
        chunked = sampler_module.retrieve_candidates(
            None,
            self.labels,
            candidates_per_list=3,
            chunk_size=3,
            features=self.features,
        )
        for role in full:
            for a, b in zip(full[role], chunked[role]):
                self.assertEqual(list(a), list(b))

    def test_reference_bug_is_replicated_on_request(self):
        rank = np.argsort(-self.similarity, axis=1, kind="stable")
        expected = official_pre_sample(rank, np.round(self.labels), keep=3)
        lists = sampler_module.retrieve_candidates(
            self.similarity,
            self.labels,
            candidates_per_list=3,
            replicate_reference_sampler_bug=True,
        )
        for role in ("ss", "sd", "dd"):
            for i in range(8):
                self.assertEqual(list(lists[role][i]), expected[role][i])

    def test_case_the_official_code_gets_wrong(self):
        # The official lists hold rank positions, so its "same label"
        # partners of anchor 2 (class -1) include samples of other classes.
        classes = np.round(self.labels)
        buggy = sampler_module.retrieve_candidates(
            self.similarity,
            self.labels,
            candidates_per_list=3,
            replicate_reference_sampler_bug=True,
        )
        fixed = sampler_module.retrieve_candidates(
            self.similarity, self.labels, candidates_per_list=3
        )
        wrong = [
            (i, j)
            for i in range(8)
            for j in buggy["ss"][i]
            if classes[j] != classes[i] or j == i
        ]
        self.assertNotEmpty(wrong)
        for i in range(8):
            self.assertTrue(
                all(classes[j] == classes[i] and j != i for j in fixed["ss"][i])
            )

    def test_batches_are_role_major(self):
        arrays = {
            "audio": np.arange(8, dtype="float32")[:, None, None]
            * np.ones((1, 3, 2), "float32"),
            "index": np.arange(8, dtype="int32"),
        }
        dataset = _ArrayDataset(arrays, self.labels, batch_size=4)
        sampler = sampler_module.ContrastivePairSampler(
            dataset,
            labels=self.labels,
            partners_per_role=2,
            candidates_per_list=3,
        )
        sampler.update_similarity(features=self.features)
        inputs, labels = sampler[1]
        self.assertNotIn("index", inputs)
        self.assertEqual(inputs["audio"].shape, (28, 3, 2))
        self.assertEqual(labels.shape, (4, 1))
        ids = inputs["audio"][:, 0, 0].astype(int).reshape(7, 4)
        np.testing.assert_array_equal(ids[0], [4, 5, 6, 7])
        for column, anchor in enumerate(ids[0]):
            for row, role in zip(
                range(1, 7), ["ss"] * 2 + ["dd"] * 2 + ["sd"] * 2
            ):
                self.assertIn(
                    ids[row, column], list(sampler.candidates[role][anchor])
                )
            if len(sampler.candidates["ss"][anchor]) >= 2:  # no repeats
                self.assertNotEqual(ids[1, column], ids[2, column])
            else:  # GAP: a one-element list is drawn with replacement
                self.assertEqual(ids[1, column], ids[2, column])

    def _sampler(self, seed=4):
        arrays = {
            "audio": np.arange(8, dtype="float32")[:, None, None]
            * np.ones((1, 3, 2), "float32"),
            "index": np.arange(8, dtype="int32"),
        }
        dataset = _EpochArrayDataset(arrays, self.labels, batch_size=4)
        return sampler_module.ContrastivePairSampler(
            dataset,
            labels=self.labels,
            partners_per_role=2,
            candidates_per_list=3,
            seed=seed,
        )

    def test_partners_depend_on_the_epoch_not_on_earlier_draws(self):
        walked = self._sampler()
        for _ in range(3):
            for index in range(len(walked)):
                walked[index]
            walked.on_epoch_end()
        jumped = self._sampler()
        jumped.set_epoch(3)
        self.assertEqual(jumped.dataset.epoch, 3)  # the wrapped one follows
        self.assertEqual(walked.dataset.epoch, 3)
        for index in range(len(walked)):
            np.testing.assert_array_equal(
                walked[index][0]["audio"], jumped[index][0]["audio"]
            )
        # ... and the epoch matters: epoch 0 draws other partners.
        jumped.set_epoch(0)
        self.assertFalse(
            all(
                np.array_equal(walked[i][0]["audio"], jumped[i][0]["audio"])
                for i in range(len(walked))
            )
        )

    def test_resume_state_restores_the_refreshed_candidate_lists(self):
        trained = self._sampler()
        trained.update_similarity(features=self.features)
        trained.set_epoch(5)
        state = trained.resume_state()
        self.assertEqual(state["ss/ids"].dtype, np.int64)
        self.assertEqual(state["ss/lengths"].shape, (8,))

        fresh = self._sampler()  # random initial lists, epoch 0
        differs = any(
            list(a) != list(b)
            for role in sampler_module.ROLES
            for a, b in zip(trained.candidates[role], fresh.candidates[role])
        )
        self.assertTrue(differs)
        # Round trip through the `.npz` that ResumableBackup writes.
        path = f"{self.temp_dir}/state.npz"
        np.savez(path, **state)
        with np.load(path) as loaded:
            fresh.restore_resume_state({key: loaded[key] for key in loaded})
        self.assertEqual(fresh.epoch, 5)
        self.assertEqual(fresh.dataset.epoch, 5)
        expected = sampler_module.retrieve_candidates(
            self.similarity, self.labels, candidates_per_list=3
        )
        for role in sampler_module.ROLES:
            for a, b in zip(expected[role], fresh.candidates[role]):
                self.assertEqual(list(a), list(b))
        for index in range(len(trained)):
            np.testing.assert_array_equal(
                trained[index][0]["audio"], fresh[index][0]["audio"]
            )

    def test_restore_refuses_a_state_of_another_size(self):
        state = self._sampler().resume_state()
        state["dd/lengths"] = state["dd/lengths"][:5]
        with self.assertRaisesRegex(ValueError, "dd/ids"):
            self._sampler().restore_resume_state(state)
        with self.assertRaisesRegex(ValueError, "keys"):
            self._sampler().restore_resume_state({"epoch": np.asarray(1)})


class _EpochArrayDataset(_ArrayDataset):
    """`_ArrayDataset` with a seeded, epoch-dependent batch order."""

    def __init__(self, arrays, labels, batch_size):
        super().__init__(arrays, labels, batch_size)
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def __getitem__(self, index):
        order = np.random.default_rng([7, self.epoch]).permutation(
            len(self.labels)
        )
        rows = np.sort(order[index * self.batch_size :][: self.batch_size])
        inputs = {key: value[rows] for key, value in self.arrays.items()}
        return inputs, self.labels[rows].reshape(-1, 1)
