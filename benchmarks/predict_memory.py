"""Peak RSS of `python -m msakeras.predict` on synthetic files of growing size.

Writes synthetic MOSI-shaped test splits (short sequences) of 1k and 100k
samples, a tiny untrained MMIM `.keras`, runs the predict command on each
in a fresh process and prints its reported peak RSS: bounded memory means
the two are close although the data grow 100-fold.

    KERAS_BACKEND=torch python benchmarks/predict_memory.py [--work DIR]
"""

import argparse
import os
import re
import subprocess
import sys
import time

import msakeras


def tiny_mmim(audio_dim, vision_dim):
    backbone = msakeras.layers.ExactGeluBertBackbone(
        vocabulary_size=100,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=32,
    )
    return msakeras.models.MMIMModel(
        msakeras.layers.BertTextEncoder(backbone, name="text_encoder"),
        audio_dim=audio_dim,
        vision_dim=vision_dim,
        audio_hidden_dim=8,
        vision_hidden_dim=8,
        fusion_dim=16,
    )


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/msakeras_predict_memory")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    args = parser.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, "tiny_mmim.keras")
    tiny_mmim(5, 20).save(model_path)
    for size in args.sizes:
        data = os.path.join(args.work, f"synthetic_{size}.h5")
        if not os.path.exists(data):
            msakeras.data.make_synthetic_dataset(
                data,
                num_train=2,
                num_valid=2,
                num_test=size,
                text_length=24,
                audio_steps=20,
                vision_steps=20,
                vocabulary_size=100,
            )
        start = time.time()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "msakeras.predict",
                model_path,
                "--data",
                data,
                "--output",
                os.path.join(args.work, f"preds_{size}.csv"),
                "--batch-size",
                "256",
                "--verbose",
                "0",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peak = re.search(r"peak RSS: (\d+) MiB", result.stdout).group(1)
        print(
            f"{size} samples ({os.path.getsize(data) / 2**20:.0f} MiB file): "
            f"peak RSS {peak} MiB, {time.time() - start:.0f} s"
        )


if __name__ == "__main__":
    main()
