"""ONNX export: a clear error naming the op and layer, and nothing left."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from msakeras.export import onnx_export
from tests.export import test_saved_model

# A model whose graph holds `ops.linalg.eigh`, which torch's ONNX exporter
# has no translation for (aten._linalg_eigh). The layer is defined in the
# script, so the script converts it in its own torch process with the
# function `export_onnx` runs in its torch subprocess.
EIGH_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import keras
    import numpy as np
    from msakeras.export import onnx_export

    @keras.saving.register_keras_serializable(package="export_test")
    class GramEigenvalues(keras.layers.Layer):
        def call(self, x):
            gram = keras.ops.matmul(keras.ops.transpose(x, (0, 2, 1)), x)
            return keras.ops.linalg.eigh(gram)[0]

    audio = keras.Input((None, 3), name="audio")
    pooled = keras.layers.Dense(1)(GramEigenvalues()(audio))
    model = keras.Model(audio, {"sentiment": pooled}, name="eigh_model")
    model.predict(np.ones((2, 4, 3), "float32"), verbose=0)
    out = sys.argv[1]
    keras_path = os.path.join(os.path.dirname(out), "eigh.keras")
    model.save(keras_path)
    try:  # what `export_onnx`'s torch subprocess runs
        onnx_export.export_with_torch(
            model, keras_path, out, 1, ("sentiment",), "torch", 1e-4)
        report = {"raised": None}
    except onnx_export.OnnxExportError as error:
        report = {"raised": type(error).__name__, "message": str(error),
                  "ops": list(error.ops), "layers": list(error.layers)}
    print("REPORT " + json.dumps(report))
    """
)


@pytest.mark.large
def test_unconvertible_op_is_named_and_nothing_is_left(tmp_path):
    out = tmp_path / "eigh_model"
    completed = subprocess.run(
        [sys.executable, "-c", EIGH_SCRIPT, str(out)],
        env=dict(test_saved_model._tensorflow_env(), KERAS_BACKEND="torch"),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = [
        line for line in completed.stdout.splitlines() if line[:7] == "REPORT "
    ][-1]
    report = json.loads(line[len("REPORT ") :])
    assert report["raised"] == "OnnxExportError"
    assert "aten._linalg_eigh" in report["ops"]
    assert "cannot be converted to ONNX" in report["message"]
    assert "aten._linalg_eigh" in report["message"]
    assert "Functional" in report["message"]  # the model's class
    assert os.listdir(out) == []  # no version, no staging folder


def test_failing_ops_and_layers_are_read_from_converter_messages():
    text = (
        "No ONNX function found for <OpOverload(op='aten._linalg_eigh', "
        "overload='default')> ... Exception encountered when calling "
        "GramEigenvalues.call(). ... aten::take_along_dim"
    )
    assert onnx_export._failing_ops(text) == [
        "aten._linalg_eigh",
        "aten.take_along_dim",
    ]
    assert onnx_export._failing_layers(text) == ["GramEigenvalues"]


@pytest.mark.large
def test_onnx_refuses_to_overwrite_and_checks_files(tmp_path):
    os.makedirs(tmp_path / "onnx" / "1")
    inputs = keras.Input((None, 3), name="audio")
    pooled = keras.layers.GlobalAveragePooling1D()(inputs)
    model = keras.Model(inputs, {"sentiment": keras.layers.Dense(1)(pooled)})
    model.predict(np.ones((2, 4, 3), "float32"), verbose=0)
    with pytest.raises(FileExistsError, match="never overwritten"):
        onnx_export.export_onnx(model, str(tmp_path / "onnx"), version=1)
    with pytest.raises(FileNotFoundError):
        onnx_export.export_onnx(str(tmp_path / "missing.keras"), str(tmp_path))
    record = onnx_export.export_onnx(model, str(tmp_path / "onnx"))
    assert record["version"] == 2
    assert sorted(os.listdir(tmp_path / "onnx")) == ["1", "2"]
    with open(tmp_path / "onnx" / "2" / "export.json") as handle:
        on_disk = json.load(handle)
    assert on_disk["inputs"] == {
        "audio": {"dtype": "tensor(float)", "shape": [None, None, 3]}
    }
    assert on_disk["check"]["max_abs_difference"] <= 1e-4
