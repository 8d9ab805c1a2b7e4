"""Parameters, FLOPs, throughput and peak memory of a model.

    python -m msakeras.profile MODEL_NAME [--dataset mosi] [--batch-size 32]
        [--text-backbone NAME_OR_DIR] [--steps 5] [--no-flops] [--json OUT]

MODEL_NAME is `mmim`, `hycon`, `self_mi`, `mcer` or `dashfusion` (built with the
class defaults and the bundled MiniLM, or `--text-backbone`), or a trained
`.keras` file. Runs on a synthetic batch shaped like `--dataset`'s release
on the current backend (`KERAS_BACKEND`) and prints: parameters per block
(trainable / frozen), the FLOP estimate per sample of one inference
forward pass, training and inference samples/s, and peak memory (GPU:
allocated bytes; CPU: the process's peak resident set).
"""

import argparse
import json
import os
import sys

from msakeras.cli import HelpFormatter


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.profile",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", help="model name or a .keras file")
    parser.add_argument(
        "--dataset",
        default="mosi",
        choices=("mosi", "mosei", "sims"),
        help="release whose shapes the synthetic batch takes",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="samples per step"
    )
    parser.add_argument(
        "--text-backbone",
        default=None,
        help="keras-hub preset or local HF BERT folder (None: bundled MiniLM)",
    )
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed steps first"
    )
    parser.add_argument(
        "--no-flops", action="store_true", help="skip the FLOP estimate"
    )
    parser.add_argument("--json", default=None, help="write the numbers")
    args = parser.parse_args(argv)

    import keras

    import msakeras
    from msakeras.experiment import model_profile

    batch, _ = model_profile.synthetic_batch(
        args.dataset, batch_size=args.batch_size
    )
    if args.model.endswith(".keras") or os.path.isfile(args.model):
        model = keras.models.load_model(args.model)
        if model.optimizer is None:
            model.compile()
        name = os.path.basename(args.model)
    else:
        if args.model not in model_profile.MODEL_CLASSES:
            print(
                f"{parser.prog}: error: unknown model {args.model!r}; "
                f"expected one of {sorted(model_profile.MODEL_CLASSES)} "
                "or a .keras file",
                file=sys.stderr,
            )
            return 1
        backbone = msakeras.layers.load_bert_backbone(args.text_backbone)
        encoder = msakeras.layers.BertTextEncoder(backbone, name="text_encoder")
        model = model_profile.build_named_model(
            args.model,
            encoder,
            audio_dim=batch["audio"].shape[-1],
            vision_dim=batch["vision"].shape[-1],
            num_train_samples=args.batch_size,
        )
        model.compile()
        name = args.model
    parameters = model_profile.parameter_table(model)
    numbers = model_profile.profile_model(
        model,
        batch,
        warmup=args.warmup,
        steps=args.steps,
        count_flops=not args.no_flops,
    )
    print(f"{name} ({args.dataset} shapes, batch {args.batch_size})")
    print(parameters.to_markdown())
    flops = numbers["flops_per_sample"]
    print(
        f"\nbackend {numbers['backend']} on {numbers['device']}\n"
        "FLOPs per sample (inference forward, backend counter): "
        + ("n/a" if flops is None else f"{flops / 1e9:.3f} G")
        + f"\ntraining: {numbers['train_samples_per_second']:.1f} samples/s"
        f"\ninference: {numbers['inference_samples_per_second']:.1f} "
        "samples/s"
        f"\npeak memory ({numbers['peak_memory_kind']}): "
        f"{numbers['peak_memory_bytes'] / 2**20:.0f} MiB"
    )
    if args.json:
        record = {
            "model": name,
            "dataset_shapes": args.dataset,
            **numbers,
            "parameters": parameters.to_dict(orient="index"),
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
