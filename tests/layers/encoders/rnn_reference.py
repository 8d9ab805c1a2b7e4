"""NumPy LSTM and GRU cells with Keras's weight layouts (test helpers)."""

import numpy as np
from keras import ops


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm(inputs, kernel, recurrent_kernel, bias):
    """Per-step outputs of a Keras LSTM (gates i, f, c, o) on `(steps, f)`."""
    units = recurrent_kernel.shape[0]
    hidden = np.zeros(units)
    cell = np.zeros(units)
    outputs = []
    for step in inputs:
        z = step @ kernel + hidden @ recurrent_kernel + bias
        i = sigmoid(z[:units])
        f = sigmoid(z[units : 2 * units])
        c = np.tanh(z[2 * units : 3 * units])
        o = sigmoid(z[3 * units :])
        cell = f * cell + i * c
        hidden = o * np.tanh(cell)
        outputs.append(hidden)
    return np.stack(outputs)


def numpy_gru(inputs, kernel, recurrent_kernel, bias):
    """Per-step outputs of a Keras GRU (`reset_after=True`, gates z, r, h)."""
    units = recurrent_kernel.shape[0]
    hidden = np.zeros(units)
    outputs = []
    for step in inputs:
        x = step @ kernel + bias[0]
        h = hidden @ recurrent_kernel + bias[1]
        z = sigmoid(x[:units] + h[:units])
        r = sigmoid(x[units : 2 * units] + h[units : 2 * units])
        candidate = np.tanh(x[2 * units :] + r * h[2 * units :])
        hidden = z * hidden + (1 - z) * candidate
        outputs.append(hidden)
    return np.stack(outputs)


def weights_by_name(layer):
    """`{"<sublayer>/<variable>": array}` for a layer's weights."""
    prefix = layer.path + "/"
    return {
        weight.path[len(prefix) :]: ops.convert_to_numpy(weight)
        for weight in layer.weights
    }
