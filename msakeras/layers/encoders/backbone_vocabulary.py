"""Does a text backbone read the token ids of a data file?

A standard HDF5 file stores token ids and names their WordPiece vocabulary
in its `text_vocabulary` attribute (`docs/data-format.md`): MOSI and MOSEI
`bert_base_uncased`, CH-SIMS `bert_base_chinese` (MMSA's features). A
backbone with another vocabulary reads the same ids as other words and
trains without an error on meaningless text. `check_backbone_vocabulary`
refuses that pairing by name, before any backbone is loaded; after loading,
`check_vocabulary_size` compares the embedding table with the file's.

Nothing here imports keras-hub (the recipes call it while parsing flags).
"""

import os

BUNDLED_MINILM = "bundled-minilm"  # as in bert_loading

VOCABULARY_SIZES = {
    "bert_base_uncased": 30522,
    "bert_base_cased": 28996,
    "bert_base_chinese": 21128,
    "bert_base_multilingual_cased": 119547,
}
"""WordPiece vocabularies the file attribute and backbones are named by."""

SUGGESTED_BACKBONES = {
    "bert_base_uncased": "the bundled MiniLM (the default), keras-hub's "
    "`bert_base_en_uncased` or a local uncased BERT folder",
    "bert_base_cased": "keras-hub's `bert_base_en` or a local cased BERT "
    "folder",
    "bert_base_chinese": "keras-hub's Chinese BERT preset `bert_base_zh` or a "
    "local Hugging Face bert-base-chinese folder",
    "bert_base_multilingual_cased": "keras-hub's `bert_base_multi` or a local "
    "multilingual BERT folder",
}


def file_vocabulary_family(name):
    """The file attribute's vocabulary as a key of `VOCABULARY_SIZES`, or
    `None` (`"unknown"`, `wordpiece:<folder>` of the CSV converter)."""
    name = str(name or "")
    if name.startswith("bert_base_uncased"):  # also `_remapped_<n>`
        return "bert_base_uncased"
    return name if name in VOCABULARY_SIZES else None


def backbone_vocabulary(source=None):
    """The vocabulary of `--text-backbone` from its name (or its folder's
    `vocab.txt`), a key of `VOCABULARY_SIZES`, or `None` if not known."""
    if source in (None, BUNDLED_MINILM):
        return "bert_base_uncased"  # MiniLM-L6: bert-base-uncased's vocab
    path = os.fspath(source)
    if os.path.isdir(path):
        vocab = os.path.join(path, "vocab.txt")
        if not os.path.isfile(vocab):
            return None
        with open(vocab, encoding="utf-8") as handle:
            size = sum(1 for _ in handle)
        by_size = {size: name for name, size in VOCABULARY_SIZES.items()}
        return by_size.get(size)
    name = path.split("://", 1)[-1].rstrip("/").rsplit("/", 1)[-1].lower()
    name = name.replace("-", "_")
    if "chinese" in name or name.endswith("_zh") or "_zh_" in name:
        return "bert_base_chinese"
    if "multi" in name:
        return "bert_base_multilingual_cased"
    if "uncased" in name or "minilm" in name:
        return "bert_base_uncased"
    if name.startswith("bert") and (name.endswith("_en") or "cased" in name):
        return "bert_base_cased"
    return None


def _refusal(data_path, file_vocabulary, backbone_label, backbone_names):
    family = file_vocabulary_family(file_vocabulary)
    needed = SUGGESTED_BACKBONES.get(family, "a backbone with that vocabulary")
    return (
        f"{os.fspath(data_path)!r} is tokenised with the {file_vocabulary} "
        f"vocabulary (its `text_vocabulary` attribute), but --text-backbone "
        f"{backbone_label} uses {backbone_names}: pass {needed}."
    )


def check_backbone_vocabulary(data_path, file_vocabulary, source=None):
    """Raises `ValueError` (one line naming both vocabularies and the
    backbone the file needs) when the backbone named by `source` is known
    to use another vocabulary than the file. Unknown names pass (the
    embedding size is checked after loading, `check_vocabulary_size`)."""
    family = file_vocabulary_family(file_vocabulary)
    used = backbone_vocabulary(source)
    if family is None or used is None or used == family:
        return
    label = "(default: the bundled MiniLM)" if source is None else repr(source)
    raise ValueError(_refusal(data_path, file_vocabulary, label, used))


def check_vocabulary_size(data_path, file_vocabulary, source, size):
    """Raises `ValueError` when a loaded backbone's `vocabulary_size`
    differs from the size of the file's (known) vocabulary."""
    family = file_vocabulary  # exact: `_remapped_<n>` files are smaller
    if family not in VOCABULARY_SIZES or VOCABULARY_SIZES[family] == size:
        return
    label = "(default: the bundled MiniLM)" if source is None else repr(source)
    raise ValueError(
        _refusal(
            data_path, file_vocabulary, label, f"a {size}-token vocabulary"
        ).replace(
            f"the {file_vocabulary} vocabulary",
            f"the {file_vocabulary} vocabulary ({VOCABULARY_SIZES[family]} "
            "tokens)",
        )
    )
