"""Test scores with each modality removed or noisy, as CSV and PNG.

    python -m msakeras.robustness MODEL.keras [MODEL.keras ...] --data PATH.h5
        [--levels 0.1 0.25 0.5 1 2] [--output-dir DIR] [--seed 0]

Give one model per trained seed (e.g. runs/seed_*/model.keras) to see the
spread over seeds. Writes `robustness.csv` (a row per model and
perturbation with the MMSA scores, `seed` from the `seed_<n>` folder) and
`robustness.png`/`.pdf` (a row per metric, a panel per perturbation: the
score against the noise level per modality, and a bar per removed
modality; mean ± np.std error bars over the models) into `--output-dir`
(default: beside the first MODEL.keras). Perturbations:
msakeras.experiment.modality_robustness. It scores finished, already
selected models.

example:
  msakeras robustness saved_models/mmim_mosi/runs/seed_*/model.keras \\
      --data mosi.h5
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
    parser.add_argument(
        "models", nargs="+", help="trained models (.keras), one per seed"
    )
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

    for path in (*args.models, args.data):
        if not os.path.isfile(path):
            print(f"{parser.prog}: error: no file {path!r}", file=sys.stderr)
            return 1
    import pandas as pd

    arrays = msakeras.data.load_split(args.data, args.split)
    dataset = msakeras.data.base_dataset_name(
        msakeras.data.read_attributes(args.data)["dataset"]
    )
    tables = []
    for index, path in enumerate(args.models):
        model = keras.models.load_model(path, compile=False)
        folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
        seed = folder[len("seed_") :] if folder.startswith("seed_") else index
        table = modality_robustness.robustness_table(
            model,
            arrays,
            dataset,
            levels=args.levels or modality_robustness.NOISE_LEVELS,
            modalities=args.modalities,
            seed=args.seed,
            batch_size=args.batch_size,
        )
        tables.append(table.assign(seed=str(seed)))
    table = pd.concat(tables, ignore_index=True)
    table = table[["seed"] + [c for c in table.columns if c != "seed"]]
    output_dir = args.output_dir or os.path.dirname(
        os.path.abspath(args.models[0])
    )
    os.makedirs(output_dir, exist_ok=True)
    csv_path = os.path.join(output_dir, "robustness.csv")
    png_path = os.path.join(output_dir, "robustness.png")
    table.to_csv(csv_path, index=False)
    modality_robustness.plot_robustness(
        table,
        png_path,
        title=f"{model.name} on {dataset}, {args.split} split: modality "
        "robustness",
    )
    print(table.to_markdown(index=False, floatfmt=".4f"))
    print(f"\nwrote {csv_path} and {png_path} (and .pdf)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
