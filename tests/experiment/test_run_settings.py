"""`RunSettings`: typed, read-only, checked; `run.json` and `--resume` as
before it (folders written by the untyped run library still resume)."""

import dataclasses
import json
import os

import pytest

from msakeras.experiment import file_sha256
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_records
from msakeras.experiment import seed_loop
from msakeras.experiment.run_settings import RunSettings
from tests.experiment import main_run_records
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model
from tests.recipes.recipe_runner import parse_recipe

SETTINGS = {"mosi": {"batch_size": 8, "epochs": 3, "patience": 5}}


def _finish(directory, *flags):
    path = os.path.join(directory, "tiny.h5")
    if not os.path.isfile(path):
        tiny_data(directory, num=24)
    parser = recipe_arguments.base_parser("tiny", "")
    args = parser.parse_args(["--data", path, *map(str, flags)])
    return recipe_arguments.finish_args(args, "tiny", SETTINGS, {})


def _settings(**fields):
    return RunSettings(
        **{
            "model_name": "tiny",
            "data": "tiny.h5",
            "dataset": "mosi",
            "hyperparameters": {"epochs": 2, "batch_size": 4},
            **fields,
        }
    )


def test_fields_are_resolved_typed_and_read_only(tmp_path):
    run = _finish(str(tmp_path), "--seeds", 7, 8, "--epochs", 2)
    assert run.seeds == (7, 8)
    assert run.epochs == 2 and run.batch_size == 8
    assert run.hyperparameters == {"batch_size": 8, "epochs": 2, "patience": 5}
    assert run.preset_changes == {"epochs": 2}
    assert run.dataset == "mosi" and run.embedded is False
    assert run.output_dir == os.path.join("saved_models", "tiny_mosi", "runs")
    assert run.recipe_flags == {}  # base_parser's flags only
    assert run.command_line["epochs"] == 2  # the flag as given
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.seeds = (9,)
    with pytest.raises(TypeError):
        run.hyperparameters["epochs"] = 5
    changed = run.with_hyperparameters(epochs=4)
    assert (changed.epochs, run.epochs) == (4, 2)
    assert changed.preset_changes == run.preset_changes


def test_recipe_flags_hold_the_recipes_own_flags(tmp_path):
    import recipes.mcer
    import recipes.mmim

    mmim = parse_recipe(recipes.mmim, str(tmp_path), "--stage-one", "off")
    assert dict(mmim.recipe_flags) == {"stage_one": "off"}
    mcer = parse_recipe(recipes.mcer, str(tmp_path), "--without-cross-task")
    assert mcer.recipe_flags["cross_tasks"] == []
    assert mcer.hyperparameters["cross_modal_tasks"] == []
    mcer = parse_recipe(recipes.mcer, str(tmp_path), "--without-mi")
    assert mcer.recipe_flags["cross_tasks"] == ["text", "audio", "vision"]
    assert mcer.hyperparameters["mi_weight"] == 0.0  # the switch's change


@pytest.mark.parametrize(
    "fields, flag",
    [
        ({"seeds": (7, 7)}, "--seeds"),
        ({"seeds": (-1,)}, "--seeds"),
        ({"seeds": ("7",)}, "--seeds must be an integer"),
        ({"seeds": ()}, "--seeds"),
        ({"hyperparameters": {"epochs": 0, "batch_size": 4}}, "--epochs"),
        ({"hyperparameters": {"epochs": 1.5, "batch_size": 4}}, "--epochs"),
        ({"hyperparameters": {"epochs": 2, "batch_size": 0}}, "--batch-size"),
        (
            {"hyperparameters": {"epochs": 2, "batch_size": 4, "patience": -1}},
            "--patience",
        ),
        ({"max_train_samples": 0}, "--max-train-samples"),
        ({"verbose": 3}, "--verbose"),
        ({"compile": "fast"}, "--compile"),
        ({"distribute": "model-parallel"}, "--distribute"),
        ({"export": "newest"}, "--export"),
        ({"export_format": "tflite"}, "--export-format"),
    ],
)
def test_bad_settings_name_the_flag(fields, flag):
    with pytest.raises(ValueError, match=flag):
        _settings(**fields)


def test_changed_table_is_checked_again():
    with pytest.raises(ValueError, match="--batch-size"):
        _settings().with_hyperparameters(batch_size=-2)


def test_finish_args_ends_with_one_line_naming_the_flag(tmp_path):
    with pytest.raises(SystemExit, match="--epochs must be at least 1"):
        _finish(str(tmp_path), "--epochs", 0)
    with pytest.raises(SystemExit, match="--seeds: \\[3\\] given more"):
        _finish(str(tmp_path), "--seeds", 3, 3)


@pytest.mark.parametrize(
    "model, flags",
    [
        (
            "mcer",
            ["--without-cross-task", "--epochs", "2", "--set",
             "mi_weight=0.2", "--seeds", "7"],
        ),
        ("hycon", ["--fusion", "graph", "--margin", "0.7",
                   "--max-train-samples", "5"]),
    ],
)  # fmt: skip
def test_run_json_arguments_are_those_main_wrote(tmp_path, model, flags):
    import importlib

    recipe = importlib.import_module(f"recipes.{model}")
    run = parse_recipe(recipe, str(tmp_path), *flags)
    folder = tmp_path / "seed"
    folder.mkdir()
    run_records.write_run_record(
        run, str(folder), 7, {"loss": [1.0]}, {"MAE": 1.0}, None, 1.0, 1.0
    )
    with open(folder / "run.json", encoding="utf-8") as handle:
        record = json.load(handle)
    expected = main_run_records.main_arguments(str(tmp_path))[model]
    assert list(record["arguments"]) == list(expected)  # keys, in order
    assert record["arguments"] == expected
    assert record["hyperparameters"] == dict(run.hyperparameters)


def _main_seed_folder(directory, data, seed, validation_only):
    """A seed folder as the untyped run library left it: `run.json` (a
    finished seed, or a `--validation-only` one with its checkpoint) and
    `resume_settings.json`."""
    folder = os.path.join(directory, f"seed_{seed}")
    os.makedirs(folder)
    with open(os.path.join(folder, "resume_settings.json"), "w") as handle:
        json.dump(
            {
                "data_sha256": file_sha256(data),
                "model": "tiny",
                "dataset": "mosi",
                "hyperparameters": {"batch_size": 8, "epochs": 3,
                                    "patience": 5},
                "max_train_samples": None,
            },
            handle,
        )  # fmt: skip
    scores = {"MAE": 0.25, "Corr": 0.5}
    record = {
        "model": "tiny",
        "git": None,
        "backend": "torch",
        "device": "cpu",
        "dtype_policy": "float32",
        "platform": "Linux",
        "python": "3.11.0",
        "versions": {},
        "seed": seed,
        "data": {"path": data, "sha256": file_sha256(data), "bytes": 1,
                 "dataset": "mosi"},
        "hyperparameters": {"batch_size": 8, "epochs": 3, "patience": 5},
        "selection": {"monitor": "val_mae", "mode": "min", "start_epoch": 1,
                      "best_epoch": 2},
        "arguments": {"data": data, "seeds": [7, 8], "model_name": "tiny"},
        "epochs_run": 3,
        "wall_seconds": 2.5,
        "train_steps_per_second": 4.0,
        "test": None if validation_only else scores,
        "ridge_baselines": None if validation_only else {"all": scores},
        "compile": {"requested": "auto", "jit_compile": False,
                    "reason": "auto"},
    }  # fmt: skip
    if validation_only:
        record["validation_only"] = True
        tiny_model().save(os.path.join(folder, "model.keras"))
        with open(os.path.join(folder, "history.csv"), "w") as handle:
            handle.write(
                "epoch,loss,mae,val_loss,val_mae\n"
                "1,1.0,1.0,0.9,0.9\n2,0.8,0.8,0.7,0.7\n3,0.7,0.7,0.8,0.8\n"
            )
    with open(os.path.join(folder, "run.json"), "w") as handle:
        json.dump(record, handle, indent=2)
    return scores


def _refuse_training(run):
    raise AssertionError("--resume retrained a recorded seed")


def test_resume_accepts_folders_written_before_run_settings(tmp_path):
    output = str(tmp_path / "runs")
    data = tiny_data(str(tmp_path), num=24)
    recorded = _main_seed_folder(output, data, 7, validation_only=False)
    _main_seed_folder(output, data, 8, validation_only=True)
    run = _finish(
        str(tmp_path), "--resume", "--seeds", 7, 8, "--output-dir", output,
        "--verbose", 0,
    )  # fmt: skip
    scores, baselines = seed_loop.train_seeds(run, _refuse_training)
    assert scores[7] == recorded  # finished: read back, not retrained
    assert "all" in baselines  # seed 8's sealed test read fitted them
    record = run_records.run_record(os.path.join(output, "seed_8"))
    assert record["test"] == scores[8]
    assert record["selection"]["best_epoch"] == 2  # lowest val_mae
    assert record["wall_seconds"] == 2.5  # carried from the trial


def test_resume_refuses_changed_settings_of_an_old_folder(tmp_path):
    output = str(tmp_path / "runs")
    data = tiny_data(str(tmp_path), num=24)
    _main_seed_folder(output, data, 7, validation_only=False)
    run = _finish(
        str(tmp_path), "--resume", "--seeds", 7, "--output-dir", output,
        "--epochs", 4,
    )  # fmt: skip
    with pytest.raises(SystemExit, match="hyperparameters.epochs 3 -> 4"):
        seed_loop.train_seeds(run, _refuse_training)
