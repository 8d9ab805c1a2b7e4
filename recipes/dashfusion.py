"""DashFusion: dual-stream alignment with hierarchical bottleneck fusion.

Wen, Li, Xu, et al. "DashFusion: Dual-stream Alignment with Hierarchical
Bottleneck Fusion for Multimodal Sentiment Analysis". IEEE Transactions on
Neural Networks and Learning Systems, 2025. Code:
https://github.com/ultramarineX/DashFusion

Paper results (Tables II-III) and settings: `docs/models/dashfusion.md`.

Training batches come from `msakeras.data.ContrastivePairSampler` (each
anchor plus `partners_per_role` hard-negative partners per role), its
feature similarity refreshed every `refresh_every_epochs` epochs
(`prepare_training`). Ablations (Tables IV-V): the `--no-*` flags and
`--fusion concat`.

Budget, selection and the embedded (no `--data`) run's CPU settings:
`docs/models/dashfusion.md`, "Recipe".

Usage:
    python recipes/dashfusion.py                   # embedded synthetic MOSI
    python recipes/dashfusion.py --dataset sims    # embedded SIMS-shaped
    python recipes/dashfusion.py --data mosi.h5 \\
        --text-backbone bert_base_en_uncased
    python recipes/dashfusion.py --data mosi.h5 --fusion concat
    python recipes/dashfusion.py --data mosei.h5 --seeds 1111 1112 --resume
"""

import sys

try:  # installed: msakeras.recipes.<name>
    from . import common  # noqa: F401  (first: keeps TensorFlow out)
except ImportError:  # python recipes/<name>.py (recipes/ on sys.path)
    import common  # noqa: F401

import msakeras
from msakeras.experiment import device_settings
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_data
from msakeras.experiment import run_results
from msakeras.experiment import seed_loop
from msakeras.models.dashfusion import dashfusion_presets

# Settings: the official ones per dataset, the no-argument run's changes,
# the Tables IV-V switches, the sampler's keys and the checkpoint rule
# (official `check_and_save`) are in
# `msakeras/models/dashfusion/dashfusion_presets.py`.


def parse_args(argv=None):
    parser = recipe_arguments.base_parser("dashfusion", __doc__)
    recipe_arguments.add_ablation_switches(
        parser, dashfusion_presets.ABLATION_SWITCHES
    )
    parser.add_argument(
        "--fusion",
        choices=("hbf", "concat"),
        default="hbf",
        help="hierarchical bottleneck fusion, or the plain concatenation "
        "ablation",
    )
    run = recipe_arguments.finish_args(parser.parse_args(argv), "dashfusion")
    return recipe_arguments.apply_ablation_switches(
        run, dashfusion_presets.ABLATION_SWITCHES
    )


def build_model(run):
    settings = dict(run.hyperparameters)
    # Position tables must cover the file's longest sequences.
    for modality in ("audio", "vision"):
        key = f"max_{modality}_length"
        stored = int(run.attributes.get(f"{modality}_max_length", 0))
        settings[key] = max(settings[key], stored)
    flags = run.recipe_flags
    return run_data.model_from_preset(
        msakeras.models.DashFusionModel,
        run,
        settings,
        temporal_alignment=not flags["no_temporal_alignment"],
        semantic_alignment=not flags["no_semantic_alignment"],
        supervised_contrastive=not flags["no_supervised_contrastive"],
        fusion=flags["fusion"],
        steps_per_epoch=run_data.train_steps_per_epoch(run),
    )


def prepare_training(run, model, train, seed):
    """Wraps the training split in the hard-negative partner sampler."""
    settings = run.hyperparameters
    if settings["partners_per_role"] == 0:
        return train, []
    keys = [tensor.name for tensor in model.inputs]
    sampler = msakeras.data.ContrastivePairSampler(
        run_data.train_split(run, [*keys, "index"], shuffle=True, seed=seed),
        seed=seed,
        **{key: settings[key] for key in dashfusion_presets.SAMPLER_KEYS},
    )
    refresh = msakeras.data.SamplerRefreshCallback(
        sampler,
        run_data.train_split(run, keys),
        every=settings["refresh_every_epochs"],
    )
    return sampler, [refresh]


def train(model, data, valid, callbacks, **options):
    """One seed: `model` comes compiled from its preset.

    `data`: the partner sampler (`prepare_training`) or plain batches.
    """
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def main(argv=None):
    run = parse_args(argv)
    device_settings.set_precision(run)
    scores_by_seed, baselines = seed_loop.train_seeds(
        run, build_model, train, prepare_training=prepare_training
    )
    run_results.write_results(run, scores_by_seed, baselines)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
