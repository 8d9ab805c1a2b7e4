"""The standard Keras callbacks of a recipe run and its selection rule.

Test-only callbacks (the resume tests' kill at a batch) are added by the
tests themselves (tests/hooks/sitecustomize.py), never read here.
"""

import importlib.util
import os

import keras

from msakeras import callbacks as msa_callbacks
from msakeras.backend import tensorflow_guard
from msakeras.experiment.selection_rule import SelectionRule

# Model selection: best validation MAE; the test split opens only after it
# is sealed (msakeras.experiment.selection_rule).

SELECTION = SelectionRule(monitor="val_mae", mode="min")


def standard_callbacks(run, directory, datasets=()):
    """The standard Keras callbacks of a recipe run, in a safe order.

    `NonFiniteLossGuard` comes first: on a NaN/inf loss term it raises
    before any later `on_epoch_end` writes a checkpoint, backup or history
    row. `ResumableBackup` comes last: it restores the state of the
    checkpoint and early-stopping callbacks (after their `on_train_begin`)
    and commits each epoch only after they have written theirs.
    """
    # `patience: None` in a recipe's table: the paper's fixed budget, no
    # early stopping unless --patience is given (finish_args sets it).
    # `run`: the run's `RunSettings`.
    patience = run.hyperparameters.get("patience", 10)
    history_csv = os.path.join(directory, "history.csv")
    checkpoint = selection_rule(run).checkpoint_callback(
        os.path.join(directory, "model.keras")
    )
    stateful = [checkpoint]
    if patience is not None:
        stateful.append(selection_rule(run).early_stopping(patience))
    standard = [
        msa_callbacks.NonFiniteLossGuard(),
        *stateful,
        # history.csv numbers epochs from 1, as run.json and the bar do.
        msa_callbacks.EpochCSVLogger(history_csv, append=run.resume),
        *tensorboard_callback(directory, requested=run.tensorboard),
        msa_callbacks.ResumableBackup(
            os.path.join(directory, "backup"),
            stateful_callbacks=stateful,
            datasets=datasets,
            history_csv=history_csv,
            delete_checkpoint=False,
        ),
    ]
    # Keras's bar without diagnostic counters (entropy_skipped_classes
    # stays in history.csv and run.json).
    standard.append(msa_callbacks.ProgressBar())
    return standard


def selection_rule(run):
    """The recipe's `SelectionRule` (`run.selection`), else `SELECTION`."""
    return run.selection or SELECTION


def tensorboard_callback(directory, requested=False):
    """`[keras.callbacks.TensorBoard]`, or `[]`.

    Keras writes TensorBoard logs through `tf.summary` under every backend.
    Under TensorFlow they are always written. Under torch or JAX the recipe
    keeps TensorFlow out of the process (`tensorflow_guard`), so the logs
    are written only when `requested` (`--tensorboard`), which loads
    TensorFlow. An environment without TensorFlow (a torch- or JAX-only GPU
    image) still trains; the logs are skipped with a message.
    """
    if tensorflow_guard.tensorflow_blocked():
        if not requested:
            return []
        tensorflow_guard.allow_tensorflow()
    if importlib.util.find_spec("tensorflow") is None:
        print("TensorFlow is not installed: no TensorBoard logs.")
        return []
    return [
        keras.callbacks.TensorBoard(
            os.path.join(directory, "tensorboard"), write_graph=False
        )
    ]


# Test hook (tests/recipes/test_resume_and_determinism.py): SIGKILL this
