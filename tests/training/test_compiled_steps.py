"""Compiled (`jit_compile=True`) vs uncompiled train steps, and retracing.

Per model, on the backend of this process (`KERAS_BACKEND`): XLA under
TensorFlow, `jax.jit` under JAX, `torch.compile` under torch.
"""

import warnings

import keras
import numpy as np
import pytest

from msakeras.models import msa_model
from tests.training import compiled_models

BACKEND = keras.config.backend()


def _slow(name):
    # torch.compile and DashFusion's XLA/graph tracing take minutes.
    if BACKEND == "torch" or name == "dashfusion":
        return [pytest.mark.large]
    return []


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=_slow(name))
        for name in compiled_models.MODEL_NAMES
    ],
)
def test_compiled_steps_equal_uncompiled(name):
    eager, eager_losses, _ = compiled_models.compiled_fit(name, False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, compiled_losses, _ = compiled_models.compiled_fit(name, True)
    reason = type(compiled).jit_compile_unsupported.get(BACKEND)
    if reason:
        # Refused with a warning naming the reason; the step runs unchanged.
        assert compiled.jit_compile is False
        assert any(reason in str(w.message) for w in caught)
    else:
        assert compiled.jit_compile is True
    stage = getattr(compiled, "_mi_stage", None)
    if stage is not None and stage.model is not None:
        # MMIM's stage-1 model follows the main model's setting.
        assert stage.model.jit_compile is compiled.jit_compile
    assert len(eager_losses) == 3
    np.testing.assert_allclose(compiled_losses, eager_losses, atol=1e-5)
    for before, after in zip(_weights(eager), _weights(compiled)):
        np.testing.assert_allclose(after, before, atol=1e-5)


def test_unsupported_backend_resolves_auto_to_uncompiled():
    class Refused(msa_model.MSAModel):
        jit_compile_unsupported = {BACKEND: "a test reason"}

    inputs = keras.Input((3,))
    model = Refused(inputs, keras.layers.Dense(1)(inputs))
    model.compile(jit_compile="auto")
    assert model.jit_compile is False
    with pytest.warns(UserWarning, match="a test reason"):
        model.jit_compile = True
    assert model.jit_compile is False


def test_setting_follows_to_stage_one():
    keras.utils.set_random_seed(0)
    model = compiled_models.tiny_model("mmim")
    model.compile(jit_compile=False)
    assert model.stage_one().jit_compile is False
    model.jit_compile = True
    expected = not model.jit_compile_unsupported.get(BACKEND)
    assert model.jit_compile is expected
    assert model.stage_one().jit_compile is expected


class _CountTraces(keras.callbacks.Callback):
    """Counts Python runs of `train_step` (one per trace when compiled)."""

    def __init__(self):
        super().__init__()
        self.per_epoch = []
        self.calls = 0

    def set_model(self, model):
        super().set_model(model)
        original = model.train_step

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        model.train_step = counted

    def on_epoch_end(self, epoch, logs=None):
        self.per_epoch.append(self.calls - sum(self.per_epoch))


# JAX with `jit_compile=False` and torch without compile run `train_step`
# eagerly every step; TensorFlow's uncompiled step is a traced graph.
@pytest.mark.requires_backend("tensorflow", "jax")
@pytest.mark.parametrize(
    "jit_compile", [True] + ([False] if BACKEND == "tensorflow" else [])
)
def test_second_epoch_does_not_retrace(jit_compile):
    # 10 samples in batches of 4: two batch shapes (4 and 2), each traced
    # once in the first epoch and reused in the second.
    keras.utils.set_random_seed(0)
    model = compiled_models.tiny_model("hycon")
    model.compile(jit_compile=jit_compile)
    x, y = compiled_models.tiny_data("hycon")
    x = {key: value[:10] for key, value in x.items()}
    counter = _CountTraces()
    model.fit(
        x, y[:10], batch_size=4, epochs=2, verbose=0, callbacks=[counter]
    )
    assert counter.per_epoch[0] >= 1
    assert counter.per_epoch[1] == 0, counter.per_epoch
