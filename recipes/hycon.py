"""HyCon: hybrid contrastive learning of tri-modal representation for MSA.

Mai, Zeng, Zheng, Hu. "Hybrid Contrastive Learning of Tri-Modal
Representation for Multimodal Sentiment Analysis". IEEE Transactions on
Affective Computing, 2023. https://arxiv.org/abs/2109.01797 — no official
code; the encoders follow the authors' MIB/MCL code (`docs/models/hycon.md`).

Paper (Tables 1-2, MAG-BERT protocol, `docs/protocol.md`; aligned MAG-BERT
features, not the MMSA release): MOSI Acc-7 46.6, Acc-2 85.2, F1 85.1,
MAE 0.713, Corr 0.790; MOSEI 52.8 / 85.4 / 85.6 / 0.601 / 0.776.
We print the MMSA metric set and the MAG-BERT set (`MAGBERT_*` columns).

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

import os
import sys

try:  # installed: msakeras.recipes.<name>
    from . import common
except ImportError:  # python recipes/<name>.py (recipes/ on sys.path)
    import common
import keras

import msakeras

# `docs/models/hycon.md`: Adam 1e-5 for every parameter (paper), α = 0.8, λ = 1,
# d = 50; proxy (MIB) encoder settings; batch size 32 and 50 epochs are
# GAPs (proxy values). MOSEI and SIMS: the paper gives nothing else (SIMS
# is not evaluated there), so the same settings (GAP).
_PAPER = {
    "batch_size": 32,
    "learning_rate": 1e-5,
    "text_learning_rate": 1e-5,
    "epochs": 50,
    "patience": None,  # the proxy code trains its 50 epochs; --patience
    "hidden_dim": 50,
    "kernel_size": 3,
    "num_heads": 5,
    "num_layers": 3,
    "attention_dropout": 0.5,
    "relu_dropout": 0.3,
    "residual_dropout": 0.3,
    "embedding_dropout": 0.2,
    "margin": 0.8,
    "intra_modal_weight": 1.0,
    "inter_modal_weight": 1.0,
    "semi_contrastive_weight": 1.0,
}
HYPERPARAMETERS = {
    "mosi": dict(_PAPER),
    "mosei": dict(_PAPER),
    "sims": dict(_PAPER),
}
# The no-argument run (embedded synthetic MOSI, bundled MiniLM, 2 CPU
# cores, <= 10 minutes): one transformer layer over the 375/500-frame
# sequences, light dropout and larger rates than the paper's 1e-5 (which
# needs tens of epochs); measured numbers in the README.
EMBEDDED_DEFAULTS = {
    "epochs": 4,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "text_learning_rate": 5e-5,
    "num_layers": 1,
    "attention_dropout": 0.1,
    "relu_dropout": 0.1,
    "residual_dropout": 0.1,
    "embedding_dropout": 0.1,
}
# Table 3 rows: which objective terms are switched off.
ABLATIONS = {
    "none": {},
    "no_contrastive": {
        "intra_modal_weight": 0.0,
        "inter_modal_weight": 0.0,
        "semi_contrastive_weight": 0.0,
    },
    "no_refinement": {"refinement": False},
    "no_margin": {"margin": 1.0},
    "no_iamcl": {"intra_modal_weight": 0.0},
    "no_iemcl": {"inter_modal_weight": 0.0},
    "no_scl": {"semi_contrastive_weight": 0.0},
}
# Every layer outside BERT (variable paths; pitfall 8: optional prefix).
NON_TEXT_PATTERN = (
    "(.*/)?(text_projection|audio_projection|audio_encoder|"
    "vision_projection|vision_encoder|fusion|sentiment_head)/.*"
)


def parse_args(argv=None):
    parser = common.base_parser("hycon", __doc__)
    parser.add_argument(
        "--fusion",
        choices=msakeras.models.hycon.hycon_model.FUSIONS,
        default="add",
        help="fusion variant (paper Table 4); default: addition",
    )
    parser.add_argument(
        "--ablation",
        choices=sorted(ABLATIONS),
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
    args = parser.parse_args(argv)
    variant = [
        name
        for name, default in (
            (args.fusion, "add"),
            (args.ablation, "none"),
            (None if args.margin is None else f"margin{args.margin:g}", None),
        )
        if name != default
    ]
    if args.output_dir is None and variant:
        dataset = args.dataset or "mosi"
        args.output_dir = os.path.join(
            "saved_models", f"hycon_{dataset}", "runs_" + "_".join(variant)
        )
    args = common.finish_args(args, "hycon", HYPERPARAMETERS, EMBEDDED_DEFAULTS)
    settings = args.hyperparameters
    settings.update(ABLATIONS[args.ablation])
    if args.margin is not None:
        settings["margin"] = args.margin
    return args


def make_optimizer(settings):
    """The paper's single Adam; a per-group map when the rates differ."""
    if settings["learning_rate"] == settings["text_learning_rate"]:
        return keras.optimizers.Adam(settings["learning_rate"])
    return keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(
            default_optimizer=keras.optimizers.Adam(
                settings["text_learning_rate"]
            ),
            optimizer_map={
                NON_TEXT_PATTERN: keras.optimizers.Adam(
                    settings["learning_rate"]
                )
            },
        )
    )


def build_model(args):
    settings = args.hyperparameters
    model = msakeras.models.HyConModel(
        common.make_text_encoder(args),
        audio_dim=args.attributes["audio_dim"],
        vision_dim=args.attributes["vision_dim"],
        hidden_dim=settings["hidden_dim"],
        kernel_size=settings["kernel_size"],
        num_heads=settings["num_heads"],
        num_layers=settings["num_layers"],
        attention_dropout=settings["attention_dropout"],
        relu_dropout=settings["relu_dropout"],
        residual_dropout=settings["residual_dropout"],
        embedding_dropout=settings["embedding_dropout"],
        last_valid_step=args.last_step == "valid",
        key_padding_mask=not args.no_key_padding_mask,
        fusion=args.fusion,
        margin=settings["margin"],
        intra_modal_weight=settings["intra_modal_weight"],
        inter_modal_weight=settings["inter_modal_weight"],
        semi_contrastive_weight=settings["semi_contrastive_weight"],
        refinement=settings.get("refinement", True),
        similarity=args.similarity,
        zero_label_class=args.zero_label_class,
        name="hycon",
    )
    model.compile(optimizer=make_optimizer(settings))
    return model


def main(argv=None):
    args = parse_args(argv)
    common.set_precision(args)
    # HyCon's paper reports the MAG-BERT protocol (MOSI/MOSEI only).
    extra = () if args.dataset == "sims" else ("mag_bert",)
    scores_by_seed, baselines = common.train_seeds(
        args, build_model, evaluate=common.checkpoint_evaluator(extra)
    )
    common.write_results(args, scores_by_seed, baselines)
    return scores_by_seed


if __name__ == "__main__":
    main(sys.argv[1:])
