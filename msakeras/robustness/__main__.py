"""Test scores with each modality removed or noisy, as CSV and PNG.

    python -m msakeras.robustness MODEL.keras --data PATH.h5
        [--levels 0.1 0.25 0.5 1 2] [--output-dir DIR] [--seed 0]

Writes `robustness.csv` (a row per perturbation with the MMSA scores) and
`robustness.png` (one panel per metric: the score against the noise level
for each modality, dashed: the modality removed) into `--output-dir`
(default: beside MODEL.keras). Perturbations: msakeras.experiment.
modality_robustness. It scores a finished, already selected model.
"""

import argparse
import os
import sys

from msakeras.cli import HelpFormatter


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.robustness",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", help="a trained model (.keras)")
    parser.add_argument("--data", required=True, help="standard HDF5 file")
    parser.add_argument(
        "--split", default="test", choices=("test", "valid"), help="split"
    )
    parser.add_argument(
        "--levels",
        type=float,
        nargs="+",
        default=None,
        help="noise levels (None: the built-in grid)",
    )
    parser.add_argument(
        "--modalities",
        nargs="+",
        default=("text", "audio", "vision"),
        choices=("text", "audio", "vision"),
        help="modalities perturbed one at a time",
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="samples per step"
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        help="where the table and plot go (None: next to the model)",
    )
    args = parser.parse_args(argv)

    import keras

    import msakeras
    from msakeras.experiment import modality_robustness

    for path in (args.model, args.data):
        if not os.path.isfile(path):
            print(f"{parser.prog}: error: no file {path!r}", file=sys.stderr)
            return 1
    model = keras.models.load_model(args.model)
    arrays = msakeras.data.load_split(args.data, args.split)
    dataset = msakeras.data.base_dataset_name(
        msakeras.data.read_attributes(args.data)["dataset"]
    )
    table = modality_robustness.robustness_table(
        model,
        arrays,
        dataset,
        levels=args.levels or modality_robustness.NOISE_LEVELS,
        modalities=args.modalities,
        seed=args.seed,
        batch_size=args.batch_size,
    )
    output_dir = args.output_dir or os.path.dirname(os.path.abspath(args.model))
    os.makedirs(output_dir, exist_ok=True)
    csv_path = os.path.join(output_dir, "robustness.csv")
    png_path = os.path.join(output_dir, "robustness.png")
    table.to_csv(csv_path, index=False)
    modality_robustness.plot_robustness(
        table,
        png_path,
        title=f"{os.path.basename(args.model)} on {args.split} of "
        f"{os.path.basename(args.data)} ({keras.config.backend()})",
    )
    print(table.to_markdown(index=False, floatfmt=".4f"))
    print(f"\nwrote {csv_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
