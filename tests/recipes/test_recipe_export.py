"""`--export` is wired once in recipes/common.py for every recipe."""

import os

import pytest

import msakeras.export
from msakeras.experiment import best_seed_export
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_results
from msakeras.experiment.run_settings import RunSettings


def _settings(output_dir, **fields):
    return RunSettings(
        model_name="mmim",
        data="tiny.h5",
        dataset="mosi",
        hyperparameters={"epochs": 1},
        output_dir=output_dir,
        **fields,
    )


def _runs(tmp_path, val_maes):
    output_dir = tmp_path / "mmim_mosi" / "runs"
    for seed, values in val_maes.items():
        directory = output_dir / f"seed_{seed}"
        os.makedirs(directory)
        lines = ["epoch,loss,val_mae"] + [
            f"{epoch},1.0,{value}" for epoch, value in enumerate(values)
        ]
        (directory / "history.csv").write_text("\n".join(lines) + "\n")
        (directory / "model.keras").write_text("stand-in")
    return str(output_dir)


@pytest.fixture
def recorded_exports(monkeypatch):
    calls = []

    def fake(kind):
        def export(path, directory):
            calls.append((kind, path, directory))
            path_out = os.path.join(directory, str(len(calls)))
            return {"path": path_out, "check": {"max_abs_difference": 0.0}}

        return export

    monkeypatch.setattr(msakeras.export, "export_saved_model", fake("saved"))
    monkeypatch.setattr(msakeras.export, "export_onnx", fake("onnx"))
    return calls


def test_every_recipe_has_the_export_flags():
    for name in ("mmim", "hycon", "self_mi", "dashfusion"):
        parser = recipe_arguments.base_parser(name, "")
        args = parser.parse_args(["--export", "--export-format", "both"])
        assert (args.export, args.export_format) == ("best", "both")
        assert parser.parse_args([]).export is None


def test_best_seed_exported_to_both_formats_once(tmp_path, recorded_exports):
    output_dir = _runs(tmp_path, {1: [0.9, 0.8], 2: [0.7, 0.75], 3: [0.85]})
    args = _settings(output_dir, export="best", export_format="both")
    records = best_seed_export.export_models(args, [1, 2, 3])
    base = str(tmp_path / "mmim_mosi")
    model = os.path.join(output_dir, "seed_2", "model.keras")
    assert recorded_exports == [
        ("saved", model, base),
        ("onnx", model, os.path.join(base, "onnx")),
    ]
    assert len(records) == 2
    assert (
        best_seed_export.export_models(args, [1, 2, 3]) is records
    )  # only once
    assert len(recorded_exports) == 2


def test_write_results_exports_every_seed_with_all(tmp_path, recorded_exports):
    output_dir = _runs(tmp_path, {7: [0.5], 8: [0.4]})
    args = _settings(
        output_dir,
        export="all",
        export_dir=str(tmp_path / "elsewhere"),
        results_dir=str(tmp_path / "results"),
    )
    scores = {"MAE": 0.5, "Corr": 0.6}
    run_results.write_results(args, {8: scores, 7: scores}, baselines={})
    assert os.path.isfile(tmp_path / "results" / "results_mosi.csv")
    assert [call[0] for call in recorded_exports] == ["saved", "saved"]
    assert [call[1] for call in recorded_exports] == [
        os.path.join(output_dir, f"seed_{seed}", "model.keras")
        for seed in (7, 8)
    ]
    assert {call[2] for call in recorded_exports} == {
        str(tmp_path / "elsewhere")
    }


def test_no_export_without_the_flag(tmp_path, recorded_exports):
    args = _settings(str(tmp_path))
    assert best_seed_export.export_models(args, [1]) == []
    assert recorded_exports == []
