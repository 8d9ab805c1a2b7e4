"""`--compile auto|on|off`: the `jit_compile` a recipe sets, and its record."""

import keras
import pytest

from msakeras.experiment import device_settings
from msakeras.models import msa_model

BACKEND = keras.config.backend()


def _model(unsupported=None):
    class Model(msa_model.MSAModel):
        jit_compile_unsupported = unsupported or {}

    inputs = keras.Input((3,))
    model = Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile()
    return model


def _apply(setting, model):
    return device_settings.apply_jit_compile(setting, model)


def test_on_and_off_set_jit_compile():
    model = _model()
    assert _apply("on", model) == {
        "requested": "on",
        "jit_compile": True,
        "reason": "--compile on",
    }
    assert model.jit_compile is True
    assert _apply("off", model)["jit_compile"] is False
    assert model.jit_compile is False


def test_auto_is_the_keras_default():
    # Keras's `jit_compile="auto"`: jax.jit under JAX, XLA under TensorFlow
    # only on a GPU, never torch.compile.
    expected = BACKEND == "jax" or (
        BACKEND == "tensorflow" and device_settings.has_gpu()
    )
    model = _model()
    record = _apply("auto", model)
    assert record["jit_compile"] is expected
    assert model.jit_compile is expected
    assert record["reason"].startswith(f"auto: {BACKEND}")


def test_a_refusing_model_runs_uncompiled_and_says_why():
    model = _model({BACKEND: "no kernel for op X"})
    assert _apply("auto", model) == {
        "requested": "auto",
        "jit_compile": False,
        "reason": "auto: not supported: no kernel for op X",
    }
    with pytest.warns(UserWarning, match="no kernel for op X"):
        record = _apply("on", model)
    assert record["jit_compile"] is False
    assert model.jit_compile is False
