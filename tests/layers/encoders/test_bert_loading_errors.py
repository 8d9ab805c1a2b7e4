"""Backbone sources that need a download: handles reach keras-hub, and an
offline failure is one line (keras-hub's loader is replaced by a stub that
records its argument and fails like an offline HTTP client)."""

import keras_hub
import pytest

from msakeras.layers.encoders import bert_loading


@pytest.fixture
def offline(monkeypatch):
    seen = []

    def from_preset(path, *args, **kwargs):
        seen.append(path)
        raise ConnectionError(
            "HTTPSConnectionPool(host='api.kaggle.com', port=443): Max "
            "retries exceeded\nTraceback line two"
        )

    monkeypatch.setattr(
        keras_hub.models.BertBackbone, "from_preset", from_preset
    )
    return seen


@pytest.mark.parametrize(
    "source",
    [
        "bert_base_en_uncased",
        "hf://google-bert/bert-base-uncased",
        "kaggle://keras/bert/keras/bert_base_en_uncased",
    ],
)
def test_download_sources_fail_offline_in_one_line(offline, source):
    with pytest.raises(ValueError) as raised:
        bert_loading.load_bert_backbone(source)
    message = str(raised.value)
    assert "\n" not in message
    assert source in message and "network" in message
    assert raised.value.__cause__ is None
    assert offline == [source]  # handed to keras-hub, not refused


def test_missing_local_folder_is_refused_before_keras_hub(offline, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        bert_loading.load_bert_backbone(str(tmp_path / "no" / "folder"))
    assert offline == []
