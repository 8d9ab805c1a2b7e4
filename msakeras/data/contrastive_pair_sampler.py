"""`ContrastivePairSampler`: DashFusion's hard-negative partner batches."""

import keras
import numpy as np

from msakeras.data import hdf5_store

ROLES = ("ss", "dd", "sd")
"""Partner roles, in the order they follow the anchors in a batch."""


def _label_classes(labels, round_labels):
    labels = np.asarray(labels, dtype="float64").reshape(-1)
    return np.round(labels) if round_labels else labels


def retrieve_candidates(
    similarity,
    labels,
    candidates_per_list=10,
    similar_scan_fraction=1.0,
    dissimilar_scan_fraction=1.0,
    round_labels=True,
    replicate_reference_sampler_bug=False,
    chunk_size=256,
    features=None,
):
    """Candidate lists "ss", "sd", "dd" of every anchor
    (`docs/models/dashfusion.md`).

    For anchor `i`, all samples are ranked by decreasing similarity
    (stable sort). "ss" are the first `candidates_per_list` samples of the
    same class and "sd" the first of a different class, scanning the most
    similar `ceil(similar_scan_fraction · N)` ranks; "dd" are the first of
    a different class scanning from the least similar over
    `ceil(dissimilar_scan_fraction · N)` ranks. The anchor itself is never
    a candidate. Classes: `round(y)` (MOSI/MOSEI) or exact labels (SIMS).

    **Reference bug, fixed here.** ConFEDE's and DashFusion's
    `__pre_sample` append the rank *position* `j` instead of the sample id
    `rank[i][j]` (and skip `i == j`, comparing an id to a position), so the
    "retrieved" samples are the low-index samples 0, 1, 2, ... (for "dd",
    negative positions, i.e. samples at the end of the array), whose
    labels need not satisfy the intended relation. We store sample ids and
    exclude `i` itself. `replicate_reference_sampler_bug=True` reproduces
    the official lists exactly, for reproduction studies.

    Args:
        similarity: float `(N, N)` or `None`, e.g. the cosine similarity
            of `[x̄_t; x̄_v; x̄_a]`.
        labels: float `(N,)`, in sample-index order.
        candidates_per_list: int. List length (official 10).
        similar_scan_fraction: float. Share of ranks scanned for ss/sd
            (MOSI 1, MOSEI 1/2, SIMS 1/1.6).
        dissimilar_scan_fraction: float. Share scanned from the end for dd
            (MOSI 1, MOSEI 1/8, SIMS 1/2).
        round_labels: bool. Defaults to `True`.
        replicate_reference_sampler_bug: bool. Defaults to `False`.
        chunk_size: int. Rows sorted at a time (bounds memory).
        features: float `(N, d)` or `None`. With `similarity=None`, the
            cosine similarity of these rows, computed a chunk at a time
            (never the full `(N, N)` matrix: MOSEI has N = 16326).

    Returns:
        dict role -> list of N int64 arrays of sample ids.
    """
    classes = _label_classes(labels, round_labels)
    size = len(classes)
    if similarity is None:
        unit = _unit_rows(features)
        if unit.shape[0] != size:
            raise ValueError(
                f"`features` must have {size} rows (one per label); "
                f"received {unit.shape[0]}."
            )
    else:
        similarity = np.asarray(similarity)
    if similarity is not None and similarity.shape != (size, size):
        raise ValueError(
            f"`similarity` must be ({size}, {size}) for {size} labels; "
            f"received {similarity.shape}."
        )
    similar_span = int(np.ceil(similar_scan_fraction * size))
    dissimilar_span = int(np.ceil(dissimilar_scan_fraction * size))
    lists = {role: [] for role in ROLES}
    positions = np.arange(size)
    for start in range(0, size, chunk_size):
        if similarity is None:
            block = unit[start : start + chunk_size] @ unit.T
        else:
            block = similarity[start : start + chunk_size]
        ranks = np.argsort(-block, axis=1, kind="stable")
        for offset, order in enumerate(ranks):
            anchor = start + offset
            same = classes[order] == classes[anchor]
            if replicate_reference_sampler_bug:
                # Official: `for j in range(N): if i == j: continue` and
                # `_ss.append(j)` (a position, used later as an id).
                usable = positions != anchor
                forward_ids = positions
                # `for j in range(-1, -N, -1)`: never position 0; the
                # stored negative j indexes sample N + j.
                backward_usable = positions[::-1] != 0
                backward_ids = positions[::-1]
            else:
                usable = order != anchor
                forward_ids = order
                backward_usable = order[::-1] != anchor
                backward_ids = order[::-1]
            region = positions < similar_span
            for role, wanted in (("ss", same), ("sd", ~same)):
                hits = np.flatnonzero(usable & region & wanted)
                lists[role].append(
                    forward_ids[hits[:candidates_per_list]].astype("int64")
                )
            backward_same = same[::-1]
            hits = np.flatnonzero(
                backward_usable & ~backward_same & (positions < dissimilar_span)
            )
            lists["dd"].append(
                backward_ids[hits[:candidates_per_list]].astype("int64")
            )
    return lists


def _unit_rows(features):
    features = np.asarray(features, dtype="float32")
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-6)


def cosine_similarity(features):
    """Cosine similarity matrix of `(N, d)` features (zero rows give 0)."""
    unit = _unit_rows(features)
    return unit @ unit.T


class ContrastivePairSampler(keras.utils.PyDataset):
    """Adds DashFusion's hard-negative partners to every training batch.

    Wraps a `FeatureSequence`-like dataset whose batches are
    `(inputs, labels)` with `inputs["index"]` (the sample index within the
    split). For each anchor it draws, without replacement,
    `partners_per_role` samples from each of its candidate lists
    (`retrieve_candidates`): "ss" (similar features, same class), "dd"
    (dissimilar, different class) and "sd" (similar, different class), and
    serves the batch role-major:

        `[anchors; ss_1; ...; ss_k; dd_1; ...; dd_k; sd_1; ...; sd_k]`

    (each block has one row per anchor; `k = partners_per_role`, official
    2), with `labels` for the anchors only. `DashFusionModel(
    partners_per_role=k)` reads this layout. Partner rows are read by
    sample id (through `dataset.read_samples(ids)` when the dataset has
    it, else from the `FeatureSequence`'s HDF5 split).

    The candidate lists follow feature similarity, refreshed with
    `update_similarity(features)` (official: at epochs 1, 3, 5, ... from
    the model's `[x̄_t; x̄_v; x̄_a]` in inference mode;
    `SamplerRefreshCallback` does it). Until the first refresh the ranking
    is a seeded random order (GAP: the official initial matrix from
    min-max-scaled raw features is replaced before the first step anyway).
    Fix of the reference index bug: see `retrieve_candidates`
    (`replicate_reference_sampler_bug=True` reproduces it).

    GAP: a list shorter than `partners_per_role` is sampled with
    replacement; an empty "ss" list (a class with one member) uses the
    anchor itself, an empty "dd"/"sd" list (one class only) any other
    sample. The official code raises in these cases.

    Args:
        dataset: the wrapped `keras.utils.PyDataset` (e.g. a shuffled
            training `FeatureSequence` with `"index"` in `input_keys`).
        labels: float `(N,)` or `None`. Labels in index order; `None`
            reads `dataset.label_key` of the dataset's HDF5 split.
        partners_per_role: int. Defaults to `2`.
        candidates_per_list: int. Defaults to `10`.
        similar_scan_fraction: float. Defaults to `1.0` (MOSI).
        dissimilar_scan_fraction: float. Defaults to `1.0` (MOSI).
        round_labels: bool. Classes are `round(y)`; `False` (SIMS) compares
            raw labels. Defaults to `True`.
        replicate_reference_sampler_bug: bool. Defaults to `False`.
        keep_index: bool. Keep `"index"` in the served inputs (for models
            that declare it). Defaults to `False`.
        seed: int. Seed of the draws (per epoch and batch). Defaults to
            `0`.
        **kwargs: `keras.utils.PyDataset` arguments.

    Example:

    ```python
    train = msakeras.data.FeatureSequence(
        path, "train", batch_size=16,
        input_keys=[*model.input_names, "index"])
    sampler = msakeras.data.ContrastivePairSampler(train)
    features = msakeras.data.FeatureSequence(path, "train", shuffle=False,
                                             input_keys=model.input_names)
    model.fit(sampler, epochs=100, callbacks=[
        msakeras.data.SamplerRefreshCallback(sampler, features)])
    ```

    Reference:
        Wen et al., "DashFusion", IEEE TNNLS 2025, §III.D; Yang et al.,
        "ConFEDE", ACL 2023 (the sampler's origin).
    """

    def __init__(
        self,
        dataset,
        labels=None,
        partners_per_role=2,
        candidates_per_list=10,
        similar_scan_fraction=1.0,
        dissimilar_scan_fraction=1.0,
        round_labels=True,
        replicate_reference_sampler_bug=False,
        keep_index=False,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if partners_per_role < 1:
            raise ValueError(
                "`partners_per_role` must be >= 1; received "
                f"{partners_per_role}."
            )
        self.dataset = dataset
        if labels is None:
            labels = self._read_all_labels()
        self.labels = np.asarray(labels, dtype="float32").reshape(-1)
        self.partners_per_role = partners_per_role
        self.candidates_per_list = candidates_per_list
        self.similar_scan_fraction = similar_scan_fraction
        self.dissimilar_scan_fraction = dissimilar_scan_fraction
        self.round_labels = round_labels
        self.replicate_reference_sampler_bug = replicate_reference_sampler_bug
        self.keep_index = keep_index
        self.seed = seed
        self.epoch = 0
        random_features = np.random.default_rng([seed, 2**31 - 1]).normal(
            size=(len(self.labels), 16)
        )
        self.update_similarity(features=random_features)

    @property
    def num_samples(self):
        return len(self.labels)

    def _read_all_labels(self):
        with hdf5_store.open_dataset(self.dataset.path) as file:
            group = file[self.dataset.split]
            labels = group[getattr(self.dataset, "label_key", "label")][:]
        limit = getattr(self.dataset, "num_samples", None)
        return labels[:limit] if limit is not None else labels

    def update_similarity(self, features=None, similarity=None):
        """Rebuilds the candidate lists from features or a similarity matrix.

        Args:
            features: float `(N, d)` in index order; cosine similarity is
                used (`[x̄_t; x̄_v; x̄_a]` officially).
            similarity: float `(N, N)`, instead of `features`.
        """
        self.candidates = retrieve_candidates(
            similarity,
            self.labels,
            candidates_per_list=self.candidates_per_list,
            similar_scan_fraction=self.similar_scan_fraction,
            dissimilar_scan_fraction=self.dissimilar_scan_fraction,
            round_labels=self.round_labels,
            replicate_reference_sampler_bug=(
                self.replicate_reference_sampler_bug
            ),
            features=features,
        )

    def draw_partners(self, anchor_ids, rng):
        """Partner ids `(3 · partners_per_role, len(anchor_ids))`."""
        size = self.num_samples
        rows = []
        for role in ROLES:
            chosen = []
            for anchor in anchor_ids:
                candidates = self.candidates[role][int(anchor)]
                if len(candidates) == 0:
                    if role == "ss":
                        candidates = np.array([anchor])
                    else:
                        candidates = np.setdiff1d(np.arange(size), [anchor])
                        if len(candidates) == 0:
                            candidates = np.array([anchor])
                replace = len(candidates) < self.partners_per_role
                chosen.append(
                    rng.choice(
                        candidates, self.partners_per_role, replace=replace
                    )
                )
            rows.extend(np.stack(chosen, axis=1))
        return np.stack(rows).astype("int64")

    def read_samples(self, ids, keys):
        """Inputs of arbitrary sample ids (any order, repeats allowed)."""
        if hasattr(self.dataset, "read_samples"):
            return self.dataset.read_samples(ids, keys)
        unique, inverse = np.unique(ids, return_inverse=True)
        with hdf5_store.open_dataset(self.dataset.path) as file:
            group = file[self.dataset.split]
            return {key: group[key][unique][inverse] for key in keys}

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        inputs, labels = self.dataset[index]
        if "index" not in inputs:
            raise ValueError(
                "ContrastivePairSampler needs `index` in the wrapped "
                f"dataset's inputs; received keys {sorted(inputs)}."
            )
        anchor_ids = np.asarray(inputs["index"]).reshape(-1)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        partner_ids = self.draw_partners(anchor_ids, rng).reshape(-1)
        keys = [key for key in inputs if key != "index" or self.keep_index]
        partners = self.read_samples(partner_ids, keys)
        batch = {
            key: np.concatenate(
                [
                    inputs[key],
                    np.asarray(partners[key]).astype(inputs[key].dtype),
                ],
                axis=0,
            )
            for key in keys
        }
        return batch, labels

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def set_epoch(self, epoch):
        """Sets the epoch of the draws and of the wrapped dataset.

        An epoch's partners come from `default_rng([seed, epoch, batch])`,
        so they depend on the epoch number and the candidate lists only,
        never on earlier draws; the wrapped dataset (its shuffled batch
        order) follows through its own `set_epoch`.
        """
        self.epoch = int(epoch)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        elif hasattr(self.dataset, "epoch"):
            self.dataset.epoch = self.epoch

    def resume_state(self):
        """The state a resumed `fit` needs: epoch and candidate lists.

        The lists come from the last `update_similarity` (the model's
        features at the last refresh), which a resumed run cannot
        recompute. Returns a dict of NumPy arrays: `"epoch"` and, per role,
        `"<role>/ids"` (`(N, L)` int64, `-1`-padded) and `"<role>/lengths"`
        (`(N,)`). `msakeras.callbacks.ResumableBackup` saves it with every
        epoch's backup.
        """
        state = {"epoch": np.asarray(self.epoch, dtype="int64")}
        for role in ROLES:
            lists = self.candidates[role]
            lengths = np.asarray([len(ids) for ids in lists], dtype="int64")
            width = int(lengths.max()) if len(lengths) else 0
            ids = np.full((len(lists), width), -1, dtype="int64")
            for row, values in enumerate(lists):
                ids[row, : len(values)] = values
            state[f"{role}/ids"] = ids
            state[f"{role}/lengths"] = lengths
        return state

    def restore_resume_state(self, state):
        """Restores what `resume_state` returned (epoch, candidate lists)."""
        expected = {"epoch"} | {
            f"{role}/{part}" for role in ROLES for part in ("ids", "lengths")
        }
        if set(state) != expected:
            raise ValueError(
                "ContrastivePairSampler resume state must have the keys "
                f"{sorted(expected)}; received {sorted(state)}."
            )
        candidates = {}
        for role in ROLES:
            ids = np.asarray(state[f"{role}/ids"], dtype="int64")
            lengths = np.asarray(state[f"{role}/lengths"], dtype="int64")
            if len(lengths) != self.num_samples or len(ids) != len(lengths):
                raise ValueError(
                    f"ContrastivePairSampler resume state '{role}/ids' has "
                    f"{len(ids)} rows and '{role}/lengths' {len(lengths)}; "
                    f"the sampler has {self.num_samples} samples."
                )
            candidates[role] = [
                ids[row, :length].copy() for row, length in enumerate(lengths)
            ]
        self.candidates = candidates
        self.set_epoch(int(np.asarray(state["epoch"])))


class SamplerRefreshCallback(keras.callbacks.Callback):
    """Refreshes a `ContrastivePairSampler`'s similarity during `fit`.

    At the start of epochs 0, `every`, 2 · `every`, ... (official: epochs
    1, 3, 5, ... counted from 1) it predicts `feature_dataset` (the
    training split, unshuffled, in index order) in inference mode and
    passes `[text_embedding; vision_embedding; audio_embedding]` to
    `sampler.update_similarity`.

    Args:
        sampler: `ContrastivePairSampler`.
        feature_dataset: unshuffled dataset of the same split, serving the
            model's inputs in index order.
        every: int. Refresh period in epochs. Defaults to `2`.
        keys: output keys concatenated. Defaults to the three embeddings.
    """

    def __init__(
        self,
        sampler,
        feature_dataset,
        every=2,
        keys=("text_embedding", "vision_embedding", "audio_embedding"),
    ):
        super().__init__()
        if getattr(feature_dataset, "shuffle", False):
            raise ValueError(
                "`feature_dataset` must not shuffle: its rows "
                "must follow the sample index."
            )
        self.sampler = sampler
        self.feature_dataset = feature_dataset
        self.every = every
        self.keys = tuple(keys)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch % self.every != 0:
            return
        outputs = self.model.predict(self.feature_dataset, verbose=0)
        features = np.concatenate(
            [np.asarray(outputs[key]) for key in self.keys], axis=-1
        )
        self.sampler.update_similarity(features=features)
