"""`UnimodalLabelGenerator`: Self-MM's ULGM per-sample label state
(docs/building_blocks.md)."""

import keras
from keras import ops

from msakeras.backend import distribute


@keras.saving.register_keras_serializable(package="msakeras")
class UnimodalLabelGenerator(keras.layers.Layer):
    """Per-sample unimodal labels generated from the multimodal label.

    Self-MM's Unimodal Label Generation Module (ULGM, `docs/building_blocks.md`)
    keeps,
    for every training sample (keyed by its `index` input), a label and the
    last seen (detached) feature for the fusion key and each modality, plus
    a positive and a negative class centre per key. One `update` per
    training batch does, in MMSA's order:

    1. read the batch's labels as they are *before* this batch (returned:
       the loss of a batch uses them);
    2. from the sample's second visit (epoch `n > 1`) on, with the *old*
       centres: `d_p = ‖F − c_pos‖`, `d_n = ‖F − c_neg‖` (plain L2),
       `δ = (d_n − d_p) / (d_p + ε)` for the fusion key (`δ_m`) and each
       modality (`δ_s`), and the new label
       `ỹ_s = ½ (δ_s / (δ_m + ε)) y_m + ½ (y_m + δ_s − δ_m)`
       (the code form of `y_m + ½ (δ_s − δ_m)(y_m + δ_m)/δ_m`), clamped to
       `[−H, H]`, then the epoch momentum
       `y_s ← (n−1)/(n+1) · y_s + 2/(n+1) · ỹ_s`;
    3. write the batch's features into the feature tables;
    4. recompute every centre over the whole table: `c_pos` averages the
       features of the samples whose *own current label* is `> 0`
       (`exclude_zero=True`, MMSA's `excludeZero`) or `>= 0`
       (`exclude_zero=False`, the official Self-MM repository), `c_neg`
       those with label `< 0`; the fusion key's labels are `y_m`.

    With `generated_labels` (ULG_MI, `docs/models/self_mi.md`, or MCER's label
    generators), step 2 takes `ỹ_s` from the caller instead of the
    relative-distance formula (then clamps and applies the momentum), so
    the same state serves both generators.

    **Self-initialising state.** Tables start at zero with a per-sample
    visit counter `visits`; a sample's labels are initialised to its `y_m`
    at its first visit (what is read for an unseen sample is `y_m`), so
    `fit` needs no set-up pass. DECISION: the epoch number `n` of the
    momentum is the sample's own visit count (`visits + 1` at this visit),
    which equals Self-MM's epoch counter when each sample is seen once per
    epoch (any shuffled `fit`), needs no callback, and is saved with the
    model so a resumed run continues it. DIFFERENCE: MMSA's centres in
    epoch 1 include the zero features of not-yet-seen samples; here only
    seen samples count. Centres are not used before epoch 2, by which time
    every sample has been seen, so updates are identical. A class with no
    member gives a zero centre (MMSA: NaN).

    Updates happen only through `update`, which a model calls in
    `compute_loss` when `training` is true (`fit`); `call` is the identity
    on the features and exists so that the layer sits in the functional
    graph (tracked, saved, and threaded through stateless backends).
    All writes use `ops.scatter_update` and `variable.assign`, so they run
    inside a compiled train step on every backend.

    Args:
        num_train_samples: int. Number of training samples `N`; `index`
            must lie in `[0, N)`.
        modalities: sequence of str. Modalities with generated labels.
            Defaults to `("text", "audio", "vision")`.
        fusion_key: str. Key of the multimodal features (`F_m`) in the
            features dict. Defaults to `"fusion"`.
        label_range: float. `H`: new labels are clamped to `[−H, H]`
            (3 for MOSI/MOSEI, 1 for SIMS). Defaults to `3.0`.
        exclude_zero: bool. Positive centres use labels `> 0` (MMSA) rather
            than `>= 0` (official Self-MM). Defaults to `True`.
        epsilon: float. The `1e-8` of the reference code. Defaults to
            `1e-8`.

    Call arguments:
        features: dict mapping `fusion_key` and each modality to float
            `(batch, dim_k)`. Returned unchanged.
        index: optional int `(batch,)`. Training-sample ids (unused by
            `call`; passing it keeps the input connected).

    Example:

    ```python
    ulgm = UnimodalLabelGenerator(num_train_samples=1284, name="ulgm")
    features = ulgm({"fusion": fused, "text": text, "audio": audio,
                     "vision": vision}, index)
    # in compute_loss, training only:
    labels = ulgm.update(index, y, features)  # read before writing
    ```

    Reference:
        Yu et al., "Learning Modality-Specific Representations with
        Self-Supervised Multi-Task Learning for Multimodal Sentiment
        Analysis", AAAI 2021, https://arxiv.org/abs/2102.04830; code:
        https://github.com/thuiar/MMSA (`trains/multiTask/SELF_MM.py`).
    """

    def __init__(
        self,
        num_train_samples,
        modalities=("text", "audio", "vision"),
        fusion_key="fusion",
        label_range=3.0,
        exclude_zero=True,
        epsilon=1e-8,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(num_train_samples) < 1:
            raise ValueError(
                "`num_train_samples` must be a positive integer; received "
                f"{num_train_samples}."
            )
        modalities = tuple(modalities)
        if not modalities or fusion_key in modalities:
            raise ValueError(
                "`modalities` must be non-empty and must not contain "
                f"`fusion_key` ({fusion_key!r}); received {modalities}."
            )
        if label_range <= 0:
            raise ValueError(
                f"`label_range` must be positive; received {label_range}."
            )
        self.num_train_samples = int(num_train_samples)
        self.modalities = modalities
        self.fusion_key = fusion_key
        self.label_range = float(label_range)
        self.exclude_zero = bool(exclude_zero)
        self.epsilon = float(epsilon)

    @property
    def keys(self):
        return (self.fusion_key,) + self.modalities

    def build(self, features_shape, index_shape=None):
        missing = [key for key in self.keys if key not in features_shape]
        if missing:
            raise ValueError(
                f"`features` must hold the keys {list(self.keys)}; missing "
                f"{missing} in {sorted(features_shape)}."
            )
        self.feature_dims = {}
        self.label_tables = {}
        self.feature_tables = {}
        self.centres = {}
        for key in self.keys:
            dim = features_shape[key][-1]
            if dim is None:
                raise ValueError(
                    f"The width of features[{key!r}] must be known; "
                    f"received {features_shape[key]}."
                )
            self.feature_dims[key] = dim
            self.label_tables[key] = self.add_weight(
                shape=(self.num_train_samples,),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name=f"labels_{key}",
            )
            self.feature_tables[key] = self.add_weight(
                shape=(self.num_train_samples, dim),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name=f"features_{key}",
            )
            # Row 0: positive centre, row 1: negative centre.
            self.centres[key] = self.add_weight(
                shape=(2, dim),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name=f"centres_{key}",
            )
        self.visits = self.add_weight(
            shape=(self.num_train_samples,),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            aggregation="only_first_replica",
            name="visits",
        )
        self.built = True

    def call(self, features, index=None):
        return {key: features[key] for key in self.keys}

    def compute_output_shape(self, features_shape, index_shape=None):
        return {key: features_shape[key] for key in self.keys}

    # --- reading -----------------------------------------------------------
    def _index(self, index):
        return ops.reshape(ops.cast(index, "int32"), (-1,))

    def read_labels(self, index, multimodal_labels):
        """The labels of a batch as stored now (detached).

        Args:
            index: int `(batch,)`. Training-sample ids.
            multimodal_labels: float `(batch,)` or `(batch, 1)`. `y_m`,
                which is what an unseen sample reads.

        Returns:
            dict mapping `fusion_key` (`y_m`) and each modality to float
            `(batch,)`.
        """
        index = self._index(index)
        y_m = ops.reshape(ops.cast(multimodal_labels, "float32"), (-1,))
        seen = ops.take(self.visits, index, axis=0) > 0
        labels = {self.fusion_key: y_m}
        for key in self.modalities:
            stored = ops.take(self.label_tables[key], index, axis=0)
            labels[key] = ops.stop_gradient(ops.where(seen, stored, y_m))
        return labels

    def visit_epochs(self, index):
        """`n` of each sample at this visit: its visit count plus one."""
        visits = ops.take(self.visits, self._index(index), axis=0)
        return ops.cast(visits, "float32") + 1.0

    def relative_distance(self, key, features):
        """`δ = (d_n − d_p) / (d_p + ε)` against the stored centres."""
        features = ops.cast(features, "float32")
        centres = ops.convert_to_tensor(self.centres[key])
        d_p = ops.sqrt(ops.sum(ops.square(features - centres[0]), axis=-1))
        d_n = ops.sqrt(ops.sum(ops.square(features - centres[1]), axis=-1))
        return (d_n - d_p) / (d_p + self.epsilon)

    def relative_distance_labels(self, multimodal_labels, features):
        """ULGM's `ỹ_s` (before clamping) from the stored centres."""
        y_m = ops.reshape(ops.cast(multimodal_labels, "float32"), (-1,))
        delta_m = self.relative_distance(
            self.fusion_key, features[self.fusion_key]
        )
        new_labels = {}
        for key in self.modalities:
            delta_s = self.relative_distance(key, features[key])
            alpha = delta_s / (delta_m + self.epsilon)
            new_labels[key] = 0.5 * alpha * y_m + 0.5 * (
                y_m + delta_s - delta_m
            )
        return new_labels

    # --- writing -----------------------------------------------------------
    def update(self, index, multimodal_labels, features, generated_labels=None):
        """One training step of the label state; returns the labels read.

        Args:
            index: int `(batch,)`. Training-sample ids (distinct).
            multimodal_labels: float `(batch,)` or `(batch, 1)`. `y_m`.
            features: dict of float `(batch, dim_k)` for `fusion_key` and
                each modality (detached here).
            generated_labels: optional dict mapping each modality to float
                `(batch,)` or `(batch, 1)`: candidate labels `ỹ_s` (ULG_MI)
                used instead of the relative-distance rule. Detached here.

        Returns:
            dict of float `(batch,)`: the labels as they were before this
            update (`fusion_key` maps to `y_m`).
        """
        index = self._index(index)
        y_m = ops.reshape(ops.cast(multimodal_labels, "float32"), (-1,))
        features = {
            key: ops.stop_gradient(ops.cast(features[key], "float32"))
            for key in self.keys
        }
        old_labels = self.read_labels(index, y_m)
        n = self.visit_epochs(index)
        if generated_labels is None:
            candidates = self.relative_distance_labels(y_m, features)
        else:
            candidates = {
                key: ops.reshape(
                    ops.stop_gradient(
                        ops.cast(generated_labels[key], "float32")
                    ),
                    (-1,),
                )
                for key in self.modalities
            }
        # Data parallel: every replica writes the rows of the whole global
        # batch (gathered), so the tables stay identical on all replicas;
        # the labels returned are this replica's rows.
        gather = distribute.gather_replicas
        scatter_index = ops.expand_dims(gather(index), -1)
        for key in self.modalities:
            candidate = ops.clip(
                candidates[key], -self.label_range, self.label_range
            )
            smoothed = (n - 1.0) / (n + 1.0) * old_labels[key] + 2.0 / (
                n + 1.0
            ) * candidate
            # First visit (epoch 1): the label stays y_m.
            new = ops.where(n > 1.0, smoothed, old_labels[key])
            self.label_tables[key].assign(
                ops.scatter_update(
                    self.label_tables[key], scatter_index, gather(new)
                )
            )
        self.label_tables[self.fusion_key].assign(
            ops.scatter_update(
                self.label_tables[self.fusion_key], scatter_index, gather(y_m)
            )
        )
        for key in self.keys:
            self.feature_tables[key].assign(
                ops.scatter_update(
                    self.feature_tables[key],
                    scatter_index,
                    gather(features[key]),
                )
            )
        visits = ops.take(self.visits, scatter_index[:, 0], axis=0)
        self.visits.assign(
            ops.scatter_update(self.visits, scatter_index, visits + 1)
        )
        self.update_centres()
        return old_labels

    def update_centres(self):
        """Recomputes every centre from the full label/feature tables."""
        seen = ops.cast(ops.convert_to_tensor(self.visits) > 0, "float32")
        for key in self.keys:
            labels = ops.convert_to_tensor(self.label_tables[key])
            table = ops.convert_to_tensor(self.feature_tables[key])
            positive = labels > 0 if self.exclude_zero else labels >= 0
            members = (
                ops.stack(
                    [
                        ops.cast(positive, "float32"),
                        ops.cast(labels < 0, "float32"),
                    ],
                    axis=0,
                )
                * seen
            )
            sums = ops.matmul(members, table)
            counts = ops.maximum(ops.sum(members, axis=-1, keepdims=True), 1.0)
            self.centres[key].assign(sums / counts)

    def get_config(self):
        return {
            **super().get_config(),
            "num_train_samples": self.num_train_samples,
            "modalities": list(self.modalities),
            "fusion_key": self.fusion_key,
            "label_range": self.label_range,
            "exclude_zero": self.exclude_zero,
            "epsilon": self.epsilon,
        }
