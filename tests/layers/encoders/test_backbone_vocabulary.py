"""A SIMS file (Chinese BERT ids) is refused with an English backbone."""

import contextlib
import io
import os
import sys

import h5py
import pytest

from msakeras.layers.encoders import backbone_vocabulary
from tests.recipes import recipe_runner


def _local_folder(directory, size):
    os.makedirs(directory)
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"t{index}\n" for index in range(size)))
    return directory


def test_backbone_vocabularies_from_names_and_folders(tmp_path):
    known = backbone_vocabulary.backbone_vocabulary
    assert known(None) == "bert_base_uncased"  # bundled MiniLM
    assert known("bert_base_en_uncased") == "bert_base_uncased"
    assert known("bert_base_zh") == "bert_base_chinese"
    assert known("hf://google-bert/bert-base-chinese") == "bert_base_chinese"
    assert known("bert_base_en") == "bert_base_cased"
    assert known("bert_base_multi") == "bert_base_multilingual_cased"
    assert known("kaggle://someone/custom/keras/v1") is None
    assert known(_local_folder(str(tmp_path / "zh"), 21128)) == (
        "bert_base_chinese"
    )
    assert known(_local_folder(str(tmp_path / "tiny"), 50)) is None


def test_english_backbone_with_chinese_file_is_refused_in_one_line():
    for source in (None, "bert_base_en_uncased"):
        with pytest.raises(ValueError) as raised:
            backbone_vocabulary.check_backbone_vocabulary(
                "sims.h5", "bert_base_chinese", source
            )
        message = str(raised.value)
        assert "\n" not in message
        assert "'sims.h5'" in message and "bert_base_chinese" in message
        assert "bert_base_uncased" in message  # the backbone's vocabulary
        assert "bert_base_zh" in message  # the backbone SIMS needs
    # Matching or unknown pairs pass.
    backbone_vocabulary.check_backbone_vocabulary(
        "sims.h5", "bert_base_chinese", "bert_base_zh"
    )
    backbone_vocabulary.check_backbone_vocabulary(
        "mosi.h5", "bert_base_uncased_remapped_64", None
    )
    backbone_vocabulary.check_backbone_vocabulary("x.h5", "unknown", None)
    with pytest.raises(ValueError, match="21128 tokens.*30522-token"):
        backbone_vocabulary.check_vocabulary_size(
            "sims.h5", "bert_base_chinese", "hf://org/model", 30522
        )


def test_sims_recipe_refuses_the_default_english_backbone(tmp_path):
    data = recipe_runner.tiny_dataset(str(tmp_path), dataset="sims")
    with h5py.File(data, "r+") as handle:
        handle.attrs["text_vocabulary"] = "bert_base_chinese"  # as MMSA's
    sys.path.insert(0, os.path.join(recipe_runner.ROOT, "recipes"))
    import mmim

    with contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as raised:
            mmim.parse_args(["--data", data])
    message = str(raised.value)
    assert "bert_base_chinese" in message and "bert_base_uncased" in message
    assert "bert_base_zh" in message and "\n" not in message
