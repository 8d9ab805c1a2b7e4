"""Training curves of one run: a titled grid, the selected epoch marked.

`training_curves_figure` draws one panel per logged quantity of a Keras
history (`history.csv`, epochs numbered from 1): the training value and,
where logged, the validation value, with markers (a one-epoch run shows its
point), integer epoch ticks and a dashed line at the selected epoch.
`plot_training_curves` saves it as `curves.png` and `curves.pdf`.

DECISION: a series whose every logged value is exactly zero or missing is
treated as not computed and not drawn (DashFusion logs its contrastive and
alignment terms on validation as 0: they need training pairs); a panel
with nothing left is dropped.
"""

import math
import os

import numpy as np

NOT_PLOTTED = ("epoch", "learning_rate", "lr")
COLUMNS = 3


def _computed(values):
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.any(finite != 0.0))


def curve_panels(history):
    """`[(name, train values or None, valid values or None)]`, the
    quantities to draw, in logged order, uncomputed series removed."""
    names = []
    for column in history:
        if column in NOT_PLOTTED:
            continue
        name = column[4:] if column.startswith("val_") else column
        if name not in names:
            names.append(name)
    panels = []
    for name in names:
        train = history.get(name)
        valid = history.get(f"val_{name}")
        train = train if train is not None and _computed(train) else None
        valid = valid if valid is not None and _computed(valid) else None
        if train is not None or valid is not None:
            panels.append((name, train, valid))
    return panels


def training_curves_figure(history, selected_epoch=None, title=None):
    """The curves as a matplotlib `Figure` (one axis per panel).

    Args:
        history: dict (or DataFrame) of logged lists; its `epoch` column
            (1-based) gives the x values, else `1..n`.
        selected_epoch: int or None. The 1-based epoch of the selected
            checkpoint, drawn as a dashed vertical line in every panel.
        title: str or None. The figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    history = {key: list(history[key]) for key in history}
    count = max((len(values) for values in history.values()), default=0)
    epochs = history.get("epoch") or list(range(1, count + 1))
    epochs = [int(epoch) for epoch in epochs]
    panels = curve_panels(history)
    columns = max(1, min(COLUMNS, len(panels)))
    rows = max(1, math.ceil(len(panels) / columns))
    figure, axes = plt.subplots(
        rows, columns, squeeze=False, figsize=(4.0 * columns, 3.0 * rows + 0.6)
    )
    axes = axes.reshape(-1)
    for axis in axes[len(panels) :]:
        figure.delaxes(axis)
    for axis, (name, train, valid) in zip(axes, panels):
        if train is not None:
            axis.plot(epochs, train, marker="o", markersize=3, label="train")
        if valid is not None:
            axis.plot(epochs, valid, marker="s", markersize=3, label="valid")
        if selected_epoch is not None:
            axis.axvline(
                selected_epoch,
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"selected (epoch {selected_epoch})",
            )
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if epochs:
            axis.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_training_curves(history, path_stem, selected_epoch=None, title=None):
    """Saves `<path_stem>.png` and `<path_stem>.pdf`; returns both paths."""
    import matplotlib.pyplot as plt

    figure = training_curves_figure(history, selected_epoch, title)
    paths = []
    for extension, options in (("png", {"dpi": 100}), ("pdf", {})):
        path = f"{os.fspath(path_stem)}.{extension}"
        figure.savefig(path, **options)
        paths.append(path)
    plt.close(figure)
    return paths
