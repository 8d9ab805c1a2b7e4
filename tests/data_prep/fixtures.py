"""Tiny fake releases in the real layouts, built inside the tests."""

import pickle

import h5py
import numpy as np

# A tiny WordPiece vocabulary (BERT special ids kept at 0/100/101/102 is not
# needed: ids are looked up by token).
VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "good",
    "bad",
    "movie",
    "it",
    "was",
    "##s",
    "very",
    ",",
    "!",
    "cafe",
]


def write_vocab(path):
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(VOCAB) + "\n")
    return path


def mmsa_split(
    rng,
    num,
    text_len,
    audio_shape,
    vision_shape,
    sims=False,
    aligned=False,
    left=False,
):
    """One MMSA split dict plus the expected clean arrays."""
    t_a, d_a = audio_shape
    t_v, d_v = vision_shape
    text_lengths = rng.integers(3, text_len + 1, size=num)
    ids = np.zeros((num, text_len))
    mask = np.zeros((num, text_len))
    for i, n in enumerate(text_lengths):
        ids[i, :n] = rng.integers(1000, 2000, size=n)
        ids[i, 0], ids[i, n - 1] = 101, 102
        mask[i, :n] = 1
    text_bert = np.stack([ids, mask, np.zeros_like(ids)], axis=1)  # float64
    data = {
        "raw_text": np.asarray([f"TEXT {i}" for i in range(num)], dtype=object),
        "id": np.asarray([f"vid{i}$_${i + 1}" for i in range(num)]),
        "text": rng.normal(size=(num, text_len, 8)),
        "text_bert": text_bert,
        "regression_labels": np.round(rng.uniform(-1, 1, num), 1)
        * (1 if sims else 3),
        "annotations": np.asarray(["Neutral"] * num),
    }
    expected = {
        "text_token_ids": ids.astype(np.int32),
        "text_padding_mask": mask.astype(np.int8),
    }
    for key, steps, width in (("audio", t_a, d_a), ("vision", t_v, d_v)):
        if aligned:
            lengths = text_lengths.copy()
        else:
            lengths = rng.integers(1, steps + 1, size=num)
            lengths[0] = steps - 2  # make sure at least one is short
        feats = np.zeros((num, steps, width))
        clean = np.zeros((num, steps, width), np.float32)
        for i, n in enumerate(lengths):
            values = rng.normal(size=(n, width)) + 0.5
            clean[i, :n] = values
            if left:
                feats[i, steps - n :] = values
            else:
                feats[i, :n] = values
        expected[key] = clean
        expected[f"{key}_mask"] = (
            np.arange(steps)[None] < lengths[:, None]
        ).astype(np.int8)
        data[key] = feats
        if not aligned:
            # Lists in SIMS (MMSA-FET issue #3), arrays elsewhere.
            data[f"{key}_lengths"] = lengths.tolist() if sims else lengths
    if sims:
        for suffix in "TAV":
            data[f"regression_labels_{suffix}"] = np.round(
                rng.uniform(-1, 1, num), 1
            )
    return data, expected


def mmsa_release(rng, sims=False, aligned=False, left=False, quirks=True):
    if sims:
        dims = dict(text_len=6, audio_shape=(7, 33), vision_shape=(5, 709))
    elif aligned:
        dims = dict(text_len=6, audio_shape=(6, 5), vision_shape=(6, 20))
    else:
        dims = dict(text_len=6, audio_shape=(9, 5), vision_shape=(8, 20))
    release, expected = {}, {}
    for split, num in (("train", 5), ("valid", 3), ("test", 4)):
        release[split], expected[split] = mmsa_split(
            rng, num, sims=sims, aligned=aligned, left=left, **dims
        )
    if quirks and not left:
        train = release["train"]
        # Non-zero frames past the length (real MOSI) and -inf/NaN audio.
        n = (
            int(np.asarray(train["vision_lengths"])[0])
            if not aligned
            else int(expected["train"]["vision_mask"][0].sum())
        )
        train["vision"][0, n:] = 7.0
        train["audio"][1, 0, 0] = -np.inf
        train["audio"][2, 0, 1] = np.nan
        expected["train"]["audio"][1, 0, 0] = 0.0
        expected["train"]["audio"][2, 0, 1] = 0.0
    release["config"] = {"featurePath": "x"}
    return release, expected


def write_pickle(path, obj, protocol=4):
    with open(path, "wb") as file:
        pickle.dump(obj, file, protocol=protocol)
    return path


def mult_release(rng):
    """MulT noalign layout: left-padded, (N,1,1) labels, bytes ids."""
    release, expected = {}, {}
    rows = []
    for split, num in (("train", 4), ("valid", 2), ("test", 3)):
        data = {
            "text": rng.normal(size=(num, 6, 4)),
            "labels": np.round(rng.uniform(-3, 3, (num, 1, 1)), 2),
        }
        exp = {}
        for key, steps, width in (("audio", 7, 5), ("vision", 6, 20)):
            lengths = rng.integers(2, steps + 1, size=num)
            lengths[0] = 0 if key == "vision" else lengths[0]
            feats = np.zeros((num, steps, width))
            clean = np.zeros((num, steps, width), np.float32)
            for i, n in enumerate(lengths):
                values = rng.normal(size=(n, width)) + 0.5
                if n:
                    feats[i, steps - n :] = values
                    clean[i, :n] = values
            data[key] = feats
            exp[key] = clean
            exp[f"{key}_mask"] = (
                np.arange(steps)[None] < np.maximum(lengths, 1)[:, None]
            ).astype(np.int8)
        data["audio"][1, -1, 0] = np.nan
        exp["audio"][1, int(exp["audio_mask"][1].sum()) - 1, 0] = 0.0
        ids = []
        for i in range(num):
            video, clip = f"v_{split}{i}", i + 1  # video ids may hold "_"
            ids.append([f"{video}_{clip}".encode(), b"0"])
            text = "Good movie, it was very good!" if i % 2 else "BAD movies"
            rows.append((text, video, clip, split))
        data["id"] = np.asarray(ids)
        exp["label"] = data["labels"][:, 0, 0].astype(np.float32)
        release[split], expected[split] = data, exp
    return release, expected, rows


def write_csd(path, root, entries, dimension_names=("f",)):
    """A computational sequence in the SDK's HDF5 layout."""
    with h5py.File(path, "w") as file:
        group = file.create_group(root)
        data = group.create_group("data")
        for entry, (intervals, features) in entries.items():
            e = data.create_group(entry)
            e.create_dataset("features", data=features)
            e.create_dataset("intervals", data=np.asarray(intervals, "float64"))
        metadata = group.create_group("metadata")
        string = h5py.special_dtype(vlen=str)
        for key, value in (
            ("root name", root),
            ("dimension names", list(dimension_names)),
            ("alignment compatible", True),
        ):
            metadata.create_dataset(key, (1,), dtype=string)
            metadata[key][0] = __import__("json").dumps(value)
    return path
