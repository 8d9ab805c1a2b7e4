"""Refuses recipe arguments that would fail late or silently.

Checked before any data is read or any model built: `--epochs` and
`--batch-size` positive, `--patience` non-negative, seeds in
`[0, 2**32 - 1]` (what NumPy, TensorFlow and torch generators all accept)
and distinct, `--max-train-samples` positive.
"""

MAX_SEED = 2**32 - 1


def check_run_arguments(hyperparameters, seeds, max_train_samples=None):
    """Raises one `ValueError` naming the first bad flag.

    Args:
        hyperparameters: dict with `epochs`, `batch_size` and optionally
            `patience` (after the command-line overrides).
        seeds: list of int.
        max_train_samples: int or None.
    """
    epochs = hyperparameters.get("epochs")
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs must be at least 1, got {epochs}.")
    batch_size = hyperparameters.get("batch_size")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}.")
    patience = hyperparameters.get("patience")
    if patience is not None and patience < 0:
        raise ValueError(f"--patience must be 0 or more, got {patience}.")
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(
                f"--seeds: {seed} is outside [0, {MAX_SEED}] (2**32 - 1)."
            )
    duplicates = sorted({seed for seed in seeds if list(seeds).count(seed) > 1})
    if duplicates:
        raise ValueError(
            f"--seeds: {duplicates} given more than once; each seed is one "
            "run folder."
        )
    if max_train_samples is not None and max_train_samples < 1:
        raise ValueError(
            f"--max-train-samples must be at least 1, got {max_train_samples}."
        )
