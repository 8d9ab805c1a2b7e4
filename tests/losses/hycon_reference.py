"""NumPy references of HyCon's losses: loops over anchors, literal formulas.

Anchor `(i, m)` is sample `i`'s modality-`m` vector. Each function returns
a `{(i, m): term}` dict holding only the anchors that contribute (those
with at least one positive for the supervised terms), as the paper's
eqs. 6-12 read, with the guards of `docs/models/hycon.md`
"""

import keras
import numpy as np
from keras import ops


def similarity(u, w, kind="shifted_cosine"):
    norm_u = max(np.sqrt(np.sum(u * u)), 1e-6)
    norm_w = max(np.sqrt(np.sum(w * w)), 1e-6)
    cosine = float(np.sum(u * w) / (norm_u * norm_w))
    return 0.5 * (1.0 + cosine) if kind == "shifted_cosine" else cosine


def polarity(label, zero_label_class):
    """Class 1/0 of a label, or None when it takes no part."""
    if zero_label_class == "non_negative":
        return int(label >= 0)
    if zero_label_class == "non_positive":
        return int(label > 0)
    return None if label == 0 else int(label > 0)


def scl_terms(embeddings, margin=0.8, kind="shifted_cosine"):
    batch, modalities, _ = embeddings.shape
    terms = {}
    for i in range(batch):
        for m in range(modalities):
            total = 0.0
            for n in range(modalities):
                if n != m:
                    s = similarity(embeddings[i, m], embeddings[i, n], kind)
                    total += (s - margin) ** 2
            terms[(i, m)] = total / (modalities - 1)
    return terms


def _pairs(labels, i, zero_label_class):
    classes = [polarity(label, zero_label_class) for label in labels]
    if classes[i] is None:
        return [], []
    positives = [
        j for j in range(len(labels)) if j != i and classes[j] == classes[i]
    ]
    negatives = [
        j
        for j in range(len(labels))
        if classes[j] is not None and classes[j] != classes[i]
    ]
    return positives, negatives


def _ratio(positive_sum, negative_sum, has_negatives):
    if not has_negatives:
        return 1.0  # single-class batch: the guard of `docs/models/hycon.md`
    return positive_sum / (positive_sum + negative_sum + 1e-8)


def iamcl_terms(
    labels,
    embeddings,
    refinement=True,
    kind="shifted_cosine",
    zero_label_class="non_negative",
):
    batch, modalities, _ = embeddings.shape
    terms = {}
    for i in range(batch):
        positives, negatives = _pairs(labels, i, zero_label_class)
        if not positives:
            continue
        for m in range(modalities):
            anchor = embeddings[i, m]
            p = [similarity(anchor, embeddings[j, m], kind) for j in positives]
            q = [similarity(anchor, embeddings[j, m], kind) for j in negatives]
            term = -_ratio(sum(p), sum(q), bool(q))  # eq. 7
            if refinement:  # eq. 8
                term += sum((s - 1.0) ** 2 for s in p) / len(p)
            terms[(i, m)] = term
    return terms


def iemcl_terms(
    labels,
    embeddings,
    margin=0.8,
    refinement=True,
    kind="shifted_cosine",
    zero_label_class="non_negative",
):
    batch, modalities, _ = embeddings.shape
    terms = {}
    for i in range(batch):
        positives, negatives = _pairs(labels, i, zero_label_class)
        if not positives:
            continue
        for m in range(modalities):
            anchor = embeddings[i, m]
            others = [n for n in range(modalities) if n != m]
            p = [
                similarity(anchor, embeddings[j, n], kind)
                for j in positives
                for n in others
            ]
            q = [
                similarity(anchor, embeddings[j, n], kind)
                for j in negatives
                for n in others
            ]
            term = -_ratio(sum(p), sum(q), bool(q))  # eq. 10
            if refinement:  # eq. 11: 1/(2N) Σ (s - α)²
                term += sum((s - margin) ** 2 for s in p) / len(p)
            terms[(i, m)] = term
    return terms


def mean_over_anchors(terms):
    return float(np.mean(list(terms.values()))) if terms else 0.0


def per_sample(terms, batch, modalities, anchor_reduction="mean"):
    """The per-sample values the msakeras functions return."""
    values = np.zeros(batch)
    valid = sorted({i for i, _ in terms})
    for i in valid:
        anchors = [terms[(i, m)] for m in range(modalities)]
        if anchor_reduction == "sum":
            values[i] = np.sum(anchors)
        else:
            values[i] = np.mean(anchors) * batch / len(valid)
    return values


def gradient(function, embeddings):
    """d sum(function(embeddings)) / d embeddings, on the active backend."""
    variable = keras.Variable(embeddings)
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = ops.sum(function(variable))
        return ops.convert_to_numpy(tape.gradient(value, variable.value))
    if keras.config.backend() == "torch":
        import torch

        value = ops.sum(function(variable))
        return ops.convert_to_numpy(
            torch.autograd.grad(value, variable.value)[0]
        )
    import jax

    return np.asarray(
        jax.grad(lambda x: ops.sum(function(x)))(
            ops.convert_to_tensor(embeddings)
        )
    )
