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
    # torch.compile, and TensorFlow's tracing of MCER and DashFusion (40 s to
    # 3 min each on a busy 2-core CPU), take minutes.
    if BACKEND == "torch" or name in ("mcer", "dashfusion"):
        return [pytest.mark.large]
    return []


# Losses and weights agree to 1e-5 (float32 carries ~7 digits; XLA,
# jax.jit and inductor fuse and reorder reductions, so a few ulps of
# difference per step are expected, not more). One exception: an attention
# key bias adds q.b to every logit of a query's row, which the softmax
# cancels (Vaswani et al. 2017, eq. 1): its exact gradient is zero and
# autodiff returns rounding noise (~1e-9) that depends on the reduction
# order. Adam divides that noise by its own root mean square (epsilon 1e-7),
# so such a weight takes steps of up to +-learning_rate in a direction set
# by rounding alone; the two runs agree there only in that both stay within
# `steps * learning_rate` of the start (the largest default rate of the
# five models' optimizer groups: MCER's vision group, 6e-3).
GRADIENT_FREE = ("/key/bias", "/key_dense/bias")
LARGEST_LEARNING_RATE = 6e-3
TOLERANCE = 1e-5


def _weights(model):
    # In creation order: auto-generated layer names differ between models.
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _assert_weights_close(compiled, eager, initial, steps):
    paths = [w.path for w in eager.weights]
    compiled, eager = _weights(compiled), _weights(eager)
    assert len(compiled) == len(eager) == len(initial) == len(paths)
    for path, after, before, start in zip(paths, compiled, eager, initial):
        if path.endswith(GRADIENT_FREE):
            bound = steps * LARGEST_LEARNING_RATE
            for moved in (after, before):
                assert np.max(np.abs(moved - start)) <= bound, path
            continue
        np.testing.assert_allclose(after, before, atol=TOLERANCE, err_msg=path)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=_slow(name))
        for name in compiled_models.MODEL_NAMES
    ],
)
def test_compiled_steps_equal_uncompiled(name):
    keras.utils.set_random_seed(0)
    initial = _weights(compiled_models.tiny_model(name))
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
    if compiled.auxiliary_optimizers():
        # MMIM's stage-one model, as `fit` ran it, follows the main model's
        # setting.
        stage = compiled.training_procedure.stage_one.built_model
        assert stage.jit_compile is compiled.jit_compile
    assert len(eager_losses) == 3
    np.testing.assert_allclose(compiled_losses, eager_losses, atol=TOLERANCE)
    _assert_weights_close(compiled, eager, initial, steps=len(eager_losses))


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
    model.fit(x, y[:10], batch_size=4, epochs=2, verbose=0, callbacks=[counter])
    assert counter.per_epoch[0] >= 1
    assert counter.per_epoch[1] == 0, counter.per_epoch


class _CountCompiles(keras.callbacks.Callback):
    """Counts graphs torch.compile (dynamo) compiles, per epoch."""

    def __init__(self):
        super().__init__()
        import torch
        from torch._dynamo.utils import counters

        # Earlier tests in this process compiled the same Keras code
        # objects; without a reset their cached graphs would be reused.
        torch._dynamo.reset()
        self.stats = counters["stats"]
        self.stats.clear()
        self.per_epoch = []

    def on_epoch_end(self, epoch, logs=None):
        total = self.stats["unique_graphs"]
        self.per_epoch.append(total - sum(self.per_epoch))


# Graph breaks inside Keras's own layer machinery remain (its `tree`
# flattening and signature binding; 14-29 graphs per model in the first
# epoch), but nothing recompiles later. It did, until the contrastive pair
# masks stopped building constants with NumPy and `arange` of the batch
# size, and DashFusion's pair grids stopped using `repeat`: with the last
# batch's smaller size dynamo marks the batch dimension dynamic, and those
# ops broke the graph again in the second epoch (HyCon: 28 graphs in the
# first epoch, 7 more in the second). Each case recompiles from scratch
# (1.5-3.5 min on a 2-core CPU), so CI runs the two models whose code
# changed for it (HyCon's pair masks, DashFusion's pair grids); MMIM,
# Self-MI and MCER gave 0 graphs in the second epoch when run the same way
# (2026-12-05, torch 2.13).
@pytest.mark.large
@pytest.mark.requires_backend("torch")
@pytest.mark.parametrize("name", ["hycon", "dashfusion"])
def test_torch_compile_does_not_recompile_in_the_second_epoch(name):
    # As above: batch shapes 4 and 2 compile in the first epoch only.
    keras.utils.set_random_seed(0)
    model = compiled_models.tiny_model(name)
    model.compile(jit_compile=True)
    x, y = compiled_models.tiny_data(name)
    x = {key: value[:10] for key, value in x.items()}
    counter = _CountCompiles()
    model.fit(x, y[:10], batch_size=4, epochs=2, verbose=0, callbacks=[counter])
    assert counter.per_epoch[0] >= 1
    assert counter.per_epoch[1] == 0, counter.per_epoch
