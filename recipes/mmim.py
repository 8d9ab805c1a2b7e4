"""MMIM: MultiModal InfoMax for multimodal sentiment analysis.

Han, Chen, Poria. "Improving Multimodal Fusion with Hierarchical Mutual
Information Maximization for Multimodal Sentiment Analysis". EMNLP 2021.
https://arxiv.org/abs/2109.00412 — code: declare-lab/Multimodal-Infomax.

Paper (Table 2, MOSI): MAE 0.700, Corr 0.800, Acc-7 46.65,
Acc-2 84.14 / 86.06, F1 84.00 / 85.98. MOSEI: MAE 0.526, Corr 0.772,
Acc-7 54.24, Acc-2 82.24 / 85.97, F1 82.66 / 85.94.

Each epoch runs the paper's two stages inside `model.fit` (the critics
q(h_v|h_t), q(h_a|h_t) alone, then everything else on the task loss plus
the CPC and BA terms); see `msakeras.models.MMIMModel`.

Usage:
    python recipes/mmim.py                      # embedded synthetic MOSI
    python recipes/mmim.py --data mosi.h5 --text-backbone bert_base_en_uncased
    python recipes/mmim.py --data mosei.h5 --seeds 1111 1112 --resume
    python recipes/mmim.py --export             # + saved_models/mmim_mosi/<N>/
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

# Settings: the paper's per dataset and the no-argument run's changes are in
# `msakeras/models/mmim/mmim_presets.py`.


def parse_args(argv=None):
    parser = recipe_arguments.base_parser("mmim", __doc__)
    parser.add_argument(
        "--stage-one",
        choices=("on", "off"),
        default="on",
        help="run the critics-only stage each epoch "
        "(off: stage 2 alone, an ablation)",
    )
    return recipe_arguments.finish_args(parser.parse_args(argv), "mmim")


def build_model(run):
    return run_data.model_from_preset(
        msakeras.models.MMIMModel,
        run,
        two_stage=run.recipe_flags["stage_one"] == "on",
    )


def train(model, data, valid, callbacks, **options):
    """One seed: `model` comes compiled from its preset.

    Both of the paper's stages run inside each epoch of `fit`.
    """
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def main(argv=None):
    run = parse_args(argv)
    device_settings.set_precision(run)
    scores_by_seed, baselines = seed_loop.train_seeds(run, build_model, train)
    run_results.write_results(run, scores_by_seed, baselines)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
