"""MCER for multimodal sentiment analysis.

Zhao et al. "Modality-Complementary and Eliminating-Redundancy Multi-Task
Learning for Multimodal Sentiment Analysis". IJCNN 2024. No public code:
built from Self-MM (SLGM/CLGM = ULGM), MMIM (L_MI), MIB (VIB heads) and
BBFN (gated cross-modal transformer, discriminator; MCER's ref. [15]);
see `msakeras.models.MCERModel` and `docs/models/mcer.md`

Paper results (Table I) and settings: `docs/models/mcer.md`; the
embedded (no `--data`) run's smaller sizes: there, "Recipe".

Ablations (paper Tables IV-V): `--without-kl-m` (w/o L_m, α = 0),
`--without-kl-s` (w/o L_avl, β = 0), `--without-dc` (w/o L_dc, γ = 0),
`--without-mi` (w/o L_MI, η = 0), `--without-cross-task` (the "M, S"
model: no cross-modal branch), `--cross-tasks text vision` (the
"M, S, C, m_t, m_v" rows).

Usage:
    python recipes/mcer.py                       # embedded synthetic MOSI
    python recipes/mcer.py --without-cross-task  # "M, S" (Table V)
    python recipes/mcer.py --data mosi.h5 --text-backbone bert_base_en_uncased
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
from msakeras.models.mcer import mcer_model
from msakeras.models.mcer import mcer_presets

# Settings: the paper's per dataset, the no-argument run's changes and the
# Table IV switches are in `msakeras/models/mcer/mcer_presets.py`.


def parse_args(argv=None):
    parser = recipe_arguments.base_parser("mcer", __doc__)
    recipe_arguments.add_ablation_switches(
        parser, mcer_presets.ABLATION_SWITCHES
    )
    parser.add_argument(
        "--without-cross-task",
        action="store_true",
        help='the "M, S" model of Table V: no cross-modal task',
    )
    parser.add_argument(
        "--cross-tasks",
        nargs="+",
        choices=mcer_model.MODALITIES,
        default=None,
        help="cross-modal tasks to train (Table V rows; default all)",
    )
    parser.add_argument(
        "--post-ln",
        action="store_true",
        help="post-LN gated layers (MCER eqs. 15-16) instead of pre-LN",
    )
    parser.add_argument(
        "--head-representation",
        choices=("first", "masked_mean"),
        default="first",
        help="cross-modal head: position 0 (BBFN) or masked mean",
    )
    parser.add_argument(
        "--mmim-two-stage",
        action="store_true",
        help="MMIM's separate stage-1 critic training every epoch",
    )
    run = recipe_arguments.finish_args(parser.parse_args(argv), "mcer")
    run = recipe_arguments.apply_ablation_switches(
        run, mcer_presets.ABLATION_SWITCHES
    )
    tasks = run.recipe_flags["cross_tasks"]
    if run.recipe_flags["without_cross_task"]:
        tasks = []
    elif tasks is None:
        tasks = list(mcer_model.MODALITIES)
    run = run.with_recipe_flags(cross_tasks=tasks)
    return run.with_hyperparameters(cross_modal_tasks=list(tasks))


def build_model(run):
    return run_data.model_from_preset(
        msakeras.models.MCERModel,
        run,
        num_train_samples=run_data.train_sample_count(run),
        post_ln=run.recipe_flags["post_ln"],
        head_representation=run.recipe_flags["head_representation"],
        mmim_two_stage=run.recipe_flags["mmim_two_stage"],
        memory_capacity=max(128, run.hyperparameters["batch_size"]),
    )


def train(model, data, valid, callbacks, **options):
    """One seed: `model` comes compiled from its preset.

    One `fit` trains all of MCER's tasks (gradient accumulation inside).
    """
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def main(argv=None):
    run = parse_args(argv)
    device_settings.set_precision(run)
    settings = run.hyperparameters
    print(
        f"MCER: α {settings['fusion_kl_weight']}, β "
        f"{settings['unimodal_kl_weight']}, γ "
        f"{settings['discriminator_weight']}, η {settings['mi_weight']}, "
        f"cross-modal tasks {settings['cross_modal_tasks'] or 'none'}, "
        f"L {settings['cross_modal_layers']}, d {settings['cross_modal_dim']}"
    )
    scores_by_seed, baselines = seed_loop.train_seeds(run, build_model, train)
    run_results.write_results(run, scores_by_seed, baselines)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
