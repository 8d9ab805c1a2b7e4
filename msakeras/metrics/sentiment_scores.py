"""The MMSA evaluation protocol in NumPy, over a full split.

Formulas follow `thuiar/MMSA` `utils/metricsTop.py` (also MMIM's
`eval_metrics.py` and DashFusion's `Metrics`), see `docs/protocol.md`:
float64, NumPy half-to-even rounding, weighted F1 as scikit-learn's
`f1_score(average="weighted")`, re-implemented here in NumPy.
"""

import warnings

import numpy as np

from msakeras.data import schema

MOSI_KEYS = (
    "Has0_acc_2",
    "Has0_F1_score",
    "Non0_acc_2",
    "Non0_F1_score",
    "Mult_acc_5",
    "Mult_acc_7",
    "MAE",
    "Corr",
)
"""Keys returned for MOSI and MOSEI (MMSA's names)."""

SIMS_KEYS = (
    "Mult_acc_2",
    "Mult_acc_3",
    "Mult_acc_5",
    "F1_score",
    "MAE",
    "Corr",
)
"""Keys returned for SIMS (MMSA's names)."""

MAG_BERT_KEYS = ("Mult_acc_7", "Acc_2", "F1_score", "MAE", "Corr")
"""Keys of the MAG-BERT / MIB protocol (`protocol="mag_bert"`)."""

# SIMS inner bin edges; bins are left-open, right-closed within
# (-1.01, 1.01], as in MMSA's `__eval_sims_regression`.
_SIMS_EDGES = {
    2: (0.0,),
    3: (-0.1, 0.1),
    5: (-0.7, -0.1, 0.1, 0.7),
}


def weighted_f1_score(labels, predictions):
    """Support-weighted F1 over classes, as scikit-learn's `"weighted"`.

    Classes are the union of those in `labels` and `predictions`; a class
    with no predicted or no true members has F1 0 (scikit-learn's
    `zero_division` default); each class's F1 is weighted by its support
    in `labels`.

    Args:
        labels: array of class ids (ints or bools), shape `(N,)`.
        predictions: array of class ids, shape `(N,)`.

    Returns:
        A float; NaN when `labels` is empty.

    Example:

    >>> weighted_f1_score([1, 1, 0, 0], [1, 0, 0, 0])
    0.7333...
    """
    labels = np.asarray(labels).reshape(-1)
    predictions = np.asarray(predictions).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"`labels` {labels.shape} and `predictions` {predictions.shape} "
            "must have the same shape."
        )
    if labels.size == 0:
        return float("nan")
    total = 0.0
    for value in np.union1d(labels, predictions):
        true_positive = np.sum((labels == value) & (predictions == value))
        predicted = np.sum(predictions == value)
        support = np.sum(labels == value)
        denominator = predicted + support
        f1 = 2.0 * true_positive / denominator if denominator else 0.0
        total += f1 * support
    return float(total / labels.size)


def _accuracy(labels, predictions):
    if labels.size == 0:
        return float("nan")
    return float(np.mean(labels == predictions))


def _correlation(predictions, labels):
    """Pearson correlation; NaN (no warning) if either side is constant."""
    if predictions.size < 2:
        return float("nan")
    with (
        np.errstate(divide="ignore", invalid="ignore"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.corrcoef(predictions, labels)[0, 1])


def _multiclass_accuracy(predictions, labels, bound):
    clipped_predictions = np.clip(predictions, -bound, bound)
    clipped_labels = np.clip(labels, -bound, bound)
    return _accuracy(np.round(clipped_labels), np.round(clipped_predictions))


def _mosi_scores(predictions, labels):
    non_zero = labels != 0
    non_zero_labels = labels[non_zero] > 0
    non_zero_predictions = predictions[non_zero] > 0
    has_zero_labels = labels >= 0
    has_zero_predictions = predictions >= 0
    return {
        "Has0_acc_2": _accuracy(has_zero_labels, has_zero_predictions),
        "Has0_F1_score": weighted_f1_score(
            has_zero_labels, has_zero_predictions
        ),
        "Non0_acc_2": _accuracy(non_zero_labels, non_zero_predictions),
        "Non0_F1_score": weighted_f1_score(
            non_zero_labels, non_zero_predictions
        ),
        "Mult_acc_5": _multiclass_accuracy(predictions, labels, 2.0),
        "Mult_acc_7": _multiclass_accuracy(predictions, labels, 3.0),
        "MAE": float(np.mean(np.abs(predictions - labels))),
        "Corr": _correlation(predictions, labels),
    }


def sims_bins(values, num_classes):
    """SIMS class ids of values already clipped to [-1, 1].

    Bins are left-open, right-closed: 2 classes `(-1.01, 0]`, `(0, 1.01]`;
    3 classes split at -0.1 and 0.1; 5 classes at -0.7, -0.1, 0.1, 0.7.

    Args:
        values: float array.
        num_classes: int. 2, 3 or 5.

    Returns:
        An int array of class ids, `0..num_classes - 1`.
    """
    if num_classes not in _SIMS_EDGES:
        raise ValueError(f"`num_classes` must be 2, 3 or 5, got {num_classes}.")
    # searchsorted(side="left") counts the edges strictly below each
    # value, i.e. right-closed bins.
    return np.searchsorted(_SIMS_EDGES[num_classes], values, side="left")


def _sims_scores(predictions, labels):
    predictions = np.clip(predictions, -1.0, 1.0)
    labels = np.clip(labels, -1.0, 1.0)
    scores = {}
    for num_classes in (2, 3, 5):
        scores[f"Mult_acc_{num_classes}"] = _accuracy(
            sims_bins(labels, num_classes),
            sims_bins(predictions, num_classes),
        )
    scores["F1_score"] = weighted_f1_score(
        sims_bins(labels, 2), sims_bins(predictions, 2)
    )
    scores["MAE"] = float(np.mean(np.abs(predictions - labels)))
    scores["Corr"] = _correlation(predictions, labels)
    return {key: scores[key] for key in SIMS_KEYS}


def _mag_bert_scores(predictions, labels):
    non_zero = labels != 0
    kept_predictions = predictions[non_zero]
    kept_labels = labels[non_zero]
    binary_labels = kept_labels >= 0
    binary_predictions = kept_predictions >= 0
    mae = (
        float(np.mean(np.abs(kept_predictions - kept_labels)))
        if kept_labels.size
        else float("nan")
    )
    return {
        "Mult_acc_7": _multiclass_accuracy(predictions, labels, 3.0),
        "Acc_2": _accuracy(binary_labels, binary_predictions),
        "F1_score": weighted_f1_score(binary_labels, binary_predictions),
        "MAE": mae,
        "Corr": _correlation(kept_predictions, kept_labels),
    }


def sentiment_scores(
    predictions, labels, dataset="mosi", protocol="mmsa", round_to=None
):
    """The MMSA sentiment metrics of a full split.

    MOSI / MOSEI (`protocol="mmsa"`): `Has0_acc_2` and `Has0_F1_score`
    (classes `y >= 0`, `p >= 0` over all samples); `Non0_acc_2` and
    `Non0_F1_score` (only samples whose *label* is not exactly 0, classes
    `y > 0`, `p > 0`); `Mult_acc_5` and `Mult_acc_7` (both sides clipped
    to [-2, 2] / [-3, 3] and rounded half-to-even); `MAE` and `Corr`
    (Pearson) on all samples, unclipped.

    SIMS: both sides clipped to [-1, 1] first; `Mult_acc_2/3/5` on
    left-open/right-closed bins (see `sims_bins`); `F1_score` weighted on
    the 2-class bins; `MAE` and `Corr` on the clipped values.

    MAG-BERT / MIB (`protocol="mag_bert"`, MOSI/MOSEI only; likely the
    protocol of the HyCon paper): `Mult_acc_7` on all samples; then
    samples with label 0 are dropped and `Acc_2`, `F1_score` (classes
    `y >= 0`, `p >= 0`), `MAE` and `Corr` are computed on the rest.

    F1 is support-weighted (`weighted_f1_score`). Computation is in
    float64. Degenerate cases return NaN rather than raising: `Corr` when
    predictions or labels are constant (or fewer than 2 samples), the
    `Non0_*` scores (and MAG-BERT scores after dropping) when every label
    is 0. Non-finite predictions propagate (NaN `MAE`/`Corr`, counted as
    wrong in accuracies); non-finite labels raise.

    Args:
        predictions: array-like of shape `(N,)` or `(N, 1)`.
        labels: array-like of shape `(N,)` or `(N, 1)`.
        dataset: str. `"mosi"`, `"mosei"` or `"sims"`; `"synthetic_<name>"`
            maps to `<name>`. Defaults to `"mosi"`.
        protocol: str. `"mmsa"` or `"mag_bert"`. Defaults to `"mmsa"`.
        round_to: int or None. Round every score to this many decimals, as
            MMSA does with 4. Defaults to `None` (unrounded floats).

    Returns:
        A dict of Python floats with MMSA's keys (`MOSI_KEYS`, `SIMS_KEYS`
        or `MAG_BERT_KEYS`), in that order. Accuracies and F1 are
        fractions in [0, 1] (papers print them x 100).

    Example:

    ```python
    predictions = model.predict(test_sequence)["sentiment"]
    scores = msakeras.metrics.sentiment_scores(
        predictions, test_sequence.get_labels(), dataset="mosi")
    scores["Has0_acc_2"], scores["MAE"]
    ```
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if predictions.ndim != 1 or predictions.shape != labels.shape:
        raise ValueError(
            "`predictions` and `labels` must both have shape (N,) or (N, 1) "
            f"with the same N; got {np.shape(predictions)} and "
            f"{np.shape(labels)}."
        )
    if predictions.size == 0:
        raise ValueError("`predictions` and `labels` are empty (N = 0).")
    if not np.all(np.isfinite(labels)):
        bad = int(np.argmax(~np.isfinite(labels)))
        raise ValueError(
            f"`labels` must be finite; sample {bad} is {labels[bad]}."
        )
    base = schema.base_dataset_name(dataset)
    if base not in ("mosi", "mosei", "sims"):
        raise ValueError(
            f"Unknown dataset {dataset!r}; expected 'mosi', 'mosei' or "
            "'sims' (optionally prefixed with 'synthetic_')."
        )
    if protocol == "mmsa":
        if base == "sims":
            scores = _sims_scores(predictions, labels)
        else:
            scores = _mosi_scores(predictions, labels)
    elif protocol == "mag_bert":
        if base == "sims":
            raise ValueError(
                "protocol='mag_bert' is defined for MOSI/MOSEI only, got "
                f"dataset {dataset!r}."
            )
        scores = _mag_bert_scores(predictions, labels)
    else:
        raise ValueError(
            f"Unknown protocol {protocol!r}; expected 'mmsa' or 'mag_bert'."
        )
    if round_to is not None:
        scores = {
            key: round(value, int(round_to)) for key, value in scores.items()
        }
    return scores
