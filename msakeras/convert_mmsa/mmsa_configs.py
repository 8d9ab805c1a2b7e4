"""MMSA 2.2.1's per-dataset settings that a converted model carries.

From MMSA 2.2.1 `config/config_regression.json`: `datasetCommonParams`
(feature widths, training-set size) and the `mmim` / `self_mm`
`datasetParams` entries that are not layer widths (the widths are read
from the checkpoint's shapes, so a checkpoint trained with other widths
converts too). They set the converted model's dropouts and loss settings,
which matter only if it is trained further.
"""

DATASETS = ("mosi", "mosei", "sims")

# (audio width, vision width, training samples) of the unaligned features.
FEATURES = {
    "mosi": (5, 20, 1284),
    "mosei": (74, 35, 16326),
    "sims": (33, 709, 1368),
}

# MMIM: `dropout_prj`, `alpha` (CPC weight), `beta` (BA weight); the same
# on every dataset in MMSA 2.2.1.
MMIM = {
    dataset: {"dropout_prj": 0.1, "alpha": 0.1, "beta": 0.1}
    for dataset in DATASETS
}

# Self-MM: post-layer dropouts and the label range `H`.
SELF_MM = {
    "mosi": {
        "post_fusion_dropout": 0.0,
        "post_text_dropout": 0.1,
        "post_audio_dropout": 0.1,
        "post_video_dropout": 0.0,
        "H": 3.0,
    },
    "mosei": {
        "post_fusion_dropout": 0.1,
        "post_text_dropout": 0.0,
        "post_audio_dropout": 0.0,
        "post_video_dropout": 0.0,
        "H": 3.0,
    },
    "sims": {
        "post_fusion_dropout": 0.0,
        "post_text_dropout": 0.1,
        "post_audio_dropout": 0.1,
        "post_video_dropout": 0.0,
        "H": 1.0,
    },
}
