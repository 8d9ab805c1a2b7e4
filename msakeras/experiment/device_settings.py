"""Precision policy and compiled train step of a recipe run.

`--mixed-precision` picks the policy of the device, `--compile` the
model's `jit_compile`; the resolved choice goes into `run.json`.
"""

import keras

from msakeras.backend import device_info
from msakeras.backend import keras_internals


def set_precision(run):
    """`--mixed-precision` (`run`: the run's `RunSettings`)."""
    if run.mixed_precision:
        on_gpu = bool(keras.config.backend() != "numpy" and has_gpu())
        keras.mixed_precision.set_global_policy(
            "mixed_float16" if on_gpu else "mixed_bfloat16"
        )


def resolve_jit_compile(setting, model):
    """`(jit_compile, reason)` for `--compile auto|on|off` and `model`.

    `auto` is Keras's own `jit_compile="auto"`, the path every recipe ran
    before `--compile` existed: `jax.jit` under JAX, XLA under TensorFlow
    only on a GPU without a distribution strategy, uncompiled under torch.
    A model that cannot compile on a backend (`MSAModel.
    jit_compile_unsupported`) runs uncompiled whatever the setting. Each
    compiled step is tested equal to the uncompiled one
    (tests/training/test_compiled_steps.py); README "Compiled train steps"
    gives the timings behind keeping TensorFlow and torch uncompiled on CPU.
    """
    backend = keras.config.backend()
    # A plain `keras.Model` (your own) declares nothing: compiled anywhere.
    unsupported = getattr(model, "jit_compile_unsupported", {}).get(backend)
    if setting == "on":
        if unsupported:
            return False, f"--compile on; not supported: {unsupported}"
        return True, "--compile on"
    if setting == "off":
        return False, "--compile off"
    if unsupported:
        return False, f"auto: not supported: {unsupported}"
    resolved = bool(keras_internals.resolve_auto_jit_compile(model))
    where = "on a GPU" if has_gpu() else "on CPU"
    state = "compiled" if resolved else "uncompiled"
    return resolved, f"auto: {backend} {where} runs {state} (Keras's rule)"


def apply_jit_compile(setting, model):
    """Sets the compiled model's `jit_compile` from `--compile` (`setting`:
    `auto`, `on` or `off`); returns the `run.json` entry (requested,
    resolved, reason)."""
    jit_compile, reason = resolve_jit_compile(setting, model)
    if setting == "on":
        model.jit_compile = True  # warns where the model refuses
    else:
        model.jit_compile = jit_compile
    return {
        "requested": setting,
        "jit_compile": bool(model.jit_compile),
        "reason": reason,
    }


def has_gpu():
    """Whether the backend computes on an accelerator."""
    return not device_info.device_description().startswith("cpu")
