"""MCER presets: the paper's settings per dataset (`MCERModel.from_preset`).

Keys: constructor arguments (`MODEL_KEYS`), the optimizers of
`MCERModel.make_optimizers` (`OPTIMIZER_KEYS`) and the training loop
(`batch_size`, `epochs`, `patience`). `MCERModel`'s `memory_capacity`
(128) stays its constructor default; the recipe passes
`max(128, batch_size)`. `EMBEDDED_DEFAULTS` holds the no-argument recipe
run's changes and `ABLATION_SWITCHES` the paper's Table IV rows.
"""

from msakeras.optimizers import self_mm_optimizer

# MCER Table III gives the learning rates and loss weights (paper §IV.B);
# everything else is a GAP filled, as the paper's "we follow Self-MM"
# suggests, with Self-MM's configuration in MMSA 2.2.1
# (`config_regression.json`, key `self_mm`: LSTM and output widths, post
# dims and dropouts, weight decays, H, `update_epochs` = 4 accumulation,
# early stop 8) and BBFN's defaults for the cross-modal branch
# (`docs/models/mcer.md`). Batch 32 is MCER's (MMSA's MOSI Self-MM uses 16).
_COMMON = {
    "batch_size": 32,
    "bottleneck_hidden_dim": 1024,
    "cross_modal_dim": 40,
    "cross_modal_layers": 2,
    "cross_modal_heads": 5,
    "cross_modal_dropout": 0.1,
    "sequence_recurrent_dim": None,
    "frame_pool_size": 1,
    "cross_head_dim": 64,
    "label_range": 3.0,
    "gradient_accumulation_steps": 4,
    "epochs": 50,
    "patience": 8,
}
# MMSA `self_mm`, per dataset (weight decays bert / audio / video / other).
_SELF_MM = {
    "mosi": {
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-3,
        "vision_l2_decay": 1e-3,
        "l2_decay": 1e-3,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 32,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.0,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.0,
        "label_range": 3.0,
    },
    "mosei": {
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 0.0,
        "vision_l2_decay": 0.0,
        "l2_decay": 1e-2,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 32,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.1,
        "text_dropout": 0.0,
        "audio_dropout": 0.0,
        "vision_dropout": 0.0,
        "label_range": 3.0,
    },
    "sims": {
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-2,
        "vision_l2_decay": 1e-2,
        "l2_decay": 1e-3,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 64,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 64,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.0,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.0,
        "label_range": 1.0,
    },
}
PRESETS = {
    "mcer_mosi": {
        **_COMMON,
        **_SELF_MM["mosi"],
        "text_learning_rate": 4.5e-5,
        "audio_learning_rate": 9e-4,
        "vision_learning_rate": 6e-3,
        "learning_rate": 7e-4,
        "fusion_kl_weight": 1.9,
        "unimodal_kl_weight": 0.001,
        "discriminator_weight": 0.05,
        "mi_weight": 0.1,
    },
    "mcer_mosei": {
        **_COMMON,
        **_SELF_MM["mosei"],
        "text_learning_rate": 2e-5,
        "audio_learning_rate": 9e-4,
        "vision_learning_rate": 4.5e-3,
        "learning_rate": 5.5e-4,
        "fusion_kl_weight": 1.8,
        "unimodal_kl_weight": 0.45,
        "discriminator_weight": 0.3,
        "mi_weight": 0.2,
    },
    # Not reported by MCER: Self-MM's SIMS rates (MMSA), MOSI loss weights.
    "mcer_sims": {
        **_COMMON,
        **_SELF_MM["sims"],
        "text_learning_rate": 5e-5,
        "audio_learning_rate": 5e-3,
        "vision_learning_rate": 5e-3,
        "learning_rate": 1e-3,
        "fusion_kl_weight": 1.9,
        "unimodal_kl_weight": 0.001,
        "discriminator_weight": 0.05,
        "mi_weight": 0.1,
    },
}
# The no-argument recipe run (embedded synthetic MOSI, bundled MiniLM), over
# the preset of its dataset: cross-modal and bottleneck sizes that fit
# minutes on 2 CPU cores (`docs/models/mcer.md`, "Recipe"). Its measured
# scores: README, "Results" (`python recipes/mcer.py`).
EMBEDDED_DEFAULTS = {
    "epochs": 4,
    "patience": 2,
    "gradient_accumulation_steps": 1,
    "text_learning_rate": 1e-4,
    "cross_modal_dim": 32,
    "cross_modal_layers": 1,
    "cross_modal_heads": 4,
    "sequence_recurrent_dim": 32,
    "bottleneck_hidden_dim": 128,
    "frame_pool_size": 5,
}
# Paper Table IV (`recipes/mcer.py --without-kl-m` etc.): each switch
# zeroes one objective weight; name -> (help, table keys it changes).
ABLATION_SWITCHES = {
    "without_kl_m": (
        "w/o L_m (Table IV): α = 0",
        {"fusion_kl_weight": 0.0},
    ),
    "without_kl_s": (
        "w/o L_avl (Table IV): β = 0",
        {"unimodal_kl_weight": 0.0},
    ),
    "without_dc": (
        "w/o L_dc (Table IV): γ = 0",
        {"discriminator_weight": 0.0},
    ),
    "without_mi": ("w/o L_MI (Table IV): η = 0", {"mi_weight": 0.0}),
}
MODEL_KEYS = (
    "audio_hidden_dim",
    "vision_hidden_dim",
    "audio_output_dim",
    "vision_output_dim",
    "fusion_dim",
    "text_post_dim",
    "audio_post_dim",
    "vision_post_dim",
    "text_dropout",
    "audio_dropout",
    "vision_dropout",
    "fusion_dropout",
    "bottleneck_hidden_dim",
    "cross_modal_dim",
    "cross_modal_layers",
    "cross_modal_heads",
    "cross_modal_dropout",
    "sequence_recurrent_dim",
    "frame_pool_size",
    "cross_head_dim",
    "label_range",
    "fusion_kl_weight",
    "unimodal_kl_weight",
    "discriminator_weight",
    "mi_weight",
)
OPTIMIZER_KEYS = self_mm_optimizer.PRESET_ARGUMENTS
# Table key -> `MCERModel` argument.
PRESET_CONSTRUCTOR_KEYS = {key: key for key in MODEL_KEYS}

# `from_preset` keys that only build the optimizer: none.
PRESET_COMPILE_KEYS = ()


def compile_arguments(model, settings):
    """The grouped optimizers (`MCERModel.make_optimizers`)."""
    main, stage_one = model.make_optimizers(
        **{key: settings[key] for key in OPTIMIZER_KEYS}
    )
    return {"optimizer": main, "stage_one_optimizer": stage_one}
