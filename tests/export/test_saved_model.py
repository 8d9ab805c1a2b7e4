"""SavedModel export of a tiny MMIM trained under the current backend.

The export itself always runs under TensorFlow (a subprocess under torch or
JAX); the served outputs are read back in a TensorFlow subprocess and
compared with this backend's `predict`.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from msakeras.export import saved_model
from tests.models.mmim.test_mmim_model import tiny_batch
from tests.models.mmim.test_mmim_model import tiny_model

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
MMIM_INPUTS = {
    "text_token_ids": ("int32", [None, None]),
    "text_padding_mask": ("int32", [None, None]),
    "audio": ("float32", [None, None, 5]),
    "audio_mask": ("int32", [None, None]),
    "vision": ("float32", [None, None, 4]),
    "vision_mask": ("int32", [None, None]),
}

# Runs under KERAS_BACKEND=tensorflow; imports TensorFlow only.
SERVE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    path, batch_path, out_path = sys.argv[1:4]
    loaded = tf.saved_model.load(path)
    report = {"signatures": sorted(loaded.signatures)}
    outputs = {}
    for key in ("serving_default", "serve"):
        fn = loaded.signatures[key]
        specs = fn.structured_input_signature[1]
        report[key] = {
            "inputs": {n: [s.dtype.name, s.shape.as_list()]
                       for n, s in specs.items()},
            "outputs": {n: [s.dtype.name, s.shape.as_list()]
                        for n, s in fn.structured_outputs.items()},
        }
    with np.load(batch_path) as data:
        for size in sorted({int(k.split("/")[0]) for k in data.files}):
            batch = {k.split("/")[1]: data[k] for k in data.files
                     if k.startswith(f"{size}/")}
            served = loaded.signatures["serving_default"](
                **{n: tf.constant(v) for n, v in batch.items()})
            for name, value in served.items():
                outputs[f"{size}/{name}"] = value.numpy()
    np.savez(out_path, **outputs)
    with open(out_path + ".json", "w") as handle:
        json.dump(report, handle)
    """
)


def _tensorflow_env():
    env = dict(os.environ, KERAS_BACKEND="tensorflow", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [REPO] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    )
    return env


def _serve_in_tensorflow(path, batches, scratch):
    """Signature report and `serving_default` outputs per batch size."""
    batch_path = os.path.join(scratch, "batches.npz")
    np.savez(
        batch_path,
        **{
            f"{len(batch['audio'])}/{name}": value
            for batch in batches
            for name, value in batch.items()
        },
    )
    out_path = os.path.join(scratch, "served.npz")
    completed = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT, path, batch_path, out_path],
        env=_tensorflow_env(),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    with open(out_path + ".json") as handle:
        report = json.load(handle)
    with np.load(out_path) as data:
        served = {key: data[key] for key in data.files}
    return report, served


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny MMIM fit for 1 epoch here, saved, exported twice."""
    root = tmp_path_factory.mktemp("export")
    keras.utils.set_random_seed(7)
    x, y = tiny_batch(8)
    model = tiny_model(two_stage=False)
    model.compile()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    keras_path = str(root / "run" / "model.keras")
    os.makedirs(os.path.dirname(keras_path))
    model.save(keras_path)
    with open(root / "run" / "run.json", "w") as handle:
        json.dump({"backend": keras.config.backend()}, handle)

    base = str(root / "saved_models" / "mmim_tiny")
    first = saved_model.export_saved_model(model, base)  # model object
    second = saved_model.export_saved_model(keras_path, base)  # .keras path

    # Other batch sizes and sequence lengths than the export's probe.
    batches = [tiny_batch(5, seed=3)[0], tiny_batch(2, seed=4)[0]]
    batches[1] = {
        name: value[:, :4] if value.ndim >= 2 else value
        for name, value in batches[1].items()
    }
    predicted = {
        len(batch["audio"]): keras.ops.convert_to_numpy(
            model.predict(batch, verbose=0)["sentiment"]
        )
        for batch in batches
    }
    report, served = _serve_in_tensorflow(
        os.path.join(base, "1"), batches, str(root)
    )
    return dict(
        base=base,
        keras_path=keras_path,
        first=first,
        second=second,
        report=report,
        served=served,
        predicted=predicted,
    )


@pytest.mark.large
def test_version_layout(exported):
    base = exported["base"]
    assert sorted(os.listdir(base)) == ["1", "2"]  # no staging left over
    for version in ("1", "2"):
        folder = os.path.join(base, version)
        assert os.path.isfile(os.path.join(folder, "saved_model.pb"))
        assert os.path.isdir(os.path.join(folder, "variables"))
        assert os.listdir(os.path.join(folder, "variables"))
        assert os.path.isfile(os.path.join(folder, "export.json"))
    assert exported["first"]["path"] == os.path.join(base, "1")
    assert exported["second"]["path"] == os.path.join(base, "2")
    assert saved_model.next_version(base) == 3


@pytest.mark.large
def test_signature_names_dtypes_and_dynamic_batch(exported):
    report = exported["report"]
    assert {"serving_default", "serve"} <= set(report["signatures"])
    for key in ("serving_default", "serve"):
        inputs = {
            name: (dtype, shape)
            for name, (dtype, shape) in report[key]["inputs"].items()
        }
        assert inputs == {
            name: (dtype, shape) for name, (dtype, shape) in MMIM_INPUTS.items()
        }
        assert report[key]["outputs"] == {"sentiment": ["float32", [None, 1]]}


@pytest.mark.large
def test_served_sentiment_matches_predict(exported):
    for size, expected in exported["predicted"].items():
        served = exported["served"][f"{size}/sentiment"]
        assert served.shape == (size, 1)
        np.testing.assert_allclose(served, expected, atol=1e-4, rtol=0)


@pytest.mark.large
def test_export_record(exported):
    backend = keras.config.backend()
    records = []
    for returned in (exported["first"], exported["second"]):
        with open(os.path.join(returned["path"], "export.json")) as handle:
            on_disk = json.load(handle)
        records.append(on_disk)
        assert on_disk["check"] == returned["check"]
        assert on_disk["training_backend"] == backend
        assert on_disk["export_backend"] == "tensorflow"
        assert on_disk["versions"]["keras"] == keras.__version__
        assert "tensorflow" in on_disk["versions"]
        assert {
            name: (spec["dtype"], spec["shape"])
            for name, spec in on_disk["inputs"].items()
        } == {name: tuple(value) for name, value in MMIM_INPUTS.items()}
        assert list(on_disk["outputs"]) == ["sentiment"]
        check = on_disk["check"]
        assert 0.0 <= check["max_abs_difference"] <= 1e-4
        by_backend = check["max_abs_difference_by_predict_backend"]
        assert "tensorflow" in by_backend  # the TensorFlow reload's predict
        if backend != "tensorflow":  # and the training backend's predict
            assert 0.0 <= by_backend[backend] <= 1e-4
        assert len(on_disk["source"]["sha256"]) == 64
    first, second = records
    assert (first["version"], second["version"]) == (1, 2)
    assert first["source"]["path"].startswith("<in-memory model")
    assert second["source"]["path"] == exported["keras_path"]
    assert second["source"]["sha256"] == _sha256(exported["keras_path"])


@pytest.mark.large
def test_refuses_to_overwrite_a_version(exported):
    base = exported["base"]
    record = os.path.join(base, "1", "export.json")
    before = os.stat(record).st_mtime_ns
    with pytest.raises(FileExistsError, match="never overwritten"):
        saved_model.export_saved_model(exported["keras_path"], base, version=1)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "msakeras.export",
            exported["keras_path"],
            "--output",
            base,
            "--version",
            "2",
        ],
        env=_tensorflow_env(),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "never overwritten" in completed.stderr
    assert os.stat(record).st_mtime_ns == before
    assert sorted(os.listdir(base)) == ["1", "2"]


@pytest.mark.large
def test_failed_check_leaves_nothing(exported, tmp_path):
    base = str(tmp_path / "mmim_failing")
    with pytest.raises(saved_model.ExportError, match="differ"):
        saved_model.export_saved_model(
            exported["keras_path"], base, version=4, max_difference=-1.0
        )
    assert not os.path.exists(os.path.join(base, "4"))
    assert not [name for name in os.listdir(base) if name.startswith(".tmp")]


@pytest.mark.large
def test_importing_msakeras_does_not_import_export():
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, msakeras; "
            "print(sorted(m for m in sys.modules "
            "if m.startswith('msakeras.export')))",
        ],
        env=dict(_tensorflow_env(), KERAS_BACKEND=keras.config.backend()),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_next_version_skips_non_integer_folders(tmp_path):
    assert saved_model.next_version(str(tmp_path / "missing")) == 1
    for name in ("1", "3", "runs", ".tmp-5-x"):
        os.makedirs(tmp_path / name)
    (tmp_path / "7").write_text("a file, not a version")
    assert saved_model.existing_versions(str(tmp_path)) == [1, 3]
    assert saved_model.next_version(str(tmp_path)) == 4


def test_probe_batch_is_deterministic_with_valid_masks():
    model = tiny_model()
    first = saved_model.probe_batch(model)
    second = saved_model.probe_batch(model)
    assert sorted(first) == sorted(MMIM_INPUTS)
    for name, value in first.items():
        np.testing.assert_array_equal(value, second[name])
        assert value.dtype == np.dtype(MMIM_INPUTS[name][0])
    for name in ("text_padding_mask", "audio_mask", "vision_mask"):
        mask = first[name]
        assert mask[:, 0].all()  # every sample has a valid step
        assert set(np.unique(mask)) <= {0, 1}
        # valid steps form a prefix
        np.testing.assert_array_equal(np.sort(mask, axis=1)[:, ::-1], mask)
    assert first["text_token_ids"].min() >= 1
    assert first["text_token_ids"].max() < 100  # the tiny vocabulary


def test_training_only_inputs_stay_out_of_the_signature():
    inputs = {
        "audio": keras.Input((None, 3), name="audio"),
        "index": keras.Input((), dtype="int32", name="index"),
    }
    pooled = keras.layers.GlobalAveragePooling1D()(inputs["audio"])
    model = keras.Model(inputs, {"sentiment": keras.layers.Dense(1)(pooled)})
    specs = saved_model.serving_input_specs(model)
    assert [name for name, _, _ in specs] == ["audio"]
    assert specs[0][1] == (None, None, 3)
    batch = saved_model.probe_batch(model)
    assert batch["index"].shape == (saved_model.PROBE_BATCH_SIZE,)
    assert not batch["index"].any()


def test_version_argument_is_checked(tmp_path):
    os.makedirs(tmp_path / "2")
    with pytest.raises(FileExistsError, match="never overwritten"):
        saved_model._resolve_version(str(tmp_path), 2)
    with pytest.raises(ValueError):
        saved_model._resolve_version(str(tmp_path), -1)
    assert saved_model._resolve_version(str(tmp_path), None) == 3
