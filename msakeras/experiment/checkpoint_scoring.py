"""Scores the selected checkpoint on the one sealed test read.

The MMSA metric set first, then any extra protocol (MAG-BERT) and the
unimodal heads from the same prediction; the ridge baselines are fitted on
the training split, read in batches, and scored on the same test data.
"""

import os

import keras
import numpy as np

from msakeras import data as msa_data
from msakeras import metrics
from msakeras.data.schema import REQUIRED_KEYS

# What the ridge baselines read of a split: the inputs and the label.
RIDGE_KEYS = REQUIRED_KEYS[: REQUIRED_KEYS.index("label") + 1]


def evaluate_checkpoint(run, directory, test):
    """Scores the selected `model.keras` on the test data read once."""
    return checkpoint_evaluator()(run, directory, test)


def checkpoint_evaluator(extra_protocols=(), unimodal_heads=()):
    """An `evaluate` for `train_seeds` that also scores other protocols.

    The MMSA keys come first, unchanged; each extra protocol's scores
    follow with a prefix (`"mag_bert"` gives `MAGBERT_Mult_acc_7`,
    `MAGBERT_Acc_2`, `MAGBERT_F1_score`, `MAGBERT_MAE`, `MAGBERT_Corr`;
    `docs/protocol.md`), from the same single test prediction.

    `unimodal_heads` (e.g. `("text", "audio", "vision")` for Self-MI):
    the model's `<modality>_sentiment` outputs of that same prediction are
    scored against the split's human unimodal labels `label_<modality>`
    (SIMS files have them), and `evaluate` returns `(scores, extra)` with
    `extra = {"unimodal_test": {modality: scores}}` (`None` when the file
    has no unimodal labels); `train_seeds` stores `extra` in `run.json`.
    No second test read: the test split opens once, behind the seal.
    """

    def evaluate(run, directory, test):
        # `test`: the HeldOutTestData of the one sealed read.
        model = keras.models.load_model(
            os.path.join(directory, "model.keras"), compile=False
        )  # predicts only: no optimizer to revive (no warnings)
        outputs = test.predict(
            model, batch_size=run.hyperparameters["batch_size"]
        )
        predictions = outputs["sentiment"].reshape(-1)
        labels = test.labels()
        scores = metrics.sentiment_scores(predictions, labels, run.dataset)
        for protocol in extra_protocols:
            prefix = protocol.replace("_", "").upper()
            extra = metrics.sentiment_scores(
                predictions, labels, run.dataset, protocol=protocol
            )
            scores.update(
                {f"{prefix}_{key}": value for key, value in extra.items()}
            )
        if not unimodal_heads:
            return scores
        return scores, {
            "unimodal_test": unimodal_head_scores(
                run, outputs, test, unimodal_heads
            )
        }

    return evaluate


def unimodal_head_scores(run, outputs, test, modalities):
    """`{modality: scores}` of the `<modality>_sentiment` outputs against
    the human unimodal labels `label_<modality>` of `test` (the
    `HeldOutTestData` of the sealed read), or `None` without them."""
    if not all(test.has(f"label_{modality}") for modality in modalities):
        return None
    scores = {}
    for modality in modalities:
        key = f"{modality}_sentiment"
        if key not in outputs:
            raise ValueError(
                f"Checkpoint has no output {key!r} to score against the "
                f"test split's 'label_{modality}' of '{test.path}'; its "
                f"outputs are {sorted(outputs)}."
            )
        scores[modality] = metrics.sentiment_scores(
            np.reshape(outputs[key], (-1,)),
            test.labels(f"label_{modality}"),
            run.dataset,
        )
    return scores


def ridge_baselines(run, test):
    """Single-modality (and all-feature) NumPy ridge baselines.

    Fitted on train (alpha by leave-one-out on train), scored on `test`, the
    `HeldOutTestData` of the first seed's sealed read: no extra test read.
    Both splits are read in batches (`msakeras.data.iterate_split`).
    """
    return metrics.ridge_baselines_from_batches(
        lambda: msa_data.iterate_split(run.data, "train", RIDGE_KEYS),
        test.batches(RIDGE_KEYS),
        run.dataset,
        alpha="auto",
    )
