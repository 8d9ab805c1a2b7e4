"""Structure of the curves and robustness figures (not their pixels)."""

import os

import numpy as np
import pandas as pd

from msakeras.experiment import modality_robustness
from msakeras.experiment import training_curves

HISTORY = {
    "epoch": [1, 2, 3, 4],
    "loss": [1.0, 0.8, 0.7, 0.65],
    "val_loss": [1.1, 0.9, 0.85, 0.9],
    "mae": [0.9, 0.8, 0.75, 0.7],
    "val_mae": [1.0, 0.9, 0.8, 0.85],
    # DashFusion: computed on training batches, logged as 0 on validation.
    "contrastive": [0.3, 0.2, 0.2, 0.1],
    "val_contrastive": [0.0, 0.0, 0.0, 0.0],
    "alignment": [0.0, 0.0, 0.0, 0.0],
    "val_alignment": [0.0, 0.0, 0.0, 0.0],
    "sentiment_loss": [0.5, 0.4, 0.3, 0.2],
    "val_sentiment_loss": [0.6, 0.5, 0.4, 0.5],
    "extra": [1.0, 2.0, 3.0, 4.0],
    "learning_rate": [1e-3] * 4,
}


def _vertical_lines(axis):
    return [
        line.get_xdata()[0]
        for line in axis.get_lines()
        if len(set(np.atleast_1d(line.get_xdata()))) == 1
        and len(line.get_xdata()) == 2
    ]


def test_curves_are_a_titled_grid_of_computed_terms_with_the_selection():
    figure = training_curves.training_curves_figure(
        HISTORY, selected_epoch=3, title="mmim on mosi, seed 1111"
    )
    axes = figure.get_axes()
    titles = [axis.get_title() for axis in axes]
    assert titles == ["loss", "mae", "contrastive", "sentiment_loss", "extra"]
    assert figure._suptitle.get_text() == "mmim on mosi, seed 1111"
    # A grid: two rows of at most three panels, not one long row.
    assert len({round(axis.get_position().y0, 3) for axis in axes}) == 2
    for axis in axes:
        assert _vertical_lines(axis) == [3]  # the selected epoch
        ticks = [t for t in axis.get_xticks() if 0.5 <= t <= 4.5]
        assert ticks and all(float(t).is_integer() for t in ticks)
        for line in axis.get_lines():
            if line.get_label() in ("train", "valid"):
                assert line.get_marker() not in (None, "None", "")
    labels = {
        axis.get_title(): [line.get_label() for line in axis.get_lines()]
        for axis in axes
    }
    assert "valid" not in labels["contrastive"]  # zeros: not computed
    assert "valid" in labels["loss"] and "train" in labels["loss"]


def test_one_epoch_draws_visible_points_and_both_files(tmp_path):
    history = {"epoch": [1], "loss": [0.5], "val_loss": [0.6]}
    paths = training_curves.plot_training_curves(
        history, str(tmp_path / "curves"), selected_epoch=1, title="t"
    )
    assert [os.path.basename(p) for p in paths] == ["curves.png", "curves.pdf"]
    with open(paths[0], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(paths[1], "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    figure = training_curves.training_curves_figure(history, 1)
    (axis,) = figure.get_axes()
    low, high = axis.get_xlim()
    assert low < 1 < high
    assert [t for t in axis.get_xticks() if low <= t <= high] == [1]


def _robustness_tables():
    rng = np.random.default_rng(0)
    rows = []
    for seed in ("1111", "1112", "1113"):
        rows.append(
            {"seed": seed, "modality": "none", "perturbation": "clean",
             "level": 0.0, "MAE": rng.uniform(0.6, 0.8),
             "Has0_acc_2": rng.uniform(0.6, 0.8)}
        )  # fmt: skip
        for modality in ("text", "audio", "vision"):
            for level in (0.5, 2.0):
                rows.append(
                    {"seed": seed, "modality": modality,
                     "perturbation": "noise", "level": level,
                     "MAE": rng.uniform(0.7, 1.2),
                     "Has0_acc_2": rng.uniform(0.4, 0.7)}
                )  # fmt: skip
            rows.append(
                {"seed": seed, "modality": modality,
                 "perturbation": "removed", "level": np.nan,
                 "MAE": rng.uniform(0.7, 1.5),
                 "Has0_acc_2": rng.uniform(0.4, 0.7)}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_robustness_over_seeds_has_error_bars_and_a_panel_per_perturbation():
    table = _robustness_tables()
    figure = modality_robustness.robustness_figure(
        table, title="mmim on mosi, test split: modality robustness"
    )
    axes = figure.get_axes()
    assert [axis.get_title() for axis in axes] == [
        "noise: MAE",
        "modality removed: MAE",
        "noise: Has0_acc_2",
        "modality removed: Has0_acc_2",
    ]
    for axis, metric in zip(axes, ["MAE", "MAE", "Has0_acc_2", "Has0_acc_2"]):
        assert axis.get_ylabel() == metric  # one unit per axis
    title = figure._suptitle.get_text()
    assert "mmim on mosi" in title and "3 seeds" in title
    assert ".keras" not in title and ".h5" not in title
    # Noise panel: text at level 2.0, mean ± np.std over the three seeds.
    text = table[(table["modality"] == "text") & (table["level"] == 2.0)]
    mean, std = text["MAE"].mean(), np.std(text["MAE"].to_numpy())
    container = axes[0].containers[0]  # text, the first modality
    segments = container.lines[2][0].get_segments()
    (segment,) = [s for s in segments if np.isclose(s[0][0], 2.0)]
    np.testing.assert_allclose(
        sorted([segment[0][1], segment[1][1]]), [mean - std, mean + std]
    )
    # Removed panel: a bar per modality with its error bar, clean line.
    removed = table[table["perturbation"] == "removed"]
    bars = axes[1].patches
    assert len(bars) == 3
    for bar, modality in zip(bars, ("text", "audio", "vision")):
        values = removed[removed["modality"] == modality]["MAE"].to_numpy()
        np.testing.assert_allclose(bar.get_height(), values.mean())


def test_robustness_of_one_model_says_one_seed(tmp_path):
    table = _robustness_tables()
    table = table[table["seed"] == "1111"].drop(columns="seed")
    path = modality_robustness.plot_robustness(
        table, str(tmp_path / "robustness.png"), title="x"
    )
    assert os.path.isfile(path)
    assert os.path.isfile(tmp_path / "robustness.pdf")
    figure = modality_robustness.robustness_figure(table, title="x")
    assert "one seed" in figure._suptitle.get_text()
