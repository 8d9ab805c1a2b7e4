"""Self-MI (and Self-MM) for multimodal sentiment analysis.

Nguyen, Nguyen, Le, Ha. "Self-MI: Efficient Multimodal Fusion via
Self-Supervised Multi-Task Learning with Auxiliary Mutual Information
Maximization". PACLIC 37, 2023. No public code: built on Self-MM (Yu et
al., AAAI 2021, https://arxiv.org/abs/2102.04830, thuiar/MMSA) and MMIM's
CPC; see `msakeras.models.SelfMIModel` and `docs/models/self_mi.md`

Paper (Tables 3-4): MOSI MAE 0.699, Corr 0.80, Acc-2 83.09 / 85.37,
F1 82.95 / 85.30; MOSEI MAE 0.527, Corr 0.773, Acc-2 83.86 / 85.45;
SIMS MAE 0.402, Corr 0.6138, Acc-2 79.65, F1 79.82. Self-MM (their
Table 3): MOSI MAE 0.718, Corr 0.791.

`--label-generator ulgm --cpc-weight 0` is Self-MM (relative-distance
unimodal labels, no CPC); `--without-cpc text` etc. are the paper's
Table 6 ablations. On SIMS-shaped files the human unimodal labels
(`label_text/audio/vision`) score the unimodal heads, from the same
sealed test read as the fusion scores (run.json `unimodal_test`).

Usage:
    python recipes/self_mi.py                       # embedded synthetic MOSI
    python recipes/self_mi.py --label-generator ulgm --cpc-weight 0  # Self-MM
    python recipes/self_mi.py --dataset sims        # embedded SIMS-shaped set
    python recipes/self_mi.py --data mosi.h5 \
        --text-backbone bert_base_en_uncased
"""

import sys

try:  # installed: msakeras.recipes.<name>
    from . import common  # noqa: F401  (first: keeps TensorFlow out)
except ImportError:  # python recipes/<name>.py (recipes/ on sys.path)
    import common  # noqa: F401

import msakeras
from msakeras.experiment import checkpoint_scoring
from msakeras.experiment import device_settings
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_data
from msakeras.experiment import run_results
from msakeras.experiment import seed_loop
from msakeras.models.self_mi import self_mi_model

# Settings: the paper's per dataset and the no-argument run's changes are in
# `msakeras/models/self_mi/self_mi_presets.py`.


def parse_args(argv=None):
    parser = recipe_arguments.base_parser("self_mi", __doc__)
    parser.add_argument(
        "--label-generator",
        choices=("ulgm", "ulg_mi"),
        default="ulg_mi",
        help="ulg_mi: Self-MI's CPC + MLP generator; ulgm: "
        "Self-MM's relative-distance ULGM",
    )
    parser.add_argument(
        "--cpc-weight",
        type=float,
        default=None,
        help="λ_cpc (default 0.1; 0 with ulgm = Self-MM)",
    )
    parser.add_argument(
        "--without-cpc",
        nargs="+",
        default=(),
        choices=("text", "audio", "vision"),
        help="drop these CPC terms (paper Table 6)",
    )
    run = recipe_arguments.finish_args(parser.parse_args(argv), "self_mi")
    cpc_weight = run.recipe_flags["cpc_weight"]
    if cpc_weight is None:
        return run
    return run.with_hyperparameters(cpc_weight=cpc_weight)


def build_model(run):
    return run_data.model_from_preset(
        msakeras.models.SelfMIModel,
        run,
        num_train_samples=run_data.train_sample_count(run),
        label_generator=run.recipe_flags["label_generator"],
        cpc_modalities=[
            modality
            for modality in self_mi_model.MODALITIES
            if modality not in run.recipe_flags["without_cpc"]
        ],
    )


def train(model, data, valid, callbacks, **options):
    """One seed: `model` comes compiled from its preset.

    ULG-MI's label tables are updated inside `fit`, per batch.
    """
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def main(argv=None):
    run = parse_args(argv)
    device_settings.set_precision(run)
    flags = run.recipe_flags
    without = (
        f", CPC without {list(flags['without_cpc'])}"
        if flags["without_cpc"]
        else ""
    )
    print(
        f"label generator: {flags['label_generator']}, λ_cpc "
        f"{run.hyperparameters['cpc_weight']}{without}"
    )
    scores_by_seed, baselines = seed_loop.train_seeds(
        run,
        build_model,
        evaluate=checkpoint_scoring.checkpoint_evaluator(
            unimodal_heads=self_mi_model.MODALITIES
        ),
    )
    run_results.write_results(run, scores_by_seed, baselines)
    run_results.print_unimodal_scores(run)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
