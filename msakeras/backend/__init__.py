"""Backend dispatch for the few ops where one backend has a faster kernel.

The generic `keras.ops` path is always the reference; a fast path takes the
same weights in the same layout, so a `.keras` file never depends on which
one ran (architecture §14). Today: recurrent layers under the torch
backend, where Keras's generic LSTM/GRU runs a Python loop over time steps
on CPU while torch's fused `nn.LSTM`/`nn.GRU` kernels run the whole
sequence at once.
"""

import keras


def run_recurrent(layer, inputs, training=None):
    """Runs a Keras `LSTM`/`GRU` with `return_sequences=True` on `inputs`.

    Under the torch backend, on concrete tensors, an `LSTM` (or a
    `GRU(reset_after=True)`) with tanh/sigmoid activations and no dropout
    runs through torch's fused kernel with the layer's own variables
    (`msakeras.backend.torch_recurrent`); otherwise the layer is called.
    Both give the same outputs and gradients (tests/backend).
    """
    if keras.config.backend() == "torch" and not isinstance(
        inputs, keras.KerasTensor
    ):
        from msakeras.backend import torch_recurrent

        if torch_recurrent.supports(layer) and torch_recurrent.is_concrete(
            inputs
        ):
            return torch_recurrent.run(layer, inputs)
    return layer(inputs, training=training)
