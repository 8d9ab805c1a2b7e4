"""MMIM presets: the paper's settings per dataset (`MMIMModel.from_preset`).

Keys: constructor arguments (`PRESET_CONSTRUCTOR_KEYS`; `batch_size` also
sizes the BA history memories, as the official code), the optimizers of
`MMIMModel.make_optimizers` (`learning_rate`, `text_learning_rate`,
`mi_learning_rate`, `l2_decay`, `global_clipnorm`) and the training loop
(`batch_size`, `epochs`, `patience`). `EMBEDDED_DEFAULTS` holds the
no-argument recipe run's changes.
"""

# `docs/models/mmim.md`: paper Table 3 for MOSI/MOSEI ("hidden dim" read as both
# LSTM width and output width); SIMS from MMSA's `mmim` config.
PRESETS = {
    "mmim_mosi": {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "mi_learning_rate": 5e-3,
        "cpc_weight": 0.3,
        "ba_weight": 0.1,
        "audio_hidden_dim": 32,
        "vision_hidden_dim": 32,
        "fusion_dim": 128,
        "bidirectional": False,
        "global_clipnorm": 5.0,
        "l2_decay": 1e-4,
        "stage_one_fraction": 1.0,
        "stage_one_gradients": "all",
        "epochs": 40,
        "patience": 10,
    },
    "mmim_mosei": {
        "batch_size": 64,
        "learning_rate": 5e-4,
        "text_learning_rate": 5e-5,
        "mi_learning_rate": 1e-3,
        "cpc_weight": 0.1,
        "ba_weight": 0.05,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 64,
        "fusion_dim": 128,
        "bidirectional": False,
        "global_clipnorm": 5.0,
        "l2_decay": 1e-4,
        "stage_one_fraction": 0.5,
        "stage_one_gradients": "all",
        "epochs": 40,
        "patience": 10,
    },
    "mmim_sims": {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "mi_learning_rate": 1e-3,
        "cpc_weight": 0.1,
        "ba_weight": 0.1,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 16,
        "fusion_dim": 128,
        "bidirectional": True,
        "global_clipnorm": 1.0,
        "l2_decay": 1e-4,
        "stage_one_fraction": 1.0,
        "stage_one_gradients": "all",
        "epochs": 40,
        "patience": 8,
    },
}
# The no-argument recipe run (embedded synthetic MOSI, bundled MiniLM), over
# the preset of its dataset: a few epochs, minutes on CPU; stage 1 skips the
# (discarded) encoder gradients (`MMIMModel`, `stage_one_gradients`). Its
# measured scores: README, "Results" (`python recipes/mmim.py`).
EMBEDDED_DEFAULTS = {
    "epochs": 6,
    "patience": 3,
    "stage_one_gradients": "critics",
}

# Table key -> `MMIMModel` argument.
PRESET_CONSTRUCTOR_KEYS = {
    "audio_hidden_dim": "audio_hidden_dim",
    "vision_hidden_dim": "vision_hidden_dim",
    "fusion_dim": "fusion_dim",
    "bidirectional": "bidirectional",
    "cpc_weight": "cpc_weight",
    "ba_weight": "ba_weight",
    "batch_size": "memory_capacity",
    "stage_one_fraction": "stage_one_fraction",
    "stage_one_gradients": "stage_one_gradients",
}

OPTIMIZER_KEYS = (
    "learning_rate",
    "text_learning_rate",
    "mi_learning_rate",
    "l2_decay",
    "global_clipnorm",
)

# `from_preset` keys that only build the optimizer: none.
PRESET_COMPILE_KEYS = ()


def compile_arguments(model, settings):
    """The official two optimizers (`MMIMModel.make_optimizers`)."""
    main, stage_one = model.make_optimizers(
        **{key: settings[key] for key in OPTIMIZER_KEYS}
    )
    return {"optimizer": main, "stage_one_optimizer": stage_one}
