"""Files saved before `BarberAgakovBound` load with the same predictions.

The fixtures (`tests/fixtures/legacy_layout/make_legacy_fixtures.py`) were
written by the code of commit 5f8f766, where the MMILB critics and the
entropy memories were top-level layers of MMIM and MCER; they now live
inside the composed `ba_bound` layer. The recorded outputs and weights
come from that older code, not from the code under test.
"""

import os

import keras
import numpy as np
import pytest

from msakeras.models.mcer.mcer_model import MCERModel
from msakeras.models.mmim.mmim_model import MMIMModel

FIXTURES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "fixtures",
    "legacy_layout",
)
CLASSES = {"mmim": MMIMModel, "mcer": MCERModel}


def _fixture(name):
    with np.load(os.path.join(FIXTURES, f"{name}.npz")) as data:
        arrays = dict(data)
    inputs = {
        key.split("/", 1)[1]: value
        for key, value in arrays.items()
        if key.startswith("input/")
    }
    outputs = {
        key.split("/", 1)[1]: value
        for key, value in arrays.items()
        if key.startswith("output/")
    }
    weights = [
        arrays[f"weight/{i}"] for i in range(len(arrays["weight_paths"]))
    ]
    return inputs, outputs, weights


def _assert_same_model(model, name):
    inputs, expected, weights = _fixture(name)
    # Every weight, in the old `model.weights` order (the order optimizer
    # slots are saved by), the memories' non-trainable state included.
    assert len(model.weights) == len(weights)
    for variable, value in zip(model.weights, weights):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(variable), value, err_msg=variable.path
        )
    outputs = model.predict(inputs, batch_size=len(inputs["audio"]), verbose=0)
    assert set(outputs) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(
            np.asarray(outputs[key]), value, rtol=1e-4, atol=1e-5, err_msg=key
        )


@pytest.mark.parametrize("name", ["mmim", "mcer"])
def test_old_keras_file_loads_into_the_composed_bound(name):
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    assert isinstance(model, CLASSES[name])
    # The critics now sit inside `ba_bound` under their old layer names.
    assert model.ba_bound.vision_critic.name == "mmilb_text_vision"
    assert model.ba_bound.audio_memory.name == "entropy_memory_audio"
    _assert_same_model(model, name)
    # The optimizer state came back (two epochs of steps were saved).
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) > 0


@pytest.mark.parametrize("name", ["mmim", "mcer"])
def test_old_weights_file_loads_into_a_fresh_model(name):
    saved = keras.saving.load_model(
        os.path.join(FIXTURES, f"{name}.keras"), compile=False
    )
    model = CLASSES[name].from_config(saved.get_config())
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    _assert_same_model(model, name)


@pytest.mark.parametrize("name", ["mmim", "mcer"])
def test_new_files_keep_the_composed_layout(name, tmp_path):
    saved = keras.saving.load_model(
        os.path.join(FIXTURES, f"{name}.keras"), compile=False
    )
    path = str(tmp_path / f"{name}.keras")
    saved.save(path)
    _assert_same_model(keras.saving.load_model(path, compile=False), name)
