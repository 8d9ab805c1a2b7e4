"""Builds an msakeras model from an MMSA 2.2.1 MMIM / Self-MM state dict.

MMSA's trainers save `AMIO.state_dict()` (keys `Model.<module>...`).
The layer widths are read from the checkpoint's shapes, the feature widths
and the remaining settings from `--dataset` (`mmsa_configs`), the BERT's
shape from the `config.json` of `--text-backbone`; then every tensor of the
state dict is mapped onto one variable (`WeightMap`), BERT included.

Module correspondence (MMSA `MMSA/models/singleTask/MMIM.py`):

| MMSA MMIM                          | `MMIMModel`                          |
| ---------------------------------- | ------------------------------------ |
| `bertmodel.model` (HF `BertModel`) | `text_encoder.backbone`              |
| `acoustic_enc` / `visual_enc`      | `audio_encoder` / `vision_encoder`   |
|   `.rnn` (`_reverse`: backward)    |   forward / backward `LSTM`          |
|   `.linear_1`                      |   `output_dense`                     |
| `mi_tv` / `mi_ta` (`MMILB`)        | `ba_bound.vision_critic` / `audio_`  |
|   `mlp_mu.0`, `mlp_mu.2`           |   `mean_hidden`, `mean_output`       |
|   `mlp_logvar.0`, `mlp_logvar.2`   |   `log_variance_hidden`, `_output`   |
|   `entropy_prj.0`                  |   `entropy_projection`               |
| `cpc_zt` / `cpc_za` / `cpc_zv`     | `cpc_text` / `cpc_audio` / `_vision` |
| `fusion_prj.linear_1`, `linear_2`  | `fusion` (`dense_0`, `dense_1`)      |
| `fusion_prj.linear_3`              | `sentiment_head`                     |

Self-MM (`MMSA/models/multiTask/SELF_MM.py`) becomes a `SelfMIModel` with
`label_generator="ulgm"` and no CPC terms (`cpc_modalities=()`,
`cpc_weight=0`), which is Self-MM: `text_model.model` -> the backbone,
`audio_model` / `video_model` (`AuViSubNet`) -> `audio_encoder` /
`vision_encoder`, `post_<m>_layer_1` -> `fusion` / `<m>_post` (all four
inside the `self_mm_features` layer),
`post_<m>_layer_2`, `_3` -> `<m>_head_hidden`, `<m>_head_output`
(`video` is `vision`).

Not convertible (refused with the key at fault): MMIM with `add_va`
(`mi_va`), LSTMs with more than one layer (MMSA's `RNNEncoder` then reads
the *first* layer's final states, `AuViSubNet` cannot run at all),
classification heads, and an MMIM whose LSTM and output widths differ
(`d_ah != d_aout`; `MMIMModel` ties them).
"""

import os
import re

from msakeras.callbacks import atomic_files
from msakeras.convert_mmsa import mmsa_configs
from msakeras.convert_mmsa import module_weights
from msakeras.convert_mmsa import torch_checkpoint
from msakeras.convert_mmsa import weight_map
from msakeras.layers.encoders import bert_loading
from msakeras.layers.encoders import bert_text_encoder
from msakeras.models.mmim import mmim_model
from msakeras.models.self_mi import self_mi_model

MODELS = ("mmim", "self_mm")
# Prefixes of the saving wrapper: MMSA's `AMIO`, `nn.DataParallel`.
WRAPPER_PREFIXES = ("Model.", "module.")


def strip_wrapper_prefixes(state_dict):
    """Removes `AMIO`'s `Model.` (and DataParallel's `module.`) prefixes."""
    for prefix in WRAPPER_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            state_dict = {
                key[len(prefix) :]: value for key, value in state_dict.items()
            }
    return state_dict


class _Shapes:
    """Reads layer widths off a state dict, with errors naming the key."""

    def __init__(self, state_dict, path, model):
        self.state_dict = state_dict
        self.path = path
        self.model = model

    def shape(self, key):
        if key not in self.state_dict:
            raise ValueError(
                f"Checkpoint '{self.path}' has no key '{key}': it is not an "
                f"MMSA 2.2.1 '{self.model}' state dict (its keys start with "
                f"{sorted({k.split('.')[0] for k in self.state_dict})[:6]})."
            )
        return tuple(self.state_dict[key].shape)

    def width(self, key, axis=0):
        return self.shape(key)[axis]

    def refuse_keys(self, pattern, reason):
        for key in self.state_dict:
            if re.fullmatch(pattern, key):
                raise ValueError(
                    f"Checkpoint '{self.path}': key '{key}' (shape "
                    f"{self.shape(key)}) {reason}"
                )

    def refuse_deep_lstms(self, *prefixes):
        for prefix in prefixes:
            self.refuse_keys(
                re.escape(prefix) + r"\.rnn\.weight_ih_l[1-9]\d*(_reverse)?",
                "belongs to a second LSTM layer; only one-layer LSTMs "
                "convert (MMSA's configurations use one).",
            )


def _text_encoder(text_backbone):
    backbone = bert_loading.bert_backbone_from_hf_config(text_backbone)
    return bert_text_encoder.BertTextEncoder(backbone)


def _check_input_width(shapes, key, expected, dataset, modality):
    found = shapes.width(key, axis=1)
    if found != expected:
        raise ValueError(
            f"Checkpoint '{shapes.path}': key '{key}' has shape "
            f"{shapes.shape(key)}, but --dataset {dataset} has {modality} "
            f"features of width {expected} (expected shape "
            f"{(shapes.shape(key)[0], expected)})."
        )


def build_mmim(state_dict, path, dataset, text_backbone):
    """`(MMIMModel, WeightMap)` for an MMSA MMIM state dict."""
    shapes = _Shapes(state_dict, path, "mmim")
    audio_dim, vision_dim, _ = mmsa_configs.FEATURES[dataset]
    settings = mmsa_configs.MMIM[dataset]
    shapes.refuse_keys(
        r"mi_va\..*",
        "belongs to the vision-audio critic of `add_va=True`, which "
        "MMIMModel does not have (MMSA's configurations use add_va=False).",
    )
    shapes.refuse_deep_lstms("acoustic_enc", "visual_enc")
    widths = {}
    for modality, prefix in (
        ("audio", "acoustic_enc"),
        ("vision", "visual_enc"),
    ):
        hidden = shapes.width(f"{prefix}.rnn.weight_hh_l0", axis=1)
        output_key = f"{prefix}.linear_1.weight"
        output = shapes.width(output_key)
        if output != hidden:
            raise ValueError(
                f"Checkpoint '{path}': key '{output_key}' has shape "
                f"{shapes.shape(output_key)}, but MMIMModel's {modality} "
                f"encoder outputs its LSTM width {hidden} (expected shape "
                f"{(hidden,) + shapes.shape(output_key)[1:]}): MMIMModel "
                "ties d_h and d_out."
            )
        widths[modality] = hidden
    _check_input_width(
        shapes, "acoustic_enc.rnn.weight_ih_l0", audio_dim, dataset, "audio"
    )
    _check_input_width(
        shapes, "visual_enc.rnn.weight_ih_l0", vision_dim, dataset, "vision"
    )
    cpc_layers = 1
    if "cpc_zt.net.weight" not in state_dict:
        cpc_layers = sum(
            1
            for key in state_dict
            if re.fullmatch(r"cpc_zt\.net\.\d+\.weight", key)
        )
    model = mmim_model.MMIMModel(
        _text_encoder(text_backbone),
        audio_dim=audio_dim,
        vision_dim=vision_dim,
        audio_hidden_dim=widths["audio"],
        vision_hidden_dim=widths["vision"],
        fusion_dim=shapes.width("fusion_prj.linear_1.weight"),
        fusion_dropout=settings["dropout_prj"],
        bidirectional="acoustic_enc.rnn.weight_ih_l0_reverse" in state_dict,
        cpc_weight=settings["alpha"],
        ba_weight=settings["beta"],
        cpc_layers=max(cpc_layers, 1),
    )
    weights = weight_map.WeightMap(path, f"MMSA '{dataset}' MMIM model")
    module_weights.add_bert(
        weights, "bertmodel.model", model.text_encoder.backbone
    )
    module_weights.add_lstm_encoder(
        weights,
        "acoustic_enc.rnn",
        "acoustic_enc.linear_1",
        model.audio_encoder,
    )
    module_weights.add_lstm_encoder(
        weights, "visual_enc.rnn", "visual_enc.linear_1", model.vision_encoder
    )
    for prefix, critic in (
        ("mi_tv", model.ba_bound.vision_critic),
        ("mi_ta", model.ba_bound.audio_critic),
    ):
        for name, dense in (
            ("mlp_mu.0", critic.mean_hidden),
            ("mlp_mu.2", critic.mean_output),
            ("mlp_logvar.0", critic.log_variance_hidden),
            ("mlp_logvar.2", critic.log_variance_output),
            ("entropy_prj.0", critic.entropy_projection),
        ):
            module_weights.add_linear(weights, f"{prefix}.{name}", dense)
    for prefix, modality in (
        ("cpc_zt", "text"),
        ("cpc_zv", "vision"),
        ("cpc_za", "audio"),
    ):
        layers = model.cpc_predictors[modality].prediction_layers
        if len(layers) == 1:
            module_weights.add_linear(weights, f"{prefix}.net", layers[0])
        else:
            # nn.Sequential(Linear, Tanh, Linear, Linear, ...)
            for index, dense in enumerate(layers):
                position = 0 if index == 0 else index + 1
                module_weights.add_linear(
                    weights, f"{prefix}.net.{position}", dense
                )
    module_weights.add_linear(
        weights, "fusion_prj.linear_1", model.fusion.dense_layers[0]
    )
    module_weights.add_linear(
        weights, "fusion_prj.linear_2", model.fusion.dense_layers[1]
    )
    module_weights.add_linear(
        weights, "fusion_prj.linear_3", model.sentiment_head
    )
    return model, weights


# Self-MM module names -> msakeras modality names.
_SELF_MM_MODALITIES = (
    ("text", "text"),
    ("audio", "audio"),
    ("video", "vision"),
)


def build_self_mm(
    state_dict, path, dataset, text_backbone, num_train_samples=None
):
    """`(SelfMIModel, WeightMap)` (Self-MM) for an MMSA SELF_MM state dict."""
    shapes = _Shapes(state_dict, path, "self_mm")
    audio_dim, vision_dim, train_samples = mmsa_configs.FEATURES[dataset]
    settings = mmsa_configs.SELF_MM[dataset]
    shapes.refuse_deep_lstms("audio_model", "video_model")
    shapes.refuse_keys(
        r"(audio|video)_model\.rnn\..*_reverse",
        "belongs to a bidirectional LSTM, which Self-MM's AuViSubNet "
        "cannot read (its linear layer takes one direction).",
    )
    _check_input_width(
        shapes, "audio_model.rnn.weight_ih_l0", audio_dim, dataset, "audio"
    )
    _check_input_width(
        shapes, "video_model.rnn.weight_ih_l0", vision_dim, dataset, "vision"
    )
    model = self_mi_model.SelfMIModel(
        _text_encoder(text_backbone),
        audio_dim=audio_dim,
        vision_dim=vision_dim,
        num_train_samples=num_train_samples or train_samples,
        label_generator="ulgm",
        audio_hidden_dim=shapes.width("audio_model.rnn.weight_hh_l0", 1),
        audio_output_dim=shapes.width("audio_model.linear_1.weight"),
        vision_hidden_dim=shapes.width("video_model.rnn.weight_hh_l0", 1),
        vision_output_dim=shapes.width("video_model.linear_1.weight"),
        fusion_dim=shapes.width("post_fusion_layer_1.weight"),
        text_post_dim=shapes.width("post_text_layer_1.weight"),
        audio_post_dim=shapes.width("post_audio_layer_1.weight"),
        vision_post_dim=shapes.width("post_video_layer_1.weight"),
        fusion_dropout=settings["post_fusion_dropout"],
        text_dropout=settings["post_text_dropout"],
        audio_dropout=settings["post_audio_dropout"],
        vision_dropout=settings["post_video_dropout"],
        head_layers=2,
        cpc_weight=0.0,
        cpc_modalities=(),
        label_range=settings["H"],
        exclude_zero=True,
    )
    weights = weight_map.WeightMap(path, f"MMSA '{dataset}' Self-MM model")
    encoder = model.self_mm_features
    module_weights.add_bert(
        weights, "text_model.model", model.text_encoder.backbone
    )
    module_weights.add_lstm_encoder(
        weights,
        "audio_model.rnn",
        "audio_model.linear_1",
        encoder.audio_encoder,
    )
    module_weights.add_lstm_encoder(
        weights,
        "video_model.rnn",
        "video_model.linear_1",
        encoder.vision_encoder,
    )
    module_weights.add_linear(
        weights, "post_fusion_layer_1", encoder.fusion.dense_layers[0]
    )
    post = {"fusion": "fusion"}
    for name, modality in _SELF_MM_MODALITIES:
        module_weights.add_linear(
            weights,
            f"post_{name}_layer_1",
            encoder.post_layers()[modality].dense_layers[0],
        )
        post[name] = modality
    for name, key in post.items():
        hidden, output = model.heads[key]
        module_weights.add_linear(weights, f"post_{name}_layer_2", hidden)
        module_weights.add_linear(weights, f"post_{name}_layer_3", output)
    return model, weights


def convert_checkpoint(
    checkpoint,
    model,
    dataset,
    text_backbone,
    output=None,
    num_train_samples=None,
):
    """Converts an MMSA 2.2.1 checkpoint into an msakeras model.

    Args:
        checkpoint: str. The `.pth` MMSA saved (`AMIO.state_dict()`), read
            without torch and without running code from the file
            (`torch_checkpoint.read_state_dict`).
        model: `"mmim"` or `"self_mm"`.
        dataset: `"mosi"`, `"mosei"` or `"sims"` (feature widths and
            MMSA's settings for the dataset).
        text_backbone: str. The Hugging Face BERT folder the checkpoint was
            fine-tuned from (only its `config.json` is read; every BERT
            weight comes from the checkpoint).
        output: str or None. A `.keras` path to save the model to.
        num_train_samples: int or None. Self-MM only: rows of the ULGM
            label tables (training further). Defaults to the dataset's
            training-set size.

    Returns:
        The converted model (`MMIMModel` or `SelfMIModel`).

    Raises:
        ValueError: the checkpoint does not fit (one message naming the
            file, the key and both shapes), or a bad argument.
        pickle.UnpicklingError: the checkpoint would run code.
    """
    if model not in MODELS:
        raise ValueError(f"`model` must be one of {MODELS}; got {model!r}.")
    if dataset not in mmsa_configs.DATASETS:
        raise ValueError(
            f"`dataset` must be one of {mmsa_configs.DATASETS}; got "
            f"{dataset!r}."
        )
    if output is not None and not os.fspath(output).endswith(".keras"):
        raise ValueError(f"--output must end in '.keras'; got {output!r}.")
    checkpoint = os.fspath(checkpoint)
    state_dict = strip_wrapper_prefixes(
        torch_checkpoint.read_state_dict(checkpoint)
    )
    if model == "mmim":
        converted, weights = build_mmim(
            state_dict, checkpoint, dataset, text_backbone
        )
    else:
        converted, weights = build_self_mm(
            state_dict, checkpoint, dataset, text_backbone, num_train_samples
        )
    weights.assign(state_dict)
    unmapped = weights.unmapped(converted.trainable_weights)
    if unmapped:  # a mapping bug, never the checkpoint's fault
        raise RuntimeError(
            "No checkpoint tensor maps onto "
            + ", ".join(variable.path for variable in unmapped)
        )
    if output is not None:
        with atomic_files.atomic_output_path(os.fspath(output)) as temporary:
            converted.save(temporary)
    return converted
