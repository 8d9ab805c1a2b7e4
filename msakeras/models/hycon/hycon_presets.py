"""HyCon presets: the paper's settings per dataset (`HyConModel.from_preset`).

Keys: constructor arguments (`PRESET_CONSTRUCTOR_KEYS`), the optimizer
(`learning_rate`, `text_learning_rate`) and the training loop
(`batch_size`, `epochs`, `patience`). `EMBEDDED_DEFAULTS` holds the
no-argument recipe run's changes and `ABLATIONS` the paper's Table 3 rows
(`recipes/hycon.py --ablation`).
"""

import keras

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
PRESETS = {
    "hycon_mosi": dict(_PAPER),
    "hycon_mosei": dict(_PAPER),
    "hycon_sims": dict(_PAPER),
}
# The no-argument recipe run (embedded synthetic MOSI, bundled MiniLM, 2
# CPU cores, <= 10 minutes), over the preset of its dataset: one
# transformer layer over the 375/500-frame sequences, light dropout and
# larger rates than the paper's 1e-5 (which needs tens of epochs). Its
# measured scores: README, "Results" (`python recipes/hycon.py`).
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
# Paper Table 3 rows (`--ablation`): the table keys each row changes, i.e.
# which objective terms are switched off (λ1 IAMCL, λ2 IEMCL, λ3 SCL), the
# refinement of the unimodal vectors, or the modality margin (α = 1).
# `refinement` is a `HyConModel` argument the recipe passes itself.
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
# Table key -> `HyConModel` argument.
PRESET_CONSTRUCTOR_KEYS = {
    key: key
    for key in (
        "hidden_dim",
        "kernel_size",
        "num_heads",
        "num_layers",
        "attention_dropout",
        "relu_dropout",
        "residual_dropout",
        "embedding_dropout",
        "margin",
        "intra_modal_weight",
        "inter_modal_weight",
        "semi_contrastive_weight",
    )
}
# Every layer outside BERT (variable paths; pitfall 8: optional prefix).
NON_TEXT_PATTERN = (
    "(.*/)?(text_projection|audio_projection|audio_encoder|"
    "vision_projection|vision_encoder|fusion|sentiment_head)/.*"
)


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


# `from_preset` keys that only build the optimizer: none.
PRESET_COMPILE_KEYS = ()


def compile_arguments(model, settings):
    """The paper's Adam (`make_optimizer`)."""
    return {"optimizer": make_optimizer(settings)}
