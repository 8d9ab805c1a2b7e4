"""`--config FILE.yaml` and `--set key=value` over a recipe's preset."""

import contextlib
import io
import os
import sys
import tempfile

import pytest

from msakeras.experiment import run_configuration
from msakeras.experiment.run_configuration import ConfigurationError
from msakeras.models import presets
from tests.recipes import recipe_runner

PRESET = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "bidirectional": False,
    "stage_one_gradients": "all",
    "patience": 10,
    "text_dropout": None,
}


def test_set_values_are_yaml_scalars():
    assert run_configuration.parse_override("learning_rate=1e-4") == (
        "learning_rate",
        1e-4,
    )
    assert run_configuration.parse_override("bidirectional=true") == (
        "bidirectional",
        True,
    )
    assert run_configuration.parse_override("patience=null") == (
        "patience",
        None,
    )
    assert run_configuration.parse_override("name=a=b") == ("name", "a=b")
    with pytest.raises(ConfigurationError, match="expected key=value"):
        run_configuration.parse_override("learning_rate")


def test_file_then_set_override_the_preset(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("learning_rate: 5e-4\nbatch_size: 16\n", encoding="utf-8")
    settings, sources = run_configuration.resolve_configuration(
        PRESET, str(path), ["batch_size=8", "bidirectional=yes"], "m/mosi"
    )
    assert settings["learning_rate"] == 5e-4
    assert isinstance(settings["learning_rate"], float)
    assert settings["batch_size"] == 8  # --set comes after the file
    assert settings["bidirectional"] is True
    assert settings["stage_one_gradients"] == "all"  # untouched preset
    assert sources == {
        "learning_rate": f"--config {path}",
        "batch_size": "--set",
        "bidirectional": "--set",
    }
    assert PRESET["batch_size"] == 32  # the preset is not modified


def test_integers_become_floats_and_nulls_where_allowed():
    settings, _ = run_configuration.resolve_configuration(
        PRESET,
        overrides=["learning_rate=1", "patience=null", "text_dropout=0.1"],
    )
    assert settings["learning_rate"] == 1.0
    assert isinstance(settings["learning_rate"], float)
    assert settings["patience"] is None
    assert settings["text_dropout"] == 0.1


def test_unknown_key_names_the_key_and_the_known_keys(tmp_path):
    with pytest.raises(ConfigurationError) as raised:
        run_configuration.resolve_configuration(
            PRESET, overrides=["learnig_rate=1e-4"], name="mmim/mosi"
        )
    message = str(raised.value)
    assert "'learnig_rate'" in message and "mmim/mosi" in message
    for key in PRESET:
        assert key in message
    path = tmp_path / "bad.yaml"
    path.write_text("dropout: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"--config .*'dropout'"):
        run_configuration.resolve_configuration(PRESET, str(path))


def test_wrong_kinds_are_refused(tmp_path):
    for override, pattern in (
        ("batch_size=abc", "batch_size = 'abc' is a string; batch_size needs"),
        ("batch_size=1.5", "needs an integer"),
        ("bidirectional=1", "needs a boolean"),
        ("learning_rate=null", "learning_rate = null"),
    ):
        with pytest.raises(ConfigurationError, match=pattern):
            run_configuration.resolve_configuration(
                PRESET, overrides=[override]
            )
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="expected a mapping"):
        run_configuration.resolve_configuration(PRESET, str(path))
    with pytest.raises(ConfigurationError, match="no such file"):
        run_configuration.resolve_configuration(
            PRESET, str(tmp_path / "x.yaml")
        )


def test_printed_configuration_lists_every_key_and_its_source():
    text = run_configuration.format_configuration(
        {"a": 1, "b": 2.0}, {"b": "--set"}, "mmim on mosi"
    )
    lines = text.splitlines()
    assert lines[0] == "mmim on mosi:"
    assert lines[1].split() == ["a", ":", "1"]
    assert lines[2].split() == ["b", ":", "2.0", "(--set)"]


def _parse_mmim(*arguments):
    sys.path.insert(0, os.path.join(recipe_runner.ROOT, "recipes"))
    import mmim

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        args = mmim.parse_args(list(arguments))
    return mmim, args, printed.getvalue()


def test_recipe_flags_merge_presets_file_set_and_dedicated_flags():
    with tempfile.TemporaryDirectory() as directory:
        data = recipe_runner.tiny_dataset(directory)
        config = os.path.join(directory, "mmim.yaml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("cpc_weight: 0.5\nfusion_dim: 64\n")
        mmim, args, printed = _parse_mmim(
            "--data", data, "--config", config,
            "--set", "fusion_dim=32", "--set", "bidirectional=true",
            "--epochs", "2",
        )  # fmt: skip
        expected = presets.recipe_tables("mmim")["mosi"]
        expected.update(cpc_weight=0.5, fusion_dim=32, bidirectional=True)
        expected["epochs"] = 2
        assert args.hyperparameters == expected
        assert "mmim on mosi:" in printed
        assert "fusion_dim" in printed and "(--set)" in printed
        with pytest.raises(SystemExit) as raised:
            _parse_mmim("--data", data, "--set", "hidden=3")
        assert "unknown key 'hidden'" in str(raised.value)
        assert "fusion_dim" in str(raised.value)
