"""The wheel ships every tool: built, installed outside the repository, and
run from elsewhere as a user would (`msakeras train`, `msakeras convert`)."""

import glob
import json
import os
import subprocess
import sys
import tomllib

import h5py
import keras
import pytest

from tests.recipes.recipe_runner import tiny_dataset

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


def test_pyproject_lists_every_msakeras_package():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        listed = set(tomllib.load(handle)["tool"]["setuptools"]["packages"])
    found = {
        os.path.relpath(folder, ROOT).replace(os.sep, ".")
        for folder, _, files in os.walk(os.path.join(ROOT, "msakeras"))
        if "__init__.py" in files
    }
    assert found <= listed, sorted(found - listed)
    for shipped in ("msakeras.recipes", "msakeras.data_prep"):
        assert shipped in listed


def _run(command, cwd, env):
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result


@pytest.mark.large
def test_installed_wheel_trains_and_converts(tmp_path):
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            ROOT,
            "-w",
            str(wheels),
        ],
        cwd=tmp_path,
        env=dict(os.environ),
    )
    (wheel,) = glob.glob(str(wheels / "msakeras-*.whl"))
    target = tmp_path / "site"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--target",
            str(target),
            wheel,
        ],
        cwd=tmp_path,
        env=dict(os.environ),
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(target),
        OMP_NUM_THREADS="1",
        KERAS_BACKEND=keras.config.backend(),
        MSAKERAS_CACHE=str(tmp_path / "cache"),
    )
    work = tmp_path / "user"
    work.mkdir()
    where = _run(
        [sys.executable, "-c", "import msakeras; print(msakeras.__file__)"],
        cwd=work,
        env=env,
    ).stdout
    assert where.strip().startswith(str(target)), where
    script = os.path.join(target, "bin", "msakeras")
    assert os.path.isfile(script)
    version = _run([script, "--version"], cwd=work, env=env).stdout
    assert "msakeras 0.1.0" in version

    # A converter from the installed package, on the csv example.
    _run(
        [
            sys.executable,
            "-m",
            "msakeras.data_prep.examples.make_csv_example",
            "my_data",
        ],
        cwd=work,
        env=env,
    )
    _run(
        [
            script,
            "convert",
            "csv",
            "--csv",
            "my_data/samples.csv",
            "--audio-dir",
            "my_data/audio",
            "--vision-dir",
            "my_data/vision",
            "--dataset",
            "mosi",
            "--output",
            "my_data/my_data.h5",
        ],
        cwd=work,
        env=env,
    )
    with h5py.File(work / "my_data" / "my_data.h5", "r") as handle:
        assert "train" in handle

    # `python -m msakeras train mmim` on a tiny synthetic file.
    tiny = tiny_dataset(str(tmp_path))
    _run(
        [
            sys.executable,
            "-m",
            "msakeras",
            "train",
            "mmim",
            "--epochs",
            "1",
            "--seeds",
            "1111",
            "--data",
            tiny,
        ],
        cwd=work,
        env=env,
    )
    (run_json,) = glob.glob(
        str(work / "saved_models" / "**" / "run.json"), recursive=True
    )
    with open(run_json) as handle:
        assert json.load(handle)
