"""HyCon: hybrid contrastive learning of tri-modal representation for MSA.

Mai, Zeng, Zheng, Hu. "Hybrid Contrastive Learning of Tri-Modal
Representation for Multimodal Sentiment Analysis". IEEE Transactions on
Affective Computing, 2023. https://arxiv.org/abs/2109.01797 — no official
code; the encoders follow the authors' MIB/MCL code (`docs/models/hycon.md`).

Paper results (Tables 1-2, MAG-BERT protocol): `docs/models/hycon.md`;
we print the MMSA metric set and the MAG-BERT set (`MAGBERT_*` columns).

Training: MAE + λ1 IAMCL + λ2 IEMCL + λ3 SCL on the unimodal vectors (see
`msakeras.models.HyConModel`). `--fusion` picks Table 4's variant,
`--ablation` a row of Table 3 and `--margin` Table 5's α.

Usage:
    python recipes/hycon.py                       # embedded synthetic MOSI
    python recipes/hycon.py --fusion graph --output-dir runs/hycon_graph
    python recipes/hycon.py --data mosi.h5 --text-backbone bert_base_en_uncased
    python recipes/hycon.py --data mosi.h5 --ablation no_refinement
    python recipes/hycon.py --data mosi.h5 --margin 0.7 --seeds 1111 1112
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
from msakeras.models.hycon import hycon_presets

# Settings: the paper's per dataset, the no-argument run's changes and the
# Table 3 rows (`ABLATIONS`) are in `msakeras/models/hycon/hycon_presets.py`.


def parse_args(argv=None):
    parser = recipe_arguments.base_parser("hycon", __doc__)
    parser.add_argument(
        "--fusion",
        choices=msakeras.models.hycon.hycon_model.FUSIONS,
        default="add",
        help="fusion variant (paper Table 4); default: addition",
    )
    parser.add_argument(
        "--ablation",
        choices=sorted(hycon_presets.ABLATIONS),
        default="none",
        help="a row of the paper's Table 3 (no_margin sets α = 1)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=None,
        help="modality margin α (Table 5 sweeps 0.5/0.7/0.8/0.9)",
    )
    parser.add_argument(
        "--similarity",
        choices=("shifted_cosine", "cosine"),
        default="shifted_cosine",
        help="pair similarity: (1 + cos)/2 (default) or the literal cosine",
    )
    parser.add_argument(
        "--zero-label-class",
        choices=("non_negative", "non_positive", "exclude"),
        default="non_negative",
        help="class of zero-labelled samples in IAMCL/IEMCL",
    )
    parser.add_argument(
        "--last-step",
        choices=("valid", "index"),
        default="valid",
        help="each row's last valid step, or index T-1 (the proxy code)",
    )
    parser.add_argument(
        "--no-key-padding-mask",
        action="store_true",
        help="attend to padded steps in the audio/vision encoders (the "
        "proxy code); default: padded keys are masked",
    )
    flags = parser.parse_args(argv)
    margin = None if flags.margin is None else f"margin{flags.margin:g}"
    variant = recipe_arguments.variant_output_dir(
        "hycon",
        flags.dataset,
        [(flags.fusion, "add"), (flags.ablation, "none"), (margin, None)],
    )
    run = recipe_arguments.finish_args(
        flags, "hycon", default_output_dir=variant
    )
    changes = dict(hycon_presets.ABLATIONS[flags.ablation])
    if flags.margin is not None:
        changes["margin"] = flags.margin
    return run.with_hyperparameters(**changes)


def build_model(run):
    settings = dict(run.hyperparameters)
    refinement = settings.pop("refinement", True)  # Table 3: no_refinement
    flags = run.recipe_flags
    return run_data.model_from_preset(
        msakeras.models.HyConModel,
        run,
        settings,
        last_valid_step=flags["last_step"] == "valid",
        key_padding_mask=not flags["no_key_padding_mask"],
        fusion=flags["fusion"],
        refinement=refinement,
        similarity=flags["similarity"],
        zero_label_class=flags["zero_label_class"],
    )


def train(model, data, valid, callbacks, **options):
    """One seed: `model` comes compiled from its preset.

    HyCon's objective (MAE + IAMCL + IEMCL + SCL) is its `train_step`.
    """
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def main(argv=None):
    run = parse_args(argv)
    device_settings.set_precision(run)
    # HyCon's paper reports the MAG-BERT protocol (MOSI/MOSEI only).
    extra = () if run.dataset == "sims" else ("mag_bert",)
    scores_by_seed, baselines = seed_loop.train_seeds(
        run,
        build_model,
        train,
        evaluate=checkpoint_scoring.checkpoint_evaluator(extra),
    )
    run_results.write_results(run, scores_by_seed, baselines)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
