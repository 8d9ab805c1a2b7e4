"""`msakeras` command line: subcommands, fast side-effect-free --help."""

import os
import subprocess
import sys
import time

import pytest

from msakeras import cli
from msakeras.experiment import model_profile
from tests.models.mcer.test_mcer_model import tiny_text_encoder

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
HELP_COMMANDS = [
    ("msakeras", []),
    ("msakeras", ["train"]),
    ("msakeras", ["convert"]),
    ("msakeras", ["compare"]),
    ("msakeras", ["profile"]),
    ("msakeras", ["robustness"]),
    ("msakeras", ["tune"]),
    ("msakeras.compare", []),
    ("msakeras.profile", []),
    ("msakeras.robustness", []),
    ("data_prep.convert_mmsa_pickle", []),
    ("data_prep.convert_mult_pickle", []),
    ("data_prep.convert_csd", []),
    ("data_prep.convert_csv_features", []),
    ("data_prep.examples.make_csv_example", []),
]


def _help(module, words, cwd):
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", module, *words, "--help"],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS="ignore"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, time.monotonic() - start


@pytest.mark.parametrize("module,words", HELP_COMMANDS)
def test_help_is_fast_without_frameworks_or_side_effects(
    module, words, tmp_path
):
    result, seconds = _help(module, words, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert seconds < 5, seconds
    assert list(tmp_path.iterdir()) == []  # no folder named --help


def test_help_imports_no_framework(tmp_path):
    code = (
        "import sys, runpy\n"
        "sys.argv = ['-m', 'compare', '--help']\n"
        "try:\n"
        "    runpy.run_module('msakeras', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_defaults_are_shown():
    result, _ = _help("msakeras.profile", [], ROOT)
    assert "(default: 32)" in result.stdout  # --batch-size
    assert "(default: mosi)" in result.stdout  # --dataset


def test_unknown_subcommand_and_model_are_one_line_errors(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["train", "mlp"])
    assert raised.value.code == 2
    assert "unknown 'mlp'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["fly"])


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "msakeras", "--version"],
        env=dict(os.environ, PYTHONPATH=ROOT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "msakeras 0.1.0"


def test_train_resolves_every_recipe():
    for name in cli.MODELS:
        module = cli._import_shipped("recipes", name)
        assert callable(module.main)
    for name in cli.CONVERTERS.values():
        assert callable(cli._import_shipped("data_prep", name).main)


def test_profile_builds_mcer():
    model = model_profile.build_named_model(
        "mcer",
        tiny_text_encoder(),
        audio_dim=5,
        vision_dim=20,
        num_train_samples=8,
    )
    assert type(model).__name__ == "MCERModel"
