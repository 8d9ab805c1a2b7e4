"""DashFusion presets: the official settings per dataset (`from_preset`).

Keys: constructor arguments (`MODEL_KEYS`), the optimizer of
`make_dashfusion_optimizer` (`learning_rate`, `weight_decay`,
`warmup_epochs`, `epochs`), the hard-negative sampler and the training
loop (`batch_size`, `epochs`, `patience`: `None`, the official fixed
budget, no early stopping). The schedule needs the optimizer steps per
epoch: `from_preset(..., steps_per_epoch=N)`. `EMBEDDED_DEFAULTS` holds
the no-argument recipe run's changes, `ABLATION_SWITCHES` the paper's
Tables IV-V switches and `SELECTION` the official checkpoint rule.
"""

PRESETS = {
    # `docs/models/dashfusion.md` (official `config.py`, `train.py`, README).
    "dashfusion_mosi": {
        "learning_rate": 5e-5,  # all parameters, BERT included
        "weight_decay": 1e-3,
        "warmup_epochs": 10,
        "epochs": 100,  # DECISION: the paper's (committed config: 4)
        "batch_size": 16,
        "hidden_dim": 128,
        "num_heads": 8,
        "intermediate_dim": 256,
        "num_encoder_layers": 2,  # README correction (paper: 1)
        "encoder_dropout": 0.5,
        "position_dropout": 0.1,
        "num_fusion_layers": 2,
        "num_bottleneck_tokens": 8,
        "contrastive_weight": 0.2,
        "temperature": 0.5,
        "partners_per_role": 2,
        "round_labels": True,
        "candidates_per_list": 10,
        "similar_scan_fraction": 1.0,
        "dissimilar_scan_fraction": 1.0,
        "refresh_every_epochs": 2,
        "max_audio_length": 375,
        "max_vision_length": 500,
        "patience": None,  # the official fixed budget
    },
    "dashfusion_mosei": {
        "learning_rate": 2e-5,
        "weight_decay": 1e-3,
        "warmup_epochs": 1,
        "epochs": 25,
        "batch_size": 8,
        "hidden_dim": 128,
        "num_heads": 8,
        "intermediate_dim": 256,
        "num_encoder_layers": 4,  # README correction (paper: 3)
        "encoder_dropout": 0.5,
        "position_dropout": 0.1,
        "num_fusion_layers": 3,
        "num_bottleneck_tokens": 8,
        "contrastive_weight": 0.2,
        "temperature": 0.5,
        "partners_per_role": 2,
        "round_labels": True,
        "candidates_per_list": 10,
        "similar_scan_fraction": 0.5,
        "dissimilar_scan_fraction": 0.125,
        "refresh_every_epochs": 2,
        "max_audio_length": 500,
        "max_vision_length": 500,
        "patience": None,  # the official fixed budget
    },
    "dashfusion_sims": {
        "learning_rate": 5e-5,
        "weight_decay": 1e-3,
        "warmup_epochs": 10,
        "epochs": 100,
        "batch_size": 16,
        "hidden_dim": 128,
        "num_heads": 8,
        "intermediate_dim": 256,
        "num_encoder_layers": 2,
        "encoder_dropout": 0.5,
        "position_dropout": 0.1,
        "num_fusion_layers": 2,
        "num_bottleneck_tokens": 8,
        "contrastive_weight": 0.2,
        "temperature": 0.5,
        "partners_per_role": 2,
        "round_labels": False,  # SIMS: exact label equality
        "candidates_per_list": 10,
        "similar_scan_fraction": 1 / 1.6,
        "dissimilar_scan_fraction": 0.5,
        "refresh_every_epochs": 2,
        "max_audio_length": 400,
        "max_vision_length": 55,
        "patience": None,  # the official fixed budget
    },
}
# The no-argument recipe run on CPU, over the preset of its dataset; every
# difference from the paper is explained in `docs/models/dashfusion.md`,
# "Recipe", and its measured scores are in README, "Results"
# (`python recipes/dashfusion.py`).
EMBEDDED_DEFAULTS = {
    "epochs": 3,
    "batch_size": 16,
    "learning_rate": 1e-4,
    "warmup_epochs": 1,
    "num_encoder_layers": 1,
    "encoder_dropout": 0.0,
    "partners_per_role": 0,
    "refresh_every_epochs": 2,
}
# Paper Tables IV-V (`recipes/dashfusion.py --no-temporal-alignment` etc.):
# name -> (help, table keys it changes). The first three are
# `DashFusionModel` switches (`temporal_alignment=False`, ...) that the
# recipe passes itself; they change no table key.
ABLATION_SWITCHES = {
    "no_temporal_alignment": (
        "ablation: H = X_t (no text-query cross-attention, eq. 4)",
        {},
    ),
    "no_semantic_alignment": (
        "ablation: no NT-Xent between modality vectors (eq. 5)",
        {},
    ),
    "no_supervised_contrastive": (
        "ablation: no label-derived pairs (w/o SCL)",
        {},
    ),
    "no_contrastive": (
        "ablation: contrastive weight 0 (no L_con, plain batches)",
        {"contrastive_weight": 0.0, "partners_per_role": 0},
    ),
}
# Checkpoint selection of the official `train.py`: best validation MAE from
# epoch 2 (`if epoch > 1: check_and_save`), a later equal value replacing
# the earlier (`>=`). DECISION: a run shorter than `start_epoch` epochs
# selects from its last epoch (`docs/models/dashfusion.md`, "Recipe").
SELECTION = {
    "monitor": "val_mae",
    "mode": "min",
    "start_epoch": 2,
    "ties": "last",
}
# Keys of a table that configure `msakeras.data.ContrastivePairSampler`.
SAMPLER_KEYS = (
    "partners_per_role",
    "candidates_per_list",
    "similar_scan_fraction",
    "dissimilar_scan_fraction",
    "round_labels",
)
MODEL_KEYS = (
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "num_encoder_layers",
    "encoder_dropout",
    "position_dropout",
    "num_fusion_layers",
    "num_bottleneck_tokens",
    "contrastive_weight",
    "temperature",
    "partners_per_role",
    "round_labels",
    "max_audio_length",
    "max_vision_length",
)
# Table key -> `DashFusionModel` argument.
PRESET_CONSTRUCTOR_KEYS = {key: key for key in MODEL_KEYS}
# `from_preset` keys that only build the optimizer.
PRESET_COMPILE_KEYS = ("steps_per_epoch",)


def compile_arguments(model, settings):
    """The official AdamW and schedule (`make_dashfusion_optimizer`)."""
    from msakeras.models.dashfusion import dashfusion_hyperparameters

    if settings.get("steps_per_epoch") is None:
        raise ValueError(
            "DashFusionModel.from_preset: the learning-rate schedule needs "
            "`steps_per_epoch=` (optimizer steps per epoch), or pass "
            "`compile=False`."
        )
    optimizer = dashfusion_hyperparameters.make_dashfusion_optimizer(
        model,
        settings["steps_per_epoch"],
        epochs=settings["epochs"],
        learning_rate=settings["learning_rate"],
        warmup_epochs=settings["warmup_epochs"],
        weight_decay=settings["weight_decay"],
    )
    return {"optimizer": optimizer}
