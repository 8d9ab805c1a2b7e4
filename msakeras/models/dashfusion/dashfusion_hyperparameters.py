"""DashFusion's published hyperparameters and official optimizer."""

import keras
from keras import ops

from msakeras.models.dashfusion import dashfusion_presets

# `dashfusion_presets.PRESETS` by dataset, without the recipe's `patience`.
DASHFUSION_HYPERPARAMETERS = {
    name.removeprefix("dashfusion_"): {
        key: value for key, value in table.items() if key != "patience"
    }
    for name, table in dashfusion_presets.PRESETS.items()
}
"""Per-dataset DashFusion settings (`docs/models/dashfusion.md`).

Optimisation keys: `learning_rate`, `weight_decay`, `warmup_epochs`,
`epochs`, `batch_size`. Model keys match `DashFusionModel` arguments
(`hidden_dim`, `num_heads`, `intermediate_dim`, `num_encoder_layers`,
`encoder_dropout`, `position_dropout`, `num_fusion_layers`,
`num_bottleneck_tokens`, `contrastive_weight`, `temperature`,
`partners_per_role`, `round_labels`, `max_audio_length`,
`max_vision_length`). Sampler keys match `ContrastivePairSampler`
(`candidates_per_list`, `similar_scan_fraction`,
`dissimilar_scan_fraction`; `partners_per_role`, `round_labels`) and
`refresh_every_epochs` is the similarity refresh period (official: epochs
1, 3, 5, ...).
"""

MODEL_KEYS = dashfusion_presets.MODEL_KEYS
"""Keys of `DASHFUSION_HYPERPARAMETERS[dataset]` that are model arguments."""


@keras.saving.register_keras_serializable(package="msakeras")
class LinearWarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up then linear decay to 0 (HF
    `get_linear_schedule_with_warmup`, DashFusion's schedule).

    `lr(step) = peak · step / warmup_steps` for `step < warmup_steps`, then
    `peak · max(0, (total_steps - step) / max(1, total_steps -
    warmup_steps))`. The optimizer's first update uses step 0, i.e. a zero
    learning rate, exactly as the official scheduler.

    Args:
        learning_rate: float. Peak learning rate.
        warmup_steps: int. Warm-up length in optimizer steps.
        total_steps: int. Steps until the rate reaches 0.
    """

    def __init__(self, learning_rate, warmup_steps, total_steps):
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = float(self.warmup_steps)
        total = float(self.total_steps)
        rising = step / max(1.0, warmup)
        falling = ops.maximum(0.0, (total - step) / max(1.0, total - warmup))
        factor = ops.where(step < warmup, rising, falling)
        return self.learning_rate * factor

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
        }


def make_dashfusion_optimizer(
    model,
    steps_per_epoch,
    dataset="mosi",
    epochs=None,
    learning_rate=None,
    warmup_epochs=None,
    weight_decay=None,
):
    """The official AdamW and schedule for a `DashFusionModel`.

    AdamW (decoupled decay, as `torch.optim.AdamW`) on all parameters with
    one learning rate, the linear warm-up/decay schedule
    (`LinearWarmupLinearDecay`, warm-up `warmup_epochs · steps_per_epoch`,
    total `epochs · steps_per_epoch`), no clipping. Weight decay skips what
    the official name filter (`"bias"`, `"LayerNorm.weight"`) skips: every
    bias and LayerNorm beta, and the LayerNorm scales of the BERT backbone
    only (the other LayerNorm scales are decayed, as in the official
    code). Arguments left `None` come from `DASHFUSION_HYPERPARAMETERS`.

    GAP: the backbone LayerNorm scales are excluded by variable identity
    (`exclude_from_weight_decay(var_list=...)`), which a `.keras` reload
    does not restore; a reloaded optimizer decays them (1e-3 · lr, a tiny
    difference).

    Args:
        model: `DashFusionModel`.
        steps_per_epoch: int. Optimizer steps per epoch.
        dataset: str. `"mosi"`, `"mosei"` or `"sims"`. Defaults to
            `"mosi"`.
        epochs, learning_rate, warmup_epochs, weight_decay: overrides.

    Returns:
        `keras.optimizers.AdamW`.
    """
    if dataset not in DASHFUSION_HYPERPARAMETERS:
        raise ValueError(
            f"Unknown dataset {dataset!r}; expected one of "
            f"{sorted(DASHFUSION_HYPERPARAMETERS)}."
        )
    settings = DASHFUSION_HYPERPARAMETERS[dataset]
    epochs = settings["epochs"] if epochs is None else epochs
    learning_rate = (
        settings["learning_rate"] if learning_rate is None else learning_rate
    )
    warmup_epochs = (
        settings["warmup_epochs"] if warmup_epochs is None else warmup_epochs
    )
    weight_decay = (
        settings["weight_decay"] if weight_decay is None else weight_decay
    )
    schedule = LinearWarmupLinearDecay(
        learning_rate,
        warmup_steps=int(warmup_epochs * steps_per_epoch),
        total_steps=int(epochs * steps_per_epoch),
    )
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    )
    backbone_norm_scales = [
        variable
        for variable in model.text_encoder.weights
        if "norm" in variable.path and variable.name == "gamma"
    ]
    optimizer.exclude_from_weight_decay(
        var_list=backbone_norm_scales, var_names=["bias", "beta"]
    )
    return optimizer
