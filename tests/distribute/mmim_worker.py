"""A few MMIM training steps on one or two replicas; writes the weights.

Run by `test_data_parallel_mmim.py` in a subprocess (two replicas:
JAX with `XLA_FLAGS=--xla_force_host_platform_device_count=2`, TensorFlow
with two logical CPU devices, torch as two `torchrun` processes on gloo):

    python tests/distribute/mmim_worker.py DATA.h5 OUT.npz --replicas 2
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

GLOBAL_BATCH = 8


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("output")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--variant", default="full")
    return parser.parse_args()


def split_cpu(count):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * count
    )


def build_model(variant="full"):
    import msakeras
    from msakeras.testing import tiny_text_encoder

    encoder = tiny_text_encoder(
        vocabulary_size=64, hidden_dim=16, dropout=0.0, exact_gelu=True
    )
    model = msakeras.models.MMIMModel(
        encoder,
        audio_dim=3,
        vision_dim=4,
        audio_hidden_dim=8,
        vision_hidden_dim=8,
        fusion_dim=16,
        fusion_dropout=0.0,
        memory_capacity=GLOBAL_BATCH,
        stage_one_gradients="all",
        two_stage=variant not in ("mae", "cpc", "entropy", "noclip"),
        cpc_weight=0.0 if variant in ("mae", "entropy") else 0.3,
        ba_weight=0.0 if variant in ("mae", "cpc") else 0.1,
        name="mmim",
    )
    # Learning rates large enough that a wrong gradient shows.
    main, stage_one = model.make_optimizers(
        learning_rate=1e-2,
        text_learning_rate=1e-2,
        mi_learning_rate=1e-2,
        global_clipnorm=None
        if variant != "full"
        else 0.5,  # active: the global norm must be global
    )
    model.compile(optimizer=main, stage_one_optimizer=stage_one)
    return model


def main():
    args = parse_args()
    if keras.config.backend() == "tensorflow" and args.replicas > 1:
        split_cpu(args.replicas)
    import msakeras
    from msakeras.backend import distribute

    setup = distribute.setup_data_parallel(
        "data-parallel" if args.replicas > 1 else "none"
    )
    if setup.num_replicas != args.replicas:
        raise SystemExit(f"expected {args.replicas} replicas, got {setup}")
    keras.utils.set_random_seed(7)
    with setup.scope():
        model = build_model(args.variant)
    train = msakeras.data.FeatureSequence(
        args.data,
        "train",
        batch_size=GLOBAL_BATCH,
        input_keys=[tensor.name for tensor in model.inputs],
        shuffle=True,
        seed=3,
        shard_index=setup.process_index,
        shard_count=setup.process_count,
    )
    # `shuffle=False`: the sequence shuffles itself, seeded and the same
    # in every process; Keras's own batch-order shuffle draws from
    # Python's RNG, whose state differs between the engines' set-ups.
    history = model.fit(train, epochs=args.epochs, shuffle=False, verbose=0)
    if setup.is_chief:
        weights = {
            variable.path: keras.ops.convert_to_numpy(variable)
            for variable in model.weights
        }
        weights["__loss__"] = np.asarray(history.history["loss"])
        weights["__mi_stage_loss__"] = np.asarray(
            history.history.get("mi_stage_loss", [])
        )
        np.savez(args.output, **weights)
    print(setup, "losses", history.history["loss"])


if __name__ == "__main__":
    main()
