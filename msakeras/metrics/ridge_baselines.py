"""Closed-form ridge baselines on simple per-modality features (NumPy).

Recipes print these beside a model's test scores: a model that does not
beat the `all` ridge has not learned much beyond simple statistics.
"""

import numpy as np

# The package exports the function under the module's name, so import the
# function itself rather than the (shadowed) module.
from msakeras.metrics.sentiment_scores import sentiment_scores

# Beyond this many distinct training tokens, token ids are hashed (modulo)
# into this many buckets to keep the design matrix small.
_MAX_TEXT_FEATURES = 4096


def _text_vocabulary(train_batches):
    """The sorted valid token ids of the training split, or `None` past
    `_MAX_TEXT_FEATURES` (then ids are hashed)."""
    vocabulary = np.zeros((0,), dtype=np.int64)
    for arrays in train_batches:
        ids = np.asarray(arrays["text_token_ids"]).astype(np.int64)
        mask = np.asarray(arrays["text_padding_mask"]).astype(bool)
        vocabulary = np.union1d(vocabulary, ids[mask])
        if vocabulary.size > _MAX_TEXT_FEATURES:
            return None
    return vocabulary


def _split_features(batches, vocabulary):
    """Per-sample features of each set and the labels, batch by batch.

    Every feature is a function of its own row, so the rows computed per
    batch are those of the whole split computed at once.
    """
    parts = {"text": [], "audio": [], "vision": [], "label": []}
    for arrays in batches:
        parts["text"].append(text_features(arrays, vocabulary))
        for modality in ("audio", "vision"):
            parts[modality].append(
                frame_statistics(arrays[modality], arrays[f"{modality}_mask"])
            )
        parts["label"].append(np.asarray(arrays["label"]).reshape(-1))
    features = {key: np.concatenate(values) for key, values in parts.items()}
    features["all"] = np.concatenate(
        [features[key] for key in ("text", "audio", "vision")], axis=1
    )
    return features


def text_features(arrays, vocabulary=None):
    """Mean of one-hot token vectors over the valid tokens of each sample.

    Args:
        arrays: dict with `text_token_ids` and `text_padding_mask`.
        vocabulary: sorted int array or None. Token ids with a column each;
            ids outside it are ignored. `None` hashes ids modulo 4096.

    Returns:
        A float64 array `(N, len(vocabulary))` (or `(N, 4096)`).
    """
    ids = np.asarray(arrays["text_token_ids"]).astype(np.int64)
    mask = np.asarray(arrays["text_padding_mask"]).astype(bool)
    num_samples = ids.shape[0]
    if vocabulary is None:
        width = _MAX_TEXT_FEATURES
        columns = ids % width
        known = mask
    else:
        width = vocabulary.size
        columns = np.clip(np.searchsorted(vocabulary, ids), 0, width - 1)
        known = mask & (vocabulary[columns] == ids)
    features = np.zeros((num_samples, width))
    rows = np.broadcast_to(np.arange(num_samples)[:, None], ids.shape)
    np.add.at(features, (rows[known], columns[known]), 1.0)
    lengths = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return features / lengths


def frame_statistics(features, mask):
    """Masked mean and standard deviation over valid frames.

    Args:
        features: float array `(N, T, F)`.
        mask: 0/1 array `(N, T)`.

    Returns:
        A float64 array `(N, 2 F)`: means then standard deviations (zeros
        for a sample without valid frames).
    """
    features = np.asarray(features, dtype=np.float64)
    weights = np.asarray(mask, dtype=np.float64)[:, :, None]
    counts = np.maximum(weights.sum(axis=1), 1.0)
    mean = (features * weights).sum(axis=1) / counts
    variance = (((features - mean[:, None, :]) ** 2) * weights).sum(axis=1)
    return np.concatenate([mean, np.sqrt(variance / counts)], axis=1)


def ridge_fit_predict(train_features, train_labels, test_features, alpha=1.0):
    """Closed-form ridge regression on standardised features.

    Features are standardised with training statistics and an unpenalised
    intercept is fitted. Solved through the SVD of the training matrix,
    which also gives exact leave-one-out errors for `alpha="auto"`.

    Args:
        train_features: float array `(N, D)`.
        train_labels: float array `(N,)`.
        test_features: float array `(M, D)`.
        alpha: float or `"auto"`. L2 penalty; `"auto"` picks from
            `10 ** [-2, ..., 5]` by leave-one-out error on the training
            set. Defaults to `1.0`.

    Returns:
        Test predictions, float64 `(M,)`.
    """
    train_features = np.asarray(train_features, dtype=np.float64)
    test_features = np.asarray(test_features, dtype=np.float64)
    train_labels = np.asarray(train_labels, dtype=np.float64).reshape(-1)
    mean = train_features.mean(axis=0)
    scale = train_features.std(axis=0)
    scale[scale == 0] = 1.0
    train_features = (train_features - mean) / scale
    test_features = (test_features - mean) / scale
    intercept = train_labels.mean()
    centred = train_labels - intercept
    left, singular, right = np.linalg.svd(train_features, full_matrices=False)
    projected = left.T @ centred
    squared = singular**2
    if isinstance(alpha, str):
        if alpha != "auto":
            raise ValueError(
                "`alpha` must be a non-negative float or 'auto', got "
                f"{alpha!r}."
            )
        best_error = np.inf
        for candidate in 10.0 ** np.arange(-2, 6):
            shrink = squared / (squared + candidate)
            fitted = left @ (shrink * projected)
            # Leave-one-out residuals of a linear smoother; the intercept's
            # own leverage (1 / N) is included.
            leverage = np.sum(left**2 * shrink, axis=1) + 1.0 / len(centred)
            residual = (centred - fitted) / np.maximum(1.0 - leverage, 1e-12)
            error = np.mean(residual**2)
            if error < best_error:
                best_error, alpha = error, candidate
    elif alpha < 0:
        raise ValueError(f"`alpha` must be non-negative, got {alpha}.")
    coefficients = singular / (squared + alpha)
    coefficients[squared == 0] = 0.0
    weights = right.T @ (coefficients * projected)
    return test_features @ weights + intercept


def single_modality_ridge_baselines(
    train_arrays, test_arrays, dataset, alpha=1.0
):
    """Ridge baselines per modality and on all features together.

    Features: text, the mean one-hot vector of the valid tokens (over the
    training vocabulary); audio and vision, the masked mean and standard
    deviation over valid frames. `all` concatenates the three.

    Args:
        train_arrays: dict of NumPy arrays of a split (as `load_split`
            returns), with the text, audio and vision keys and `label`.
        test_arrays: dict of NumPy arrays of the split to score.
        dataset: str. Dataset name for `sentiment_scores`.
        alpha: float or `"auto"`. L2 penalty of the ridge on standardised
            features; `"auto"` picks it per feature set by leave-one-out
            error on `train_arrays` (recommended when features outnumber
            samples, e.g. SIMS vision). Defaults to `1.0`.

    Returns:
        A dict `{"text": scores, "audio": scores, "vision": scores,
        "all": scores}` of `sentiment_scores` dicts on `test_arrays`.

    Example:

    ```python
    baselines = msakeras.metrics.single_modality_ridge_baselines(
        msakeras.data.load_split(path, "train"),
        msakeras.data.load_split(path, "test"), dataset="mosi")
    baselines["all"]["MAE"]
    ```
    """
    return ridge_baselines_from_batches(
        lambda: [train_arrays], [test_arrays], dataset, alpha=alpha
    )


def ridge_baselines_from_batches(train_batches, test_batches, dataset, alpha):
    """`single_modality_ridge_baselines` over splits read in batches.

    Only the per-sample feature rows (a bag of at most 4096 token columns,
    frame means and deviations) are held, never a split's sequences, so
    the baselines of a MOSEI-sized file need no whole-split read.

    Args:
        train_batches: callable returning a fresh iterable of batch dicts
            of the training split (it is read twice: vocabulary, then
            features), e.g. `lambda: msakeras.data.iterate_split(path,
            "train", keys)`.
        test_batches: iterable of batch dicts of the split to score.
        dataset: str. Dataset name for `sentiment_scores`.
        alpha: float or `"auto"`, as in `single_modality_ridge_baselines`.

    Returns:
        `{"text", "audio", "vision", "all"}` -> `sentiment_scores` dicts.
    """
    vocabulary = _text_vocabulary(train_batches())
    train = _split_features(train_batches(), vocabulary)
    test = _split_features(test_batches, vocabulary)
    results = {}
    for key in ("text", "audio", "vision", "all"):
        predictions = ridge_fit_predict(
            train[key], train["label"], test[key], alpha=alpha
        )
        results[key] = sentiment_scores(
            predictions, test["label"], dataset=dataset
        )
    return results
