"""Writes the small "bring your own data" example of data_prep/README.md.

    python data_prep/examples/make_csv_example.py my_data

creates `my_data/samples.csv` (id, split, text, label, label_text,
label_audio, label_vision), `my_data/audio/<id>.npy` (frames x 5) and
`my_data/vision/<id>.npy` (frames x 20) with varying frame counts: the
shapes your own extracted features would have (e.g. COVAREP-like audio,
Facet-like vision), filled with seeded random numbers.
"""

import argparse
import csv
import os
import sys

import numpy as np

SAMPLES = [
    ("clip_001", "train", "The movie was great, I loved it!", 2.4),
    ("clip_002", "train", "It was boring and far too long.", -1.8),
    ("clip_003", "train", "Not bad, but the ending felt rushed.", 0.2),
    ("clip_004", "train", "Honestly the worst film this year.", -2.8),
    ("clip_005", "train", "A charming, funny story.", 1.6),
    ("clip_006", "train", "I don't know what to think.", 0.0),
    ("clip_007", "valid", "The acting was wonderful.", 2.0),
    ("clip_008", "valid", "Terrible sound and a weak plot.", -2.2),
    ("clip_009", "valid", "It was okay.", 0.4),
    ("clip_010", "test", "Absolutely brilliant cinematography!", 2.6),
    ("clip_011", "test", "I wanted to leave after ten minutes.", -2.0),
    ("clip_012", "test", "Some good moments, some dull ones.", -0.2),
]
AUDIO_WIDTH, VISION_WIDTH = 5, 20


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m data_prep.examples.make_csv_example",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "folder",
        nargs="?",
        default="my_data",
        help="folder to create (default: my_data)",
    )
    folder = parser.parse_args(argv).folder
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(folder, "audio"), exist_ok=True)
    os.makedirs(os.path.join(folder, "vision"), exist_ok=True)
    with open(
        os.path.join(folder, "samples.csv"), "w", newline="", encoding="utf-8"
    ) as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "split", "text", "label", "label_text", "label_audio",
             "label_vision"]
        )  # fmt: skip
        for sample_id, split, text, label in SAMPLES:
            unimodal = np.clip(label + rng.normal(0, 0.5, 3), -3, 3).round(1)
            writer.writerow([sample_id, split, text, label, *unimodal])
            frames = int(rng.integers(4, 13))
            np.save(
                os.path.join(folder, "audio", f"{sample_id}.npy"),
                rng.normal(size=(frames, AUDIO_WIDTH)).astype(np.float32),
            )
            frames = int(rng.integers(3, 9))
            np.save(
                os.path.join(folder, "vision", f"{sample_id}.npy"),
                rng.normal(size=(frames, VISION_WIDTH)).astype(np.float32),
            )
    print(f"wrote {len(SAMPLES)} samples under {folder}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
