"""One backend's side of the cross-backend equivalence test.

Run by `test_cross_backend.py` once per backend, as
`KERAS_BACKEND=<name> python equivalence_worker.py --out DIR [--save]
[--load DIR]`. For every model in `MODELS` it builds a tiny model with
dropout off, sets every trainable weight from a NumPy generator seeded by
the weight's path (so the values do not depend on the backend's variable
order), and writes to `DIR/<model>.npz`:

- `prediction/<output>`: `model(x, training=False)`;
- `loss/<term>`: the total loss and each tracked loss term of one
  `compute_loss(training=True)` on a fixed batch, after `WARM_UP_PASSES`
  passes on that batch (their state updates kept, their trackers reset),
  so that terms read from state are not the trivial zeros of a first
  batch (the entropy memories fill at the first pass). Label generators
  read the labels from before a batch's update and first change them at a
  sample's second visit: the compared pass writes generated labels (in
  `state/`), but its unimodal terms still read `y_m` (zero). A third
  pass would read them, but the relative-distance formula divides by
  `δ_m` and amplifies float32 rounding past 1e-5 (seen: 2e-5 on a label,
  1e-4 on a small bias gradient), so the warm-up stops at one pass;
- `gradient/<path>`: the gradient of the total loss for every trainable
  weight, taken with the backend's own autodiff;
- `state/<path>`: every non-trainable weight after the forward pass;
- `training_prediction/<output>`: the outputs of that training pass;
- `noise/<layer>/<k>`: the reparameterisation noise each
  `VariationalBottleneck` drew (MCER), and `noise_check/...`: one
  bottleneck of the model called alone in training, with its input and
  weights, so the test can recompute `z = μ + σ ε` with NumPy.

Randomness: dropout is off; the bottlenecks' noise `ε` comes from NumPy
(`NumpyNoise`, a `RandomState` seeded by the layer's name, installed
through `VariationalBottleneck.noise_source`), the same on every backend.

`--save` also trains the model one step with `fit`, saves it to
`DIR/<model>.keras` and writes its `predict` and optimizer variables under
`saved_prediction/` and `optimizer/`; `--load DIR` loads those files and
writes the same keys to `DIR_OUT/<model>_loaded.npz`.

Adding a model is one `MODELS` entry: a builder (dropout off) and a batch.
"""

import argparse
import functools
import os
import sys
import zlib

import keras
import numpy as np

import msakeras
from msakeras import testing

BATCH_SIZE = 6
WARM_UP_PASSES = 1


tiny_text_encoder = functools.partial(
    testing.tiny_text_encoder,
    vocabulary_size=60,
    max_sequence_length=8,
    dropout=0.0,
)


def tiny_batch(seed=0, with_index=False):
    rng = np.random.RandomState(seed)
    text_mask = (
        np.arange(6)[None] < rng.randint(3, 7, (BATCH_SIZE, 1))
    ).astype("int32")
    audio_mask = (
        np.arange(7)[None] < rng.randint(2, 8, (BATCH_SIZE, 1))
    ).astype("int32")
    vision_mask = (
        np.arange(6)[None] < rng.randint(2, 7, (BATCH_SIZE, 1))
    ).astype("int32")
    x = {
        "text_token_ids": rng.randint(3, 60, (BATCH_SIZE, 6)).astype("int32")
        * text_mask,
        "text_padding_mask": text_mask,
        "audio": rng.normal(size=(BATCH_SIZE, 7, 5)).astype("float32")
        * audio_mask[..., None],
        "audio_mask": audio_mask,
        "vision": rng.normal(size=(BATCH_SIZE, 6, 4)).astype("float32")
        * vision_mask[..., None],
        "vision_mask": vision_mask,
    }
    if with_index:
        x["index"] = rng.permutation(BATCH_SIZE).astype("int32")
    labels = np.array([[1.4], [-2.2], [0.6], [-0.4], [2.8], [-1.2]], "float32")
    return x, labels


def build_model(name):
    """The tiny `name` model (msakeras.testing.tiny_model), dropout off."""
    return testing.tiny_model(
        name,
        tiny_text_encoder(),
        audio_dim=5,
        num_train_samples=BATCH_SIZE,
        **({"fusion_dim": 4} if name == "mcer" else {}),
    )


MODELS = {
    name: (
        functools.partial(build_model, name),
        functools.partial(tiny_batch, with_index=name in ("self_mi", "mcer")),
    )
    for name in ("mmim", "hycon", "self_mi", "mcer", "dashfusion")
}


def noise_seed(name):
    return zlib.crc32(f"noise/{name}".encode())


class NumpyNoise:
    """Test-only `VariationalBottleneck.noise_source`: NumPy draws.

    `ε` comes from a `RandomState` seeded by `noise_seed(name)`, one draw
    per training call, the same sequence on every backend; `draws` keeps
    what was handed out (written as `noise/<name>/<k>`).
    """

    def __init__(self, name):
        self.rng = np.random.RandomState(noise_seed(name))
        self.draws = []

    def __call__(self, shape, dtype):
        value = self.rng.normal(size=tuple(int(s) for s in shape))
        value = value.astype(dtype)
        self.draws.append(value)
        return value


def bottlenecks(model):
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, msakeras.layers.VariationalBottleneck)
    ]


def install_numpy_noise(model):
    """NumPy noise for every bottleneck; returns `{layer name: source}`."""
    sources = {}
    for layer in bottlenecks(model):
        sources[layer.name] = layer.noise_source = NumpyNoise(layer.name)
    return sources


def noise_check(layer):
    """The layer alone in training on a fixed input, with NumPy noise."""
    width = layer.hidden_dense.kernel.shape[0]
    inputs = np.random.RandomState(5).normal(size=(BATCH_SIZE, width))
    inputs = inputs.astype("float32")
    source = layer.noise_source
    layer.noise_source = NumpyNoise(f"check/{layer.name}")
    record = {
        "noise_check/layer": np.array(layer.name),
        "noise_check/inputs": inputs,
        "noise_check/sample": numpy(layer(inputs, training=True)),
        "noise_check/mean": numpy(layer(inputs, training=False)),
        "noise_check/sigma_shift": np.array(layer.sigma_shift),
    }
    for dense in (layer.hidden_dense, layer.mean_dense, layer.scale_dense):
        record[f"noise_check/{dense.name}/kernel"] = numpy(dense.kernel)
        record[f"noise_check/{dense.name}/bias"] = numpy(dense.bias)
    layer.noise_source = source
    return record


def set_weights_from_numpy(model):
    """Every random-initialised weight from a generator seeded by its path.

    Trainable weights and frozen ones with random initial values (the BERT
    pooler) get NumPy values; constant-initialised state (label tables,
    memories, counters) keeps its initial value, the same everywhere.
    """
    for variable in model.weights:
        if "float" not in str(variable.dtype):
            continue
        initial = np.asarray(keras.ops.convert_to_numpy(variable))
        if not variable.trainable and np.all(initial == initial.flat[0]):
            continue
        rng = np.random.default_rng(zlib.crc32(variable.path.encode()))
        shape = tuple(variable.shape)
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 10
        value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        if variable.path.endswith(("gamma", "scale")):
            value = 1.0 + 0.1 * value
        variable.assign(value.astype(variable.dtype))


def numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def tracked_terms(model):
    terms = {}
    for metric in model.metrics:
        # Not loss terms: the compiled metrics, and Keras's running mean of
        # the total, which only `train_step` updates.
        if metric.name in ("compile_metrics", "loss"):
            continue
        result = metric.result()
        if not isinstance(result, dict):
            terms[metric.name] = numpy(result)
    return terms


def loss_and_gradients(model, x, y):
    """Total loss, training outputs and gradients (the backend's autodiff)."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        model.optimizer.build(model.trainable_variables)
        optimizer_variables = [v.value for v in model.optimizer.variables]

        def total(trainable):
            return model.compute_loss_and_updates(
                trainable,
                [v.value for v in model.non_trainable_variables],
                [v.value for v in model.metrics_variables],
                x,
                y,
                None,
                training=True,
                optimizer_variables=optimizer_variables,
            )

        (loss, aux), gradients = jax.value_and_grad(total, has_aux=True)(
            [v.value for v in model.trainable_variables]
        )
        _, y_pred, non_trainable, metrics = aux
        for variable, value in zip(
            model.non_trainable_variables, non_trainable
        ):
            variable.assign(value)
        for variable, value in zip(model.metrics_variables, metrics):
            variable.assign(value)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x, y, y_pred, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
    else:
        for variable in model.trainable_variables:
            variable.value.grad = None  # no accumulation across passes
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, training=True)
        loss.backward()
        gradients = [v.value.grad for v in model.trainable_variables]
    return loss, y_pred, gradients


def compute(model, x, y):
    record = {}
    sources = install_numpy_noise(model)
    for key, value in model(x, training=False).items():
        record[f"prediction/{key}"] = numpy(value)
    for _ in range(WARM_UP_PASSES):  # fills the state
        loss_and_gradients(model, x, y)
    for metric in model.metrics:
        metric.reset_state()
    loss, y_pred, gradients = loss_and_gradients(model, x, y)
    record["loss/total"] = numpy(loss)
    for key, value in y_pred.items():
        record[f"training_prediction/{key}"] = numpy(value)
    for name, source in sources.items():
        for index, draw in enumerate(source.draws):
            record[f"noise/{name}/{index}"] = draw
    for name, value in tracked_terms(model).items():
        record[f"loss/{name}"] = value
    for variable, gradient in zip(model.trainable_variables, gradients):
        if gradient is not None:
            record[f"gradient/{variable.path}"] = numpy(gradient)
    for variable in model.non_trainable_variables:
        record[f"state/{variable.path}"] = numpy(variable)
    layers = {layer.name: layer for layer in bottlenecks(model)}
    if layers:
        record.update(noise_check(layers[min(layers)]))
    return record


def saved_record(model, x):
    record = {
        f"saved_prediction/{key}": value
        for key, value in model.predict(
            x, batch_size=BATCH_SIZE, verbose=0
        ).items()
    }
    for index, variable in enumerate(model.optimizer.variables):
        record[f"optimizer/{index:04d}"] = numpy(variable)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--load")
    args = parser.parse_args(argv)
    if keras.config.backend() == "torch":
        import torch

        torch.set_num_threads(1)
    for name in args.models.split(","):
        build, batch = MODELS[name]
        x, y = batch()
        keras.utils.set_random_seed(0)
        model = build()
        model(x)
        set_weights_from_numpy(model)
        model.compile()
        np.savez(os.path.join(args.out, f"{name}.npz"), **compute(model, x, y))
        if args.save:
            keras.utils.set_random_seed(0)
            model = build()
            model(x)
            set_weights_from_numpy(model)
            install_numpy_noise(model)
            model.compile()
            model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
            model.save(os.path.join(args.out, f"{name}.keras"))
            np.savez(
                os.path.join(args.out, f"{name}_saved.npz"),
                **saved_record(model, x),
            )
        if args.load:
            loaded = keras.models.load_model(
                os.path.join(args.load, f"{name}.keras")
            )
            np.savez(
                os.path.join(args.out, f"{name}_loaded.npz"),
                **saved_record(loaded, x),
            )
        print(f"{name}: done under {keras.config.backend()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
