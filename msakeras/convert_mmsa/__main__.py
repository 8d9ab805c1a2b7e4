"""Convert an MMSA 2.2.1 MMIM or Self-MM checkpoint into a `.keras` model.

    python -m msakeras.convert_mmsa CHECKPOINT.pth --model mmim|self_mm \
        --dataset mosi|mosei|sims --text-backbone DIR --output MODEL.keras

`CHECKPOINT.pth` is the state dict MMSA's trainer saved
(`torch.save(model.state_dict())`). It is read without torch and without
running code from the file: only tensors are accepted, and a pickle that
would call anything else is refused. `DIR` is the Hugging Face BERT folder
the model was fine-tuned from (`--pretrained`; only its `config.json` is
read, every weight comes from the checkpoint). Every tensor must map onto
the msakeras model (`MMIMModel`, or a `SelfMIModel` configured as Self-MM);
otherwise one error names the key and both shapes. The written `.keras`
file works with `python -m msakeras.predict` and `python -m
msakeras.export`. MMSA feeds token ids, attention mask and segment ids;
msakeras feeds ids and mask (segment ids 0, as MMSA's single-sentence
features hold).
"""

import argparse
import pickle
import sys

from msakeras.convert_mmsa import converter
from msakeras.convert_mmsa import mmsa_configs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.convert_mmsa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help="MMSA .pth state dict")
    parser.add_argument("--model", required=True, choices=converter.MODELS)
    parser.add_argument(
        "--dataset", required=True, choices=mmsa_configs.DATASETS
    )
    parser.add_argument(
        "--text-backbone",
        required=True,
        help="Hugging Face BERT folder the checkpoint was fine-tuned from",
    )
    parser.add_argument("--output", required=True, help="MODEL.keras")
    parser.add_argument(
        "--num-train-samples",
        type=int,
        default=None,
        help="self_mm: rows of the label tables for further training "
        "(default: the dataset's training-set size)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        model = converter.convert_checkpoint(
            args.checkpoint,
            args.model,
            args.dataset,
            args.text_backbone,
            output=args.output,
            num_train_samples=args.num_train_samples,
        )
    except (ValueError, FileNotFoundError, pickle.UnpicklingError) as error:
        raise SystemExit(f"msakeras.convert_mmsa: {error}") from None
    print(
        f"wrote {args.output}: {type(model).__name__} "
        f"({model.count_params():,} parameters) from {args.checkpoint}"
    )
    return model


if __name__ == "__main__":
    main(sys.argv[1:])
