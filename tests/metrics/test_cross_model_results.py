"""`results_<dataset>.csv/.md`: one row per model and configuration."""

import multiprocessing
import os

import numpy as np
import pandas as pd

from msakeras.metrics import cross_model_results
from msakeras.metrics import summarize_seeds


def _table(maes, seeds=(1111, 1112)):
    return summarize_seeds(
        [{"MAE": mae, "Corr": 0.5 + mae} for mae in maes], seeds=list(seeds)
    )


def test_rows_are_added_per_model_and_config_and_replaced(tmp_path):
    directory = str(tmp_path)
    update = cross_model_results.update_results_table
    row = cross_model_results.results_row
    update(directory, "mosi", row("mmim", "aaaa", _table([0.7, 0.8])))
    update(directory, "mosi", row("hycon", "bbbb", _table([0.9, 0.6])))
    update(directory, "mosi", row("mmim", "cccc", _table([0.5, 0.5])))
    # The same model and configuration again (more seeds): replaced.
    csv_path, md_path = update(
        directory,
        "mosi",
        row(
            "mmim",
            "aaaa",
            _table([0.7, 0.8, 0.6], (1, 2, 3)),
            {"changes": "x=1"},
        ),
    )
    table = pd.read_csv(csv_path, dtype={"config": str})
    assert sorted(zip(table["model"], table["config"])) == [
        ("hycon", "bbbb"),
        ("mmim", "aaaa"),
        ("mmim", "cccc"),
    ]
    mmim = table[(table["model"] == "mmim") & (table["config"] == "aaaa")]
    values = np.array([0.7, 0.8, 0.6])
    assert int(mmim["n_seeds"].iloc[0]) == 3
    np.testing.assert_allclose(mmim["MAE_mean"].iloc[0], values.mean())
    np.testing.assert_allclose(mmim["MAE_std"].iloc[0], values.std())  # ddof 0
    text = open(md_path, encoding="utf-8").read()
    expected = f"{values.mean() * 100:.2f} ± {values.std() * 100:.2f}"
    assert expected in text
    assert "×100" in text and "np.std" in text
    assert text.count("| mmim ") == 2 and text.count("| hycon ") == 1
    assert not [n for n in os.listdir(directory) if ".tmp" in n]


def test_missing_metric_is_a_dash_not_nan(tmp_path):
    row = cross_model_results.results_row
    update = cross_model_results.update_results_table
    update(str(tmp_path), "mosi", row("mmim", "a", _table([0.7], (1,))))
    extra = summarize_seeds([{"MAE": 0.6, "Corr": 0.7, "MAGBERT_MAE": 0.5}])
    _, md_path = update(str(tmp_path), "mosi", row("hycon", "b", extra))
    text = open(md_path, encoding="utf-8").read()
    assert "nan" not in text.lower()
    assert "–" in text  # MMIM has no MAGBERT_MAE


def test_configuration_id_depends_on_the_configuration():
    first = cross_model_results.configuration_id({"a": 1, "b": [1, 2]})
    assert first == cross_model_results.configuration_id({"b": [1, 2], "a": 1})
    assert first != cross_model_results.configuration_id({"a": 2, "b": [1, 2]})
    assert len(first) == 8


def _add(arguments):
    directory, index = arguments
    cross_model_results.update_results_table(
        directory,
        "mosi",
        cross_model_results.results_row(
            f"model{index}", "c", _table([0.1 * index, 0.2])
        ),
    )


def test_concurrent_updates_keep_every_row(tmp_path):
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_add, [(str(tmp_path), index) for index in range(8)])
    table = pd.read_csv(tmp_path / "results_mosi.csv")
    assert sorted(table["model"]) == sorted(f"model{i}" for i in range(8))
