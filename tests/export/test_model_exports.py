"""Every landed model, trained tiny, exported as SavedModel and ONNX.

For MMIM, HyCon, Self-MI and DashFusion: fit one epoch under this backend,
save the `.keras`, export it (the SavedModel under TensorFlow, the ONNX
graph under torch; subprocesses where the backend differs), then serve a
fresh batch (another batch size and sequence length than the exporters'
probes) through `serving_default` in a TensorFlow process and through
onnxruntime, and compare with this backend's `predict` (≤ 1e-4). A second
test trains under TensorFlow in a subprocess, exports there, and converts
the TensorFlow-trained file to ONNX here.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from msakeras.export import onnx_export
from msakeras.export import saved_model
from tests.export import test_saved_model
from tests.export import tiny_models

TOLERANCE = 1e-4


def _serving_inputs(batch):
    return {
        name: value
        for name, value in batch.items()
        if name not in saved_model.TRAINING_ONLY_INPUTS
    }


def _onnxruntime_sentiment(onnx_path, batch):
    import onnxruntime

    session = onnxruntime.InferenceSession(
        onnx_path, providers=["CPUExecutionProvider"]
    )
    names = sorted(node.name for node in session.get_inputs())
    assert names == sorted(_serving_inputs(batch))
    assert [node.name for node in session.get_outputs()] == ["sentiment"]
    return session.run(["sentiment"], _serving_inputs(batch))[0]


@pytest.mark.large
@pytest.mark.parametrize("name", tiny_models.MODEL_NAMES)
def test_trained_model_exports_match_predict(name, tmp_path):
    backend = keras.config.backend()
    model = tiny_models.trained(name)
    keras_path = str(tmp_path / "model.keras")
    model.save(keras_path)
    batch = tiny_models.fresh_batch(model)
    expected = keras.ops.convert_to_numpy(
        model.predict(batch, verbose=0)["sentiment"]
    )
    base = str(tmp_path / f"{name}_tiny")

    record = saved_model.export_saved_model(
        keras_path, base, training_backend=backend
    )
    assert record["path"] == os.path.join(base, "1")
    assert record["training_backend"] == backend
    assert record["check"]["max_abs_difference"] <= TOLERANCE
    assert sorted(record["inputs"]) == sorted(_serving_inputs(batch))
    report, served = test_saved_model._serve_in_tensorflow(
        record["path"], [_serving_inputs(batch)], str(tmp_path)
    )
    assert report["serving_default"]["outputs"] == {
        "sentiment": ["float32", [None, 1]]
    }
    size = len(expected)
    assert served[f"{size}/sentiment"].shape == (size, 1)
    np.testing.assert_allclose(
        served[f"{size}/sentiment"], expected, atol=TOLERANCE, rtol=0
    )

    onnx_record = onnx_export.export_onnx(
        keras_path, os.path.join(base, "onnx"), training_backend=backend
    )
    assert onnx_record["path"] == os.path.join(base, "onnx", "1")
    assert onnx_record["format"] == "onnx"
    assert onnx_record["export_backend"] == "torch"
    assert onnx_record["check"]["max_abs_difference"] <= TOLERANCE
    if backend != "torch":  # the training backend's predict was compared
        by_backend = onnx_record["check"][
            "max_abs_difference_by_predict_backend"
        ]
        assert by_backend[backend] <= TOLERANCE
    for input_name, spec in onnx_record["inputs"].items():
        assert spec["shape"][0] is None  # dynamic batch
    onnx_path = os.path.join(onnx_record["path"], onnx_export.ONNX_FILE)
    got = _onnxruntime_sentiment(onnx_path, batch)
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)
    # The SavedModel base path holds integer versions and `onnx/` only.
    assert sorted(os.listdir(base)) == ["1", "onnx"]
    assert saved_model.existing_versions(base) == [1]


# Runs under KERAS_BACKEND=tensorflow: train, save, export, serve.
TENSORFLOW_TRAINING = textwrap.dedent(
    """
    import json, os, sys
    import keras
    import numpy as np
    import tensorflow as tf
    from msakeras.export import saved_model
    from tests.export import tiny_models

    name, out = sys.argv[1:3]
    model = tiny_models.trained(name, seed=5)
    keras_path = os.path.join(out, "model.keras")
    model.save(keras_path)
    batch = tiny_models.fresh_batch(model, batch_size=4, steps=3, seed=2)
    expected = model.predict(batch, verbose=0)["sentiment"]
    record = saved_model.export_saved_model(
        keras_path, os.path.join(out, "saved"),
        training_backend=keras.config.backend())
    serve = tf.saved_model.load(record["path"]).signatures["serving_default"]
    served = serve(**{k: tf.constant(v) for k, v in batch.items()
                      if k not in saved_model.TRAINING_ONLY_INPUTS})
    np.savez(os.path.join(out, "tensorflow.npz"), expected=expected,
             served=served["sentiment"].numpy(),
             **{"input/" + k: v for k, v in batch.items()})
    with open(os.path.join(out, "record.json"), "w") as handle:
        json.dump(record, handle)
    """
)


@pytest.mark.large
@pytest.mark.parametrize("name", tiny_models.MODEL_NAMES)
def test_tensorflow_trained_model_exports_match_predict(name, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", TENSORFLOW_TRAINING, name, str(tmp_path)],
        env=test_saved_model._tensorflow_env(),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    with open(tmp_path / "record.json") as handle:
        record = json.load(handle)
    with np.load(tmp_path / "tensorflow.npz") as data:
        expected, served = data["expected"], data["served"]
        batch = {
            key[len("input/") :]: data[key]
            for key in data.files
            if key.startswith("input/")
        }
    assert record["training_backend"] == "tensorflow"
    assert record["check"]["max_abs_difference"] <= TOLERANCE
    np.testing.assert_allclose(served, expected, atol=TOLERANCE, rtol=0)

    keras_path = str(tmp_path / "model.keras")
    onnx_record = onnx_export.export_onnx(keras_path, str(tmp_path / "onnx"))
    assert onnx_record["check"]["max_abs_difference"] <= TOLERANCE
    got = _onnxruntime_sentiment(
        os.path.join(onnx_record["path"], onnx_export.ONNX_FILE), batch
    )
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)
