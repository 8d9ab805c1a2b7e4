"""Files saved before a composed layer existed load with the same results.

The fixtures (`tests/fixtures/legacy_layout/make_legacy_fixtures.py`) were
written by older code: `mmim` and `mcer` by commit 5f8f766, where the MMILB
critics and the entropy memories were top-level layers of MMIM and MCER
(they now live inside the composed `ba_bound` layer); `self_mi` and
`mcer_features` by commit d34cea1, where Self-MI and MCER held Self-MM's
audio / vision encoders, fusion and post layers themselves (they now live
inside the composed `self_mm_features` layer). The recorded outputs,
weights and optimizer states come from that older code, not from the code
under test.
"""

import os

import keras
import numpy as np
import pytest

from msakeras.models.mcer.mcer_model import MCERModel
from msakeras.models.mmim.mmim_model import MMIMModel
from msakeras.models.self_mi.self_mi_model import SelfMIModel

FIXTURES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "fixtures",
    "legacy_layout",
)
CLASSES = {
    "mmim": MMIMModel,
    "mcer": MCERModel,
    "self_mi": SelfMIModel,
    "mcer_features": MCERModel,
}
NAMES = list(CLASSES)
# The fixtures that recorded the optimizer's variables.
WITH_OPTIMIZER = ("self_mi", "mcer_features")
# Prefixes of the composed layers, absent from each fixture's paths.
COMPOSED = {
    "mmim": ("ba_bound/",),
    "mcer": ("ba_bound/", "self_mm_features/"),
    "self_mi": ("self_mm_features/",),
    "mcer_features": ("self_mm_features/",),
}


def _fixture(name):
    with np.load(os.path.join(FIXTURES, f"{name}.npz")) as data:
        arrays = dict(data)

    def group(prefix):
        return {
            key.split("/", 1)[1]: value
            for key, value in arrays.items()
            if key.startswith(prefix + "/")
        }

    paths = [str(path) for path in arrays["weight_paths"]]
    weights = {path: arrays[f"weight/{i}"] for i, path in enumerate(paths)}
    optimizer = group("optimizer")
    optimizer = [optimizer[str(i)] for i in range(len(optimizer))]
    return group("input"), group("output"), weights, optimizer


def _old_path(name, path):
    for prefix in COMPOSED[name]:
        path = path.replace(prefix, "", 1)
    return path


def _assert_same_model(model, name, optimizer=False):
    inputs, expected, weights, optimizer_values = _fixture(name)
    # Every weight under its old path, the memories' and label tables'
    # non-trainable state included.
    assert len(model.weights) == len(weights)
    for variable in model.weights:
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(variable),
            weights[_old_path(name, variable.path)],
            err_msg=variable.path,
        )
    outputs = model.predict(inputs, batch_size=len(inputs["audio"]), verbose=0)
    assert set(outputs) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(
            np.asarray(outputs[key]), value, rtol=1e-4, atol=1e-5, err_msg=key
        )
    if optimizer and name in WITH_OPTIMIZER:
        # Slots are saved by position: the same values in the same places.
        variables = model.optimizer.variables
        assert len(variables) == len(optimizer_values)
        for variable, value in zip(variables, optimizer_values):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(variable),
                value,
                err_msg=variable.path,
            )


def _assert_composed_layout(model, name):
    if name in ("mmim", "mcer"):
        # The critics now sit inside `ba_bound` under their old layer names.
        assert model.ba_bound.vision_critic.name == "mmilb_text_vision"
        assert model.ba_bound.audio_memory.name == "entropy_memory_audio"
    if name != "mmim":
        encoder = model.self_mm_features
        assert encoder.audio_encoder.name == "audio_encoder"
        assert encoder.post_layers()["text"].name == "text_post"


@pytest.mark.parametrize("name", NAMES)
def test_old_keras_file_loads_into_the_composed_layers(name):
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    assert isinstance(model, CLASSES[name])
    _assert_composed_layout(model, name)
    _assert_same_model(model, name, optimizer=True)
    # The optimizer state came back (two epochs of steps were saved).
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) > 0


@pytest.mark.parametrize("name", NAMES)
def test_old_weights_file_loads_into_a_fresh_model(name):
    saved = keras.saving.load_model(
        os.path.join(FIXTURES, f"{name}.keras"), compile=False
    )
    model = CLASSES[name].from_config(saved.get_config())
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    _assert_same_model(model, name)


@pytest.mark.parametrize("name", NAMES)
def test_new_files_keep_the_composed_layout(name, tmp_path):
    saved = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    path = str(tmp_path / f"{name}.keras")
    saved.save(path)
    revived = keras.saving.load_model(path)
    _assert_composed_layout(revived, name)
    _assert_same_model(revived, name, optimizer=True)
