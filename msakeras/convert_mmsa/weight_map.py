"""`WeightMap`: PyTorch state-dict keys -> Keras variables, checked."""

import numpy as np

# Layouts: how a torch tensor becomes the Keras variable's value, and the
# torch shape a Keras variable of a given shape expects.
LAYOUTS = ("same", "linear", "heads_in", "heads_bias", "heads_out")

# Buffers a Hugging Face BERT may carry in older `transformers` (constant
# index tensors, not weights).
IGNORED_SUFFIXES = (
    "embeddings.position_ids",
    "embeddings.token_type_ids",
)


def _torch_shape(layout, shape):
    shape = tuple(shape)
    if layout == "same":
        return shape
    if layout == "linear":  # Keras (in, out) <- torch (out, in)
        return shape[::-1]
    if layout == "heads_in":  # Keras (d, heads, head_dim) <- (h*hd, d)
        return (shape[1] * shape[2], shape[0])
    if layout == "heads_bias":  # Keras (heads, head_dim) <- (h*hd,)
        return (shape[0] * shape[1],)
    if layout == "heads_out":  # Keras (heads, head_dim, d) <- (d, h*hd)
        return (shape[2], shape[0] * shape[1])
    raise ValueError(f"Unknown layout {layout!r}; expected one of {LAYOUTS}.")


def _to_keras(layout, tensor, shape):
    if layout == "same":
        return tensor
    return np.reshape(np.transpose(tensor), shape)


class WeightMap:
    """Maps every tensor of a state dict onto a Keras variable, or refuses.

    Entries are added per key with `add(key, variable, layout)`; several
    keys added with `accumulate=True` to one variable are summed (PyTorch
    LSTMs have `bias_ih` and `bias_hh`, Keras one bias). `assign`
    checks first that the state dict has exactly the mapped keys (up to
    `IGNORED_SUFFIXES`) with the expected shapes, and only then writes the
    variables, so a refused checkpoint leaves the model untouched.

    Layouts (torch -> Keras): `"same"`; `"linear"` (transpose, `nn.Linear`
    and `nn.LSTM` weights); `"heads_in"` / `"heads_bias"` / `"heads_out"`
    (a transposed linear reshaped to Keras `MultiHeadAttention`'s per-head
    kernels).

    Example:

    ```python
    weights = WeightMap("model.pth", "mmim")
    weights.add("fusion_prj.linear_1.weight", dense.kernel, "linear")
    weights.add("fusion_prj.linear_1.bias", dense.bias)
    weights.assign(state_dict)
    ```
    """

    def __init__(self, path, description):
        self.path = path
        self.description = description
        self._entries = {}  # key -> (variable, layout, accumulate)

    def add(self, key, variable, layout="same", accumulate=False):
        """Maps `key` onto `variable` (see the class docstring)."""
        if key in self._entries:
            raise ValueError(f"Key '{key}' is mapped twice.")
        _torch_shape(layout, variable.shape)  # checks the layout
        self._entries[key] = (variable, layout, accumulate)

    def expected_shape(self, key):
        variable, layout, _ = self._entries[key]
        return _torch_shape(layout, variable.shape)

    def check(self, state_dict):
        """Raises one `ValueError` naming the first key that does not fit."""
        problems = []
        for key, tensor in state_dict.items():
            if key.endswith(IGNORED_SUFFIXES):
                continue
            if key not in self._entries:
                problems.append(
                    f"key '{key}' (shape {tuple(tensor.shape)}) has no "
                    f"place in the {self.description} (expected shape: "
                    "none)"
                )
            elif tuple(tensor.shape) != self.expected_shape(key):
                problems.append(
                    f"key '{key}' has shape {tuple(tensor.shape)}; the "
                    f"{self.description} expects "
                    f"{self.expected_shape(key)}"
                )
        for key in self._entries:
            if key not in state_dict:
                problems.append(
                    f"key '{key}' (expected shape "
                    f"{self.expected_shape(key)}) is missing (found shape: "
                    "none)"
                )
        if problems:
            more = len(problems) - 1
            raise ValueError(
                f"Checkpoint '{self.path}' does not fit the "
                f"{self.description}: {problems[0]}"
                + (f" (and {more} more mismatches)" if more else "")
                + "."
            )

    def assign(self, state_dict):
        """Checks `state_dict`, then writes every mapped variable."""
        self.check(state_dict)
        values = {}
        for key, (variable, layout, accumulate) in self._entries.items():
            value = _to_keras(
                layout, np.asarray(state_dict[key], "float32"), variable.shape
            )
            slot = id(variable)
            if accumulate and slot in values:
                values[slot] = (variable, values[slot][1] + value)
            else:
                values[slot] = (variable, value)
        for variable, value in values.values():
            variable.assign(value.astype(variable.dtype))
        return len(values)

    def unmapped(self, variables):
        """The variables of `variables` that no key maps onto."""
        mapped = {id(variable) for variable, _, _ in self._entries.values()}
        return [v for v in variables if id(v) not in mapped]

    def __len__(self):
        return len(self._entries)
