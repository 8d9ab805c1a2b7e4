"""How much the torch fused-kernel path speeds up MaskedLSTMEncoder.

Runs forward + backward of `MaskedLSTMEncoder` on MOSI-shaped vision input
(batch 32, 500 frames, 20 features, hidden 32) through the fast path
(`msakeras.backend.run_recurrent`, torch's fused LSTM) and through Keras's
generic LSTM layer, interleaved in one process, and prints the median step
times and their ratio. Under other backends both sides are the generic
path (ratio about 1). Appends a row to `benchmarks/results.csv`.

Usage:
    OMP_NUM_THREADS=1 KERAS_BACKEND=torch \
        python benchmarks/recurrent_fast_path.py
"""

import argparse
import os
import statistics
import time
from unittest import mock

import keras
import numpy as np
import pandas as pd

import msakeras
from msakeras import backend


def step_seconds(encoder, inputs, mask, repeats):
    def one_step():
        start = time.perf_counter()
        if keras.config.backend() == "torch":
            output = encoder(inputs, mask=mask)
            keras.ops.sum(output).backward()
        else:
            encoder(inputs, mask=mask)
        return time.perf_counter() - start

    one_step()  # warm-up
    return [one_step() for _ in range(repeats)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--hidden-dim", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    inputs = keras.ops.convert_to_tensor(
        rng.normal(size=(args.batch_size, args.steps, args.features)).astype(
            "float32"
        )
    )
    lengths = rng.randint(args.steps // 4, args.steps + 1, (args.batch_size,))
    mask = keras.ops.convert_to_tensor(
        (np.arange(args.steps)[None] < lengths[:, None]).astype("int32")
    )
    encoder = msakeras.layers.MaskedLSTMEncoder(
        args.hidden_dim, args.hidden_dim
    )
    encoder(inputs, mask=mask)

    def generic(layer, values, training=None):
        return layer(values, training=training)

    fast, slow = [], []
    for _ in range(args.repeats):  # interleaved: both see the same load
        fast += step_seconds(encoder, inputs, mask, 1)
        with mock.patch.object(backend, "run_recurrent", generic):
            slow += step_seconds(encoder, inputs, mask, 1)
    fast_median, slow_median = statistics.median(fast), statistics.median(slow)
    row = {
        "benchmark": "recurrent_fast_path",
        "backend": keras.config.backend(),
        "batch_size": args.batch_size,
        "steps": args.steps,
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "fast_path_seconds": round(fast_median, 4),
        "generic_seconds": round(slow_median, 4),
        "speedup": round(slow_median / fast_median, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "keras": keras.__version__,
    }
    print(pd.DataFrame([row]).to_markdown(index=False))
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results.csv"
    )
    pd.DataFrame([row]).to_csv(
        path, mode="a", index=False, header=not os.path.exists(path)
    )
    return row


if __name__ == "__main__":
    main()
