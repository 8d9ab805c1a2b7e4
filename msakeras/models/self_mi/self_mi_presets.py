"""Self-MI presets: the paper's settings per dataset (`from_preset`).

Keys: constructor arguments (`PRESET_CONSTRUCTOR_KEYS`), the optimizer of
`SelfMIModel.make_optimizers` (`OPTIMIZER_KEYS`) and the training loop
(`batch_size`, `epochs`, `patience`). `EMBEDDED_DEFAULTS` holds the
no-argument recipe run's changes.
"""

from msakeras.optimizers import self_mm_optimizer

# `docs/models/self_mi.md` (Self-MI Table 2, our reading of its garbled cells)
# with
# Self-MM's MMSA weight decays (`self_mm`) and training loop (update_epochs 4,
# early stop 8). "Embedding size" = LSTM width = output width.
PRESETS = {
    "self_mi_mosi": {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "audio_learning_rate": 1e-3,
        "vision_learning_rate": 1e-4,
        "l2_decay": 1e-3,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-3,
        "vision_l2_decay": 1e-3,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 16,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "text_dropout": 0.0,
        "audio_dropout": 0.1,
        "vision_dropout": 0.1,
        "fusion_dropout": 0.1,
        "label_range": 3.0,
        "cpc_weight": 0.1,
        "head_layers": 2,
        "gradient_accumulation_steps": 4,
        "epochs": 50,
        "patience": 8,
    },
    "self_mi_mosei": {
        "batch_size": 64,
        "learning_rate": 1e-3,
        "text_learning_rate": 1e-5,
        "audio_learning_rate": 1e-3,
        "vision_learning_rate": 1e-4,
        "l2_decay": 1e-2,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 0.0,
        "vision_l2_decay": 0.0,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 64,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.1,
        "fusion_dropout": 0.1,
        "label_range": 3.0,
        "cpc_weight": 0.1,
        "head_layers": 2,
        "gradient_accumulation_steps": 4,
        "epochs": 50,
        "patience": 8,
    },
    "self_mi_sims": {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "audio_learning_rate": 5e-3,
        "vision_learning_rate": 5e-3,
        "l2_decay": 1e-3,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-2,
        "vision_l2_decay": 1e-2,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 16,
        "fusion_dim": 128,
        "text_post_dim": 64,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "text_dropout": 0.1,
        "audio_dropout": 0.0,
        "vision_dropout": 0.0,
        "fusion_dropout": 0.0,
        "label_range": 1.0,
        "cpc_weight": 0.1,
        "head_layers": 2,
        "gradient_accumulation_steps": 4,
        "epochs": 50,
        "patience": 8,
    },
}
# The no-argument recipe run (embedded synthetic MOSI, bundled MiniLM), over
# the preset of its dataset: a few epochs, minutes on CPU. One optimizer
# step per batch (600 samples give only ~5 accumulated steps per epoch) and
# faster rates, so a short run learns. Its measured scores: README,
# "Results" (`python recipes/self_mi.py`).
EMBEDDED_DEFAULTS = {
    "epochs": 4,
    "patience": 2,
    "gradient_accumulation_steps": 1,
    "text_learning_rate": 1e-4,
    "vision_learning_rate": 1e-3,
}

# Table key -> constructor argument.
PRESET_CONSTRUCTOR_KEYS = {
    key: key
    for key in (
        "audio_hidden_dim",
        "vision_hidden_dim",
        "fusion_dim",
        "text_post_dim",
        "audio_post_dim",
        "vision_post_dim",
        "text_dropout",
        "audio_dropout",
        "vision_dropout",
        "fusion_dropout",
        "label_range",
        "cpc_weight",
        "head_layers",
    )
}


OPTIMIZER_KEYS = self_mm_optimizer.PRESET_ARGUMENTS

# `from_preset` keys that only build the optimizer: none.
PRESET_COMPILE_KEYS = ()


def compile_arguments(model, settings):
    """Self-MM's grouped Adam (`SelfMIModel.make_optimizers`)."""
    optimizer = model.make_optimizers(
        **{key: settings[key] for key in OPTIMIZER_KEYS}
    )
    return {"optimizer": optimizer}
