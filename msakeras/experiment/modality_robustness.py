"""Test scores of a trained model with a modality removed or made noisy.

Perturbations, each applied to one modality of the held-out split while
the others stay clean:

- **removed**: the modality carries no information. Audio/vision become
  one zero frame (mask `1, 0, 0, ...`), text becomes the empty utterance
  `[CLS] [SEP]`; a single valid step keeps every masked pooling and
  attention defined, so the model sees "nothing said / shown" rather than
  an undefined all-masked row.
- **noise at level s**: audio/vision get `s * std_f * N(0, 1)` added on
  their valid frames, `std_f` being feature f's standard deviation over
  the split's valid frames (so `s` is in units of each feature's spread);
  text, whose inputs are ids, gets each real token between `[CLS]` and
  `[SEP]` replaced with probability `min(s, 1)` by a token drawn from the
  split's own tokens.
"""

import os

import numpy as np
import pandas as pd

from msakeras.experiment.held_out_test_split import predict_arrays

MODALITIES = ("text", "audio", "vision")
NOISE_LEVELS = (0.1, 0.25, 0.5, 1.0, 2.0)

_SEQUENCE_KEYS = {
    "text": ("text_token_ids", "text_padding_mask"),
    "audio": ("audio", "audio_mask"),
    "vision": ("vision", "vision_mask"),
}


def _lengths(mask):
    return np.asarray(mask).astype(bool).sum(axis=1)


def remove_modality(arrays, modality):
    """A copy of `arrays` with `modality` removed (see module docstring)."""
    _check(arrays, modality)
    result = dict(arrays)
    values_key, mask_key = _SEQUENCE_KEYS[modality]
    values, mask = np.asarray(arrays[values_key]), np.asarray(arrays[mask_key])
    new_mask = np.zeros_like(mask)
    if modality == "text":
        lengths = _lengths(mask)
        if np.any(lengths < 2):
            raise ValueError(
                "Text rows need at least [CLS] and [SEP] (2 valid tokens); "
                f"row {int(np.argmin(lengths))} has {int(lengths.min())}."
            )
        rows = np.arange(len(values))
        new_values = np.zeros_like(values)
        new_values[:, 0] = values[:, 0]
        new_values[:, 1] = values[rows, lengths - 1]  # each row's [SEP]
        new_mask[:, :2] = 1
        if "text_segment_ids" in arrays:
            result["text_segment_ids"] = np.zeros_like(
                arrays["text_segment_ids"]
            )
    else:
        new_values = np.zeros_like(values)
        new_mask[:, 0] = 1
    result[values_key] = new_values
    result[mask_key] = new_mask
    return result


def add_noise(arrays, modality, level, rng):
    """A copy of `arrays` with `modality` perturbed at noise `level`."""
    _check(arrays, modality)
    if level < 0:
        raise ValueError(f"Noise level must be >= 0, got {level}.")
    result = dict(arrays)
    values_key, mask_key = _SEQUENCE_KEYS[modality]
    values, mask = np.asarray(arrays[values_key]), np.asarray(arrays[mask_key])
    valid = mask.astype(bool)
    if modality == "text":
        lengths = _lengths(mask)
        steps = np.arange(values.shape[1])[None, :]
        inner = (steps >= 1) & (steps < (lengths - 1)[:, None])
        pool = np.unique(values[inner])
        if pool.size == 0:
            return result
        replace = inner & (rng.random(values.shape) < min(level, 1.0))
        noisy = values.copy()
        noisy[replace] = rng.choice(pool, size=int(replace.sum()))
        result[values_key] = noisy
        return result
    frames = values[valid].astype(np.float64)
    scale = frames.std(axis=0) if frames.size else np.zeros(values.shape[-1])
    noise = rng.standard_normal(values.shape) * scale * level
    result[values_key] = np.where(
        valid[..., None], values + noise, values
    ).astype(values.dtype)
    return result


def _check(arrays, modality):
    if modality not in _SEQUENCE_KEYS:
        raise ValueError(
            f"Unknown modality {modality!r}; expected one of {MODALITIES}."
        )
    for key in _SEQUENCE_KEYS[modality]:
        if key not in arrays:
            raise ValueError(
                f"The split has no {key!r} (keys: {sorted(arrays)})."
            )


def robustness_table(
    model,
    arrays,
    dataset,
    levels=NOISE_LEVELS,
    modalities=MODALITIES,
    seed=0,
    batch_size=32,
):
    """Scores under every perturbation, one row each.

    Args:
        model: a trained Keras model with a `sentiment` output.
        arrays: dict. One split as `msakeras.data.load_split` returns it.
        dataset: str. Metric protocol (`"mosi"`, `"mosei"`, `"sims"`).
        levels: floats. Noise levels (clean is always row 0).
        modalities: str. The modalities to perturb.
        seed: int. Seed of the noise draws (NumPy).
        batch_size: int. Prediction batch size.

    Returns:
        A `pandas.DataFrame` with columns `modality` (`"none"` for the
        clean row), `perturbation` (`clean`, `noise`, `removed`), `level`
        (NaN for removal), then the `sentiment_scores` keys.
    """
    from msakeras.metrics import sentiment_scores

    labels = np.asarray(arrays["label"], dtype=np.float64).reshape(-1)

    def score(perturbed):
        predictions = predict_arrays(model, perturbed, batch_size)
        return sentiment_scores(
            np.reshape(predictions["sentiment"], (-1,)), labels, dataset
        )

    rows = [
        {
            "modality": "none",
            "perturbation": "clean",
            "level": 0.0,
            **score(arrays),
        }
    ]
    rng = np.random.default_rng(seed)
    for modality in modalities:
        for level in levels:
            rows.append(
                {
                    "modality": modality,
                    "perturbation": "noise",
                    "level": float(level),
                    **score(add_noise(arrays, modality, level, rng)),
                }
            )
        rows.append(
            {
                "modality": modality,
                "perturbation": "removed",
                "level": np.nan,
                **score(remove_modality(arrays, modality)),
            }
        )
    return pd.DataFrame(rows)


def summarize_robustness(table, metrics):
    """Mean and `np.std` (ddof 0) of `metrics` over the `seed` column (one
    row per seed and perturbation), per modality, perturbation and level.

    Returns a `pandas.DataFrame` with `modality`, `perturbation`, `level`,
    `seeds` and `<metric>`/`<metric>_std` columns (std 0 without `seed`).
    """
    keys = ["modality", "perturbation", "level"]
    filled = table.assign(level=table["level"].fillna(-1.0))
    if "seed" not in filled:
        filled = filled.assign(seed=0)
    grouped = filled.groupby(keys, sort=False)
    summary = grouped[list(metrics)].mean()
    spread = grouped[list(metrics)].agg(lambda v: float(np.std(v)))
    summary = summary.join(spread.add_suffix("_std"))
    summary["seeds"] = grouped["seed"].nunique()
    summary = summary.reset_index()
    summary["level"] = summary["level"].where(summary["level"] >= 0)
    return summary


def robustness_figure(table, metrics=None, title=None):
    """The robustness plot as a matplotlib `Figure`.

    A row per metric (each axis one unit), a column per perturbation:
    "noise" (the metric against the noise level, a line per modality; level
    0 is the clean score) and "modality removed" (a bar per modality, the
    clean score as a dashed line). With a `seed` column (several trained
    seeds) every point is the mean over seeds with `np.std` error bars.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if metrics is None:
        candidates = ("MAE", "Has0_acc_2", "Mult_acc_2", "Mult_acc_3", "Corr")
        metrics = [name for name in candidates if name in table][:2]
    summary = summarize_robustness(table, metrics)
    seeds = int(summary["seeds"].max())
    clean = summary[summary["perturbation"] == "clean"].iloc[0]
    modalities = [m for m in MODALITIES if m in set(summary["modality"])]
    colours = {"text": "tab:blue", "audio": "tab:orange", "vision": "tab:green"}
    figure, axes = plt.subplots(
        len(metrics), 2, squeeze=False, figsize=(9.0, 3.2 * len(metrics) + 0.7)
    )
    for row, metric in enumerate(metrics):
        noise_axis, removed_axis = axes[row]
        for modality in modalities:
            noise = summary[
                (summary["modality"] == modality)
                & (summary["perturbation"] == "noise")
            ].sort_values("level")
            noise_axis.errorbar(
                [0.0] + noise["level"].tolist(),
                [clean[metric]] + noise[metric].tolist(),
                yerr=[clean[f"{metric}_std"]] + noise[f"{metric}_std"].tolist(),
                marker="o",
                markersize=4,
                capsize=3,
                color=colours[modality],
                label=modality,
            )
        noise_axis.set_title(f"noise: {metric}")
        noise_axis.set_xlabel("noise level (feature std / token swap rate)")
        noise_axis.set_ylabel(metric)
        noise_axis.grid(alpha=0.3)
        noise_axis.legend(fontsize=7)
        removed = summary[summary["perturbation"] == "removed"]
        present = [m for m in modalities if m in set(removed["modality"])]
        values = [removed[removed["modality"] == m].iloc[0] for m in present]
        removed_axis.bar(
            present,
            [value[metric] for value in values],
            yerr=[value[f"{metric}_std"] for value in values],
            capsize=4,
            color=[colours[m] for m in present],
        )
        removed_axis.axhline(
            clean[metric], color="black", linestyle="--", label="clean"
        )
        removed_axis.set_title(f"modality removed: {metric}")
        removed_axis.set_xlabel("removed modality")
        removed_axis.set_ylabel(metric)
        removed_axis.grid(alpha=0.3, axis="y")
        removed_axis.legend(fontsize=7)
    spread = f"mean ± std over {seeds} seeds" if seeds > 1 else "one seed"
    figure.suptitle(f"{title or 'Modality robustness'} ({spread})")
    figure.tight_layout()
    return figure


def plot_robustness(table, path, metrics=None, title=None):
    """Saves `robustness_figure` at `path` (and a `.pdf` beside a `.png`)."""
    import matplotlib.pyplot as plt

    figure = robustness_figure(table, metrics, title)
    path = os.fspath(path)
    figure.savefig(path, dpi=100)
    if path.endswith(".png"):
        figure.savefig(path[: -len(".png")] + ".pdf")
    plt.close(figure)
    return path
