"""Backend dispatch for the few ops where one backend has a faster kernel.

The generic `keras.ops` path is always the reference; a fast path takes the
same weights in the same layout, so a `.keras` file never depends on which
one ran (docs/architecture.md). Today: recurrent layers under the torch
backend, where Keras's generic LSTM/GRU runs a Python loop over time steps
on CPU while torch's fused `nn.LSTM`/`nn.GRU` kernels run the whole
sequence at once; and `CoupledL2Adam`'s step under torch
(`torch_adam`: multi-tensor kernels instead of a loop over variables).

Importing this package imports no framework: `msakeras/__init__.py`
applies `tensorflow_guard` (which must run before Keras is imported) from
here, so Keras is imported inside the functions below.
"""

_REDUCED_PRECISION = ("float16", "bfloat16")


def recurrent_dtype_policy(policy):
    """The dtype policy for a recurrent sublayer of a layer with `policy`.

    Under a mixed policy (`mixed_float16`, `mixed_bfloat16`) recurrent
    layers compute in float32 (their variables are float32 under both
    anyway): jaxlib's cuDNN RNN kernel has no float16 output (seen on an
    H200 with JAX 0.11.2: "ValueError: Unknown output type float16"), and a
    recurrence over hundreds of frames accumulates the rounding of every
    step. Keras casts the inputs on the way in; the caller's next layer
    casts the float32 outputs back to its own compute dtype.
    """
    import keras

    policy = keras.dtype_policies.get(policy)
    if policy.compute_dtype in _REDUCED_PRECISION:
        return keras.dtype_policies.DTypePolicy("float32")
    return policy


def run_recurrent(layer, inputs, training=None):
    """Runs a Keras `LSTM`/`GRU` with `return_sequences=True` on `inputs`.

    Under the torch backend, on concrete tensors, an `LSTM` (or a
    `GRU(reset_after=True)`) with tanh/sigmoid activations and no dropout
    runs through torch's fused kernel with the layer's own variables
    (`msakeras.backend.torch_recurrent`); otherwise the layer is called.
    Both give the same outputs and gradients (tests/backend).
    """
    import keras

    if keras.config.backend() == "torch" and not isinstance(
        inputs, keras.KerasTensor
    ):
        # `layer(...)` casts its inputs to its compute dtype; so must the
        # fast path, which bypasses `__call__`.
        inputs = keras.ops.cast(inputs, layer.compute_dtype)
        from msakeras.backend import torch_recurrent

        if torch_recurrent.supports(layer) and torch_recurrent.is_concrete(
            inputs
        ):
            return torch_recurrent.run(layer, inputs)
    return layer(inputs, training=training)
