"""Self-MM's per-group Adam with coupled L2 (Self-MI, MCER)."""

import re

import keras

from msakeras.optimizers import coupled_l2_adam
from msakeras.optimizers import global_clip_multi_optimizer
from msakeras.optimizers import variable_patterns

# Variable-path regexes of Self-MM's audio / vision parameter groups.
AUDIO_ENCODER_PATTERN = ".*audio_encoder/.*"
VISION_ENCODER_PATTERN = ".*vision_encoder/.*"
# BERT parameters without weight decay (Self-MM: bias, LayerNorm weights).
_NO_DECAY = re.compile(r".*(/bias|layer_norm/gamma|layer_norm/beta)$")
# The `self_mm_optimizer` arguments a model's preset table sets (Self-MI,
# MCER: `make_optimizers(**{key: table[key] for key in PRESET_ARGUMENTS})`).
PRESET_ARGUMENTS = (
    "learning_rate",
    "text_learning_rate",
    "audio_learning_rate",
    "vision_learning_rate",
    "l2_decay",
    "text_l2_decay",
    "audio_l2_decay",
    "vision_l2_decay",
    "gradient_accumulation_steps",
)


def self_mm_optimizer(
    text_encoder,
    learning_rate=1e-3,
    l2_decay=1e-3,
    text_learning_rate=5e-5,
    text_l2_decay=1e-3,
    audio_learning_rate=1e-3,
    audio_l2_decay=1e-3,
    vision_learning_rate=1e-4,
    vision_l2_decay=1e-3,
    gradient_accumulation_steps=4,
    sum_accumulated_gradients=True,
    extra_optimizers=None,
    global_clipnorm=None,
    name="self_mm_optimizer",
):
    """Self-MM's optimizer: per-group Adam with coupled L2.

    Groups (MMSA `SELF_MM` trainer; MCER's `learning_rate_bert / audio /
    visual / other`): BERT weights with decay, BERT biases and LayerNorm
    parameters without decay (both at `text_learning_rate`), the audio
    sLSTM (+ its linear; paths matching `.*audio_encoder/.*`), the vision
    sLSTM, and everything else. Each is a `CoupledL2Adam` (PyTorch
    `Adam(weight_decay=)`); no clipping unless `global_clipnorm`.

    Gradient accumulation: Self-MM steps every `update_epochs=4` batches
    on the *sum* of their gradients; Keras's `gradient_accumulation_steps`
    steps on their *average*. Adam is invariant to that scale except for
    the coupled L2 term, so with `sum_accumulated_gradients=True` every
    decay is divided by the number of steps, which reproduces the summed
    update (up to Adam's epsilon). DIFFERENCE: a trailing partial group at
    the end of an epoch carries over to the next epoch (Self-MM drops it).

    The BERT groups are keyed by the exact variable paths of the text
    encoder (keras-hub backbones create their variables outside the
    model's name scope, so `.*/text_encoder/.*` would not match them).

    Args:
        text_encoder: the model's text encoder layer (built).
        extra_optimizers: optional dict pattern -> optimizer added to the
            map (e.g. a frozen `SGD(0)` group).
        Others: learning rates and coupled L2 decays per group.

    Returns:
        a `GlobalClipMultiOptimizer`.
    """
    steps = max(1, int(gradient_accumulation_steps))
    scale = 1.0 / steps if sum_accumulated_gradients else 1.0
    accumulation = steps if steps > 1 else None

    def adam(rate, decay):
        return coupled_l2_adam.CoupledL2Adam(
            rate,
            l2_decay=decay * scale,
            gradient_accumulation_steps=accumulation,
        )

    decay_paths, no_decay_paths = [], []
    for variable in text_encoder.trainable_variables:
        if _NO_DECAY.match(variable.path):
            no_decay_paths.append(variable.path)
        else:
            decay_paths.append(variable.path)
    optimizer_map = {
        AUDIO_ENCODER_PATTERN: adam(audio_learning_rate, audio_l2_decay),
        VISION_ENCODER_PATTERN: adam(vision_learning_rate, vision_l2_decay),
    }
    if decay_paths:
        optimizer_map[variable_patterns.paths_pattern(decay_paths)] = adam(
            text_learning_rate, text_l2_decay
        )
    if no_decay_paths:
        optimizer_map[variable_patterns.paths_pattern(no_decay_paths)] = adam(
            text_learning_rate, 0.0
        )
    optimizer_map.update(extra_optimizers or {})
    return global_clip_multi_optimizer.GlobalClipMultiOptimizer(
        keras.optimizers.OptimizerMap(
            default_optimizer=adam(learning_rate, l2_decay),
            optimizer_map=optimizer_map,
        ),
        global_clipnorm=global_clipnorm,
        name=name,
    )
