"""`ResumableBackup`: crash-safe `BackupAndRestore` that resumes exactly."""

import json
import os

import keras
import numpy as np

from msakeras.backend import global_rng_state
from msakeras.backend import keras_internals
from msakeras.callbacks import atomic_files
from msakeras.models import msa_model

_STATE_FILE = "state.json"
# Attributes of Keras's monitoring callbacks that `fit` does not rebuild.
_CALLBACK_ATTRIBUTES = ("best", "wait", "stopped_epoch", "best_epoch")


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` with atomic files and the whole training state.

    Keras's `BackupAndRestore` writes `latest.weights.h5` and its metadata
    in place, one after the other, and saves neither the random-number
    state of dropout layers, nor the state of other callbacks
    (`ModelCheckpoint.best`, `EarlyStopping.wait`), nor the shuffling epoch
    of the training data. A run killed while writing loses its backup, and
    a resumed run diverges from an uninterrupted one. At the end of every
    epoch this callback writes, each through a temporary file and
    `os.replace`:

    1. `epoch_<N>.weights.h5`: model and optimizer variables
       (`model.save_weights`);
    2. `epoch_<N>.npz`: every `SeedGenerator` state of the model, the
       global random states (torch's global generator drives unseeded
       dropout under torch; `msakeras.backend.global_rng_state`) and the
       variables of an `MSAModel`'s `auxiliary_optimizers()` (e.g. MMIM's
       stage-1 optimizer) and the
       `resume_state()` arrays of `datasets` that have one (e.g. the
       candidate lists of `msakeras.data.ContrastivePairSampler`, which
       follow the model's features at the last refresh);
    3. `state.json`, the commit point: the epoch, the two file names, the
       state of `stateful_callbacks` (`best`, `wait`, `stopped_epoch`,
       `best_epoch`), the `epoch` of `datasets`, and whether training has
       finished (early stopping included);

    then removes the files of older epochs. A kill at any moment leaves a
    complete, consistent backup. On `on_train_begin` it restores all of it,
    and truncates `history_csv` (a `CSVLogger` file) to the restored
    epochs, so `fit` continues as if never interrupted: the same seed and
    backend give the same final weights. Place it **after** the callbacks
    it restores (their own `on_train_begin` resets them) and after the
    checkpoint and logging callbacks (so their epoch is written before the
    commit).

    Args:
        backup_dir: str. Folder of the backup (used by nothing else).
        stateful_callbacks: list of callbacks whose monitoring state is
            saved and restored. Defaults to `()`.
        datasets: list of training `PyDataset`s with an `epoch` (and
            `set_epoch`), such as `msakeras.data.FeatureSequence`. A
            dataset with `resume_state()` (a dict of NumPy arrays) and
            `restore_resume_state(state)` has that state saved and
            restored too (after its epoch). Defaults to `()`.
        history_csv: str or None. A `CSVLogger(append=True)` file to cut
            back to the restored epochs. Defaults to `None`.
        delete_checkpoint: bool. Delete the backup when `fit` ends. Keep
            it (`False`) when a later step (scoring, records) may still be
            killed: a finished backup makes a resumed `fit` a no-op.
            Defaults to `True`.

    Example:

    ```python
    backup = msakeras.callbacks.ResumableBackup(
        "run/backup", stateful_callbacks=[checkpoint, early_stopping],
        datasets=[train], history_csv="run/history.csv")
    model.fit(train, validation_data=valid, epochs=10,
              callbacks=[checkpoint, early_stopping, logger, backup])
    ```
    """

    def __init__(
        self,
        backup_dir,
        stateful_callbacks=(),
        datasets=(),
        history_csv=None,
        delete_checkpoint=True,
    ):
        super().__init__(
            backup_dir, save_freq="epoch", delete_checkpoint=delete_checkpoint
        )
        self.stateful_callbacks = list(stateful_callbacks)
        self.datasets = list(datasets)
        self.history_csv = history_csv
        self.restored_epoch = None

    # --- state collection ---------------------------------------------------
    def _seed_states(self):
        return keras_internals.seed_generator_states(self.model)

    def _auxiliary_optimizers(self):
        if isinstance(self.model, msa_model.MSAModel):
            return list(self.model.auxiliary_optimizers())
        return []

    def _extra_variables(self):
        variables = {}
        for i, state in enumerate(self._seed_states()):
            variables[f"seed/{i}"] = state
        for j, optimizer in enumerate(self._auxiliary_optimizers()):
            for i, variable in enumerate(optimizer.variables):
                variables[f"optimizer{j}/{i}"] = variable
        return variables

    def _callback_states(self):
        states = []
        for callback in self.stateful_callbacks:
            state = {}
            for name in _CALLBACK_ATTRIBUTES:
                if hasattr(callback, name):
                    state[name] = _plain(getattr(callback, name))
            states.append(state)
        return states

    # --- saving ---------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._write(finished=bool(self.model.stop_training))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint:
            super().on_train_end(logs)
        elif os.path.isfile(self._state_path()):
            self._write(finished=True)

    def _state_path(self):
        return os.path.join(self.backup_dir, _STATE_FILE)

    def _write(self, finished):
        os.makedirs(self.backup_dir, exist_ok=True)
        epoch = self._current_epoch
        weights_name = f"epoch_{epoch}.weights.h5"
        extra_name = f"epoch_{epoch}.npz"
        with atomic_files.atomic_output_path(
            os.path.join(self.backup_dir, weights_name)
        ) as temporary:
            self.model.save_weights(temporary, overwrite=True)
        extra = {
            name: keras.ops.convert_to_numpy(variable)
            for name, variable in self._extra_variables().items()
        }
        rng_states = global_rng_state.get_global_rng_state()
        extra.update(
            {f"rng/{name}": value for name, value in rng_states.items()}
        )
        for i, dataset in enumerate(self.datasets):
            if hasattr(dataset, "resume_state"):
                extra.update(
                    {
                        f"dataset{i}/{name}": np.asarray(value)
                        for name, value in dataset.resume_state().items()
                    }
                )
        with atomic_files.atomic_output_path(
            os.path.join(self.backup_dir, extra_name)
        ) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, **extra)
        state = {
            "epoch": epoch,
            "finished": finished,
            "weights": weights_name,
            "extra": extra_name,
            "callbacks": self._callback_states(),
            "datasets": [
                int(getattr(dataset, "epoch", 0)) for dataset in self.datasets
            ],
        }
        with atomic_files.atomic_output_path(self._state_path()) as temporary:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=1)
        for name in os.listdir(self.backup_dir):
            if name not in (_STATE_FILE, weights_name, extra_name):
                path = os.path.join(self.backup_dir, name)
                if os.path.isfile(path):
                    os.remove(path)

    # --- restoring ------------------------------------------------------------
    def on_train_begin(self, logs=None):
        path = self._state_path()
        if not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(self.backup_dir, state["weights"]))
        variables = self._extra_variables()
        with np.load(os.path.join(self.backup_dir, state["extra"])) as extra:
            rng_names = [
                name for name in extra.files if name.startswith("rng/")
            ]
            global_rng_state.set_global_rng_state(
                {name[len("rng/") :]: extra[name] for name in rng_names}
            )
            dataset_states = _dataset_states(extra, len(self.datasets))
            saved_names = [
                name
                for name in extra.files
                if name not in rng_names and not name.startswith("dataset")
            ]
            if sorted(saved_names) != sorted(variables):
                raise ValueError(
                    f"Backup '{path}' holds {len(saved_names)} extra "
                    f"variables but the model has {len(variables)}: it was "
                    "written by a different model. Remove the backup "
                    "folder to start afresh."
                )
            for name, variable in variables.items():
                variable.assign(extra[name])
        for callback, saved in zip(self.stateful_callbacks, state["callbacks"]):
            for name, value in saved.items():
                setattr(callback, name, value)
        for i, (dataset, epoch) in enumerate(
            zip(self.datasets, state["datasets"])
        ):
            if hasattr(dataset, "set_epoch"):
                dataset.set_epoch(epoch)
            else:
                dataset.epoch = epoch
            if hasattr(dataset, "restore_resume_state"):
                if i not in dataset_states:
                    raise ValueError(
                        f"Backup '{path}' holds no resume state for dataset "
                        f"{i} ({type(dataset).__name__}): it was written "
                        "by a different setup. Remove the backup folder to "
                        "start afresh."
                    )
                dataset.restore_resume_state(dataset_states[i])
        epoch = int(state["epoch"])
        if state.get("finished"):
            epoch = max(epoch, int(self.params.get("epochs") or epoch))
        self._current_epoch = int(state["epoch"])
        keras_internals.set_initial_epoch(model, epoch)
        self.restored_epoch = int(state["epoch"])
        if self.history_csv is not None:
            _truncate_history(self.history_csv, int(state["epoch"]))


def _dataset_states(extra, count):
    """`{i: {name: array}}` from the `dataset<i>/<name>` entries of a
    backup's `.npz` (read before the file closes)."""
    states = {}
    for key in extra.files:
        if not key.startswith("dataset"):
            continue
        prefix, name = key.split("/", 1)
        index = int(prefix[len("dataset") :])
        if index < count:
            states.setdefault(index, {})[name] = extra[key]
    return states


def _plain(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    try:
        return float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return None


def _truncate_history(path, epochs):
    """Keeps the header and the rows of the first `epochs` epochs of a CSV
    log, numbered from its first row's epoch (1 for `EpochCSVLogger`, 0
    for Keras's `CSVLogger`)."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as handle:
        lines = handle.readlines()
    if len(lines) < 2:
        return
    first = int(lines[1].split(",", 1)[0])
    kept = lines[:1] + [
        line
        for line in lines[1:]
        if int(line.split(",", 1)[0]) < first + epochs
    ]
    if kept == lines:
        return
    with atomic_files.atomic_output_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.writelines(kept)
