"""Tiny random models of the five architectures, dropout off (tests)."""

from msakeras.models.dashfusion.dashfusion_model import DashFusionModel
from msakeras.models.hycon.hycon_model import HyConModel
from msakeras.models.mcer.mcer_model import MCERModel
from msakeras.models.mmim.mmim_model import MMIMModel
from msakeras.models.self_mi.self_mi_model import SelfMIModel
from msakeras.testing.tiny_text_encoder import tiny_text_encoder

MODEL_NAMES = ("hycon", "mmim", "self_mi", "mcer", "dashfusion")

# DashFusion's tiny widths (its own model tests add their dropouts).
DASHFUSION_SIZES = dict(
    hidden_dim=8,
    num_heads=2,
    intermediate_dim=16,
    num_encoder_layers=1,
    max_audio_length=8,
    max_vision_length=8,
    temporal_num_heads=2,
    temporal_head_dim=4,
    num_fusion_layers=1,
    num_bottleneck_tokens=4,
)


def tiny_model(
    name,
    text_encoder=None,
    audio_dim=3,
    vision_dim=4,
    num_train_samples=12,
    **overrides,
):
    """A tiny `name` model with random weights (Keras's global seed).

    Every dropout is 0, so a training step is a deterministic function of
    the weights and the batch (compiled-step and cross-backend tests).

    Args:
        name: str. One of `MODEL_NAMES`.
        text_encoder: a `BertTextEncoder` or None. Defaults to
            `tiny_text_encoder(hidden_dim=8, dropout=0.0,
            max_sequence_length=8)`.
        audio_dim, vision_dim: int. Feature widths of the inputs.
        num_train_samples: int. Label-table size (Self-MI, MCER).
        **overrides: constructor arguments replacing the tiny sizes.
    """
    if text_encoder is None:
        text_encoder = tiny_text_encoder(
            hidden_dim=8, dropout=0.0, max_sequence_length=8
        )
    common = dict(audio_dim=audio_dim, vision_dim=vision_dim)
    unimodal = dict(
        num_train_samples=num_train_samples,
        audio_hidden_dim=4,
        vision_hidden_dim=4,
        fusion_dim=8,
        text_post_dim=4,
        audio_post_dim=3,
        vision_post_dim=4,
        fusion_dropout=0.0,
        audio_dropout=0.0,
        vision_dropout=0.0,
    )
    settings = {
        "hycon": dict(
            hidden_dim=8,
            num_heads=2,
            num_layers=1,
            graph_hidden_dim=6,
            attention_dropout=0.0,
            relu_dropout=0.0,
            residual_dropout=0.0,
            embedding_dropout=0.0,
        ),
        "mmim": dict(
            audio_hidden_dim=4,
            vision_hidden_dim=4,
            fusion_dim=8,
            fusion_dropout=0.0,
            memory_capacity=8,
        ),
        "self_mi": unimodal,
        "mcer": dict(
            unimodal,
            bottleneck_hidden_dim=4,
            cross_modal_dim=4,
            cross_modal_layers=1,
            cross_modal_heads=2,
            cross_modal_dropout=0.0,
            sequence_recurrent_dim=4,
            cross_head_dim=4,
            memory_capacity=8,
        ),
        "dashfusion": dict(
            DASHFUSION_SIZES, encoder_dropout=0.0, position_dropout=0.0
        ),
    }
    classes = {
        "hycon": HyConModel,
        "mmim": MMIMModel,
        "self_mi": SelfMIModel,
        "mcer": MCERModel,
        "dashfusion": DashFusionModel,
    }
    if name not in classes:
        raise ValueError(
            f"Unknown model {name!r}; expected one of {MODEL_NAMES}."
        )
    arguments = {**common, **settings[name], **overrides}
    return classes[name](text_encoder, **arguments)
