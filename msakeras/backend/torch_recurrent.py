"""torch fast path for Keras `LSTM`/`GRU` (documented backend exception).

Keras stores an LSTM as `kernel (in, 4h)`, `recurrent_kernel (h, 4h)`,
`bias (4h,)` with gates ordered i, f, c, o, which is torch's i, f, g, o
order: torch's `weight_ih = kernel.T`, `weight_hh = recurrent_kernel.T`,
`bias_ih = bias`, `bias_hh = 0`. A Keras `GRU(reset_after=True)` stores
gates z, r, h with `bias (2, 3h)` = (input bias, recurrent bias); torch's
order is r, z, n with the same reset-after form, so the blocks are
reordered. `torch.func.functional_call` runs a cached `nn.LSTM`/`nn.GRU`
with these tensors, so gradients flow back into the Keras variables.
"""

import torch

_MODULES = {}


def supports(layer):
    import keras

    if not isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        return False
    cell = layer.cell
    plain = (
        layer.return_sequences
        and not layer.go_backwards
        and not layer.stateful
        and cell.dropout == 0
        and cell.recurrent_dropout == 0
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
        and cell.use_bias
    )
    if isinstance(layer, keras.layers.GRU):
        plain = plain and cell.reset_after
    return plain and layer.built


def is_concrete(inputs):
    """False for the meta-device tensors Keras traces shapes with."""
    return isinstance(inputs, torch.Tensor) and inputs.device.type != "meta"


def _new_module(kind, input_size, hidden_size):
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    # Building the module draws its (unused) initial weights from torch's
    # global generator, which also drives unseeded dropout: keep that
    # stream independent of when a module is built, or a resumed run drops
    # different units than an uninterrupted one.
    with torch.random.fork_rng(devices=[]):
        return cls(input_size, hidden_size, batch_first=True)


def _module(kind, input_size, hidden_size, device):
    # One module per device: on CUDA, `nn.LSTM` flattens the weights it is
    # given into one cuDNN buffer, which needs module and weights on the
    # same device.
    key = (kind, input_size, hidden_size, str(device))
    if key not in _MODULES:
        module = _new_module(kind, input_size, hidden_size)
        _MODULES[key] = module.to(device)
    return _MODULES[key]


def _reorder_gru(matrix, hidden_size):
    # Keras z, r, h blocks (last axis) -> torch r, z, n.
    z, r, h = (
        matrix[..., i * hidden_size : (i + 1) * hidden_size] for i in range(3)
    )
    return torch.cat([r, z, h], dim=-1)


def run(layer, inputs):
    import keras

    cell = layer.cell
    hidden_size = cell.units
    # The Keras variable's shape is a tuple of ints, also while torch
    # traces (ONNX export), where a tensor's `.shape` entries are tensors.
    input_size = int(cell.kernel.shape[0])
    kernel = cell.kernel.value
    recurrent = cell.recurrent_kernel.value
    bias = cell.bias.value
    dtype = inputs.dtype
    kind = "lstm" if isinstance(layer, keras.layers.LSTM) else "gru"

    def weight(matrix):
        # Keras (in, out) -> torch (out, in). cuDNN views each weight as one
        # flat block: the transposed view must be made contiguous.
        return matrix.t().contiguous().to(dtype)

    if kind == "lstm":
        parameters = {
            "weight_ih_l0": weight(kernel),
            "weight_hh_l0": weight(recurrent),
            "bias_ih_l0": bias.to(dtype),
            "bias_hh_l0": torch.zeros_like(bias, dtype=dtype),
        }
    else:
        parameters = {
            "weight_ih_l0": weight(_reorder_gru(kernel, hidden_size)),
            "weight_hh_l0": weight(_reorder_gru(recurrent, hidden_size)),
            "bias_ih_l0": _reorder_gru(bias[0], hidden_size).to(dtype),
            "bias_hh_l0": _reorder_gru(bias[1], hidden_size).to(dtype),
        }
    if torch.jit.is_tracing():
        # ONNX export traces the model, and `functional_call` refuses to run
        # under the tracer; a module holding copies of the weights records
        # one `aten::lstm`/`aten::gru` (an ONNX LSTM/GRU node, any length).
        module = _new_module(kind, input_size, hidden_size)
        for name, value in parameters.items():
            getattr(module, name).data = value.detach().clone()
        outputs, _ = module(inputs)
        return outputs
    module = _module(kind, input_size, hidden_size, inputs.device)
    outputs, _ = torch.func.functional_call(module, parameters, (inputs,))
    return outputs
