"""Device, peak-memory and FLOP queries that need the backend's own API.

These are the only places where a run receipt or a profile has to ask the
framework itself (which accelerator, how much memory at peak, how many
floating-point operations one forward pass takes); everything else in
`msakeras.experiment` is backend-agnostic.
"""

import platform
import resource
import sys

import keras


def device_description():
    """The device the current backend computes on, as a short string.

    Returns:
        e.g. `"cpu (x86_64)"` or `"cuda:0 (NVIDIA H100 80GB HBM3)"`.
    """
    backend = keras.config.backend()
    cpu = f"cpu ({platform.machine() or 'unknown'})"
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            index = torch.cuda.current_device()
            return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
        return cpu
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return gpus[0].name if gpus else cpu
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return cpu if device.platform == "cpu" else str(device)
    return cpu


def _on_gpu():
    return not device_description().startswith("cpu")


def reset_peak_memory():
    """Resets the accelerator's peak-memory counter (no-op on CPU)."""
    backend = keras.config.backend()
    if backend == "torch" and _on_gpu():
        import torch

        torch.cuda.reset_peak_memory_stats()
    elif backend == "tensorflow" and _on_gpu():
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("GPU:0")


def peak_memory_bytes():
    """Peak memory of the current device since the last reset.

    On an accelerator: the framework's peak allocated bytes. On CPU: the
    process's peak resident set size (`getrusage`), which never resets, so
    it bounds the peak of everything the process did so far.

    Returns:
        `(bytes, what)`: the number and a word on what was measured.
    """
    backend = keras.config.backend()
    if _on_gpu():
        if backend == "torch":
            import torch

            return int(torch.cuda.max_memory_allocated()), "gpu allocated"
        if backend == "tensorflow":
            import tensorflow as tf

            info = tf.config.experimental.get_memory_info("GPU:0")
            return int(info["peak"]), "gpu allocated"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # Linux: kilobytes
    return int(peak * scale), "process peak RSS"


def forward_flops(model, inputs):
    """Floating-point operations of one inference forward pass.

    Counted by the backend's own tools: torch's `FlopCounterMode`
    (matrix multiplies, convolutions, attention: the operations that
    dominate), TensorFlow's graph profiler (`float_ops` of every op with a
    registered cost), JAX's XLA cost analysis. Different counters see
    different ops, so numbers are estimates and comparable only within a
    backend.

    Args:
        model: a built Keras model.
        inputs: the inputs `model(inputs, training=False)` takes.

    Returns:
        The count as an int, or `None` where the backend has no counter.
    """
    backend = keras.config.backend()
    if backend == "torch":
        from torch.utils.flop_counter import FlopCounterMode

        # Not under no_grad: torch's module tracker then trips on outputs
        # that require grad without a grad_fn.
        counter = FlopCounterMode(display=False)
        with counter:
            model(inputs, training=False)
        return int(counter.get_total_flops())
    if backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.framework import convert_to_constants

        specs = {
            name: tf.TensorSpec(value.shape, tf.as_dtype(value.dtype))
            for name, value in inputs.items()
        }

        @tf.function(input_signature=[specs])
        def forward(batch):
            return model(batch, training=False)

        concrete = forward.get_concrete_function()
        frozen = convert_to_constants.convert_variables_to_constants_v2(
            concrete
        )
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        profile = tf.compat.v1.profiler.profile(
            graph=frozen.graph, options=options
        )
        return int(profile.total_float_ops)
    if backend == "jax":
        import jax

        def forward(batch):
            return model(batch, training=False)

        analysis = jax.jit(forward).lower(inputs).compile().cost_analysis()
        if isinstance(analysis, list):
            analysis = analysis[0] if analysis else {}
        flops = (analysis or {}).get("flops")
        return None if flops is None else int(flops)
    return None
