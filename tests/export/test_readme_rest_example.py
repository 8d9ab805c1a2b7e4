"""The README's TF Serving REST request, sent through a real export.

Reads the JSON block after `<!-- rest-request-example -->` in README.md,
exports the model it describes (a tiny MMIM with MOSI's feature sizes),
checks that the request names exactly the signature's inputs with matching
shapes, and feeds its `instances` to `serving_default` (as TF Serving's
row format does); the served score must match `predict` within 1e-4.
"""

import json
import os
import re

import keras
import numpy as np
import pytest

from msakeras.export import saved_model
from tests.export import readme_model
from tests.export import test_saved_model

README = os.path.join(test_saved_model.REPO, "README.md")
MARKER = "<!-- rest-request-example -->"


def readme_request():
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    assert MARKER in text, f"{README} lacks {MARKER}"
    after = text.split(MARKER, 1)[1]
    match = re.match(r"\s*```json\n(.*?)\n```", after, re.DOTALL)
    assert match, f"no ```json block right after {MARKER} in {README}"
    return json.loads(match.group(1))


def test_readme_request_is_row_format_for_one_sample():
    request = readme_request()
    assert request["signature_name"] == "serving_default"
    assert len(request["instances"]) == 1
    instance = request["instances"][0]
    steps = {
        "text": len(instance["text_token_ids"]),
        "audio": len(instance["audio"]),
        "vision": len(instance["vision"]),
    }
    assert len(instance["text_padding_mask"]) == steps["text"]
    assert len(instance["audio_mask"]) == steps["audio"]
    assert len(instance["vision_mask"]) == steps["vision"]
    assert {len(row) for row in instance["audio"]} == {readme_model.AUDIO_DIM}
    assert {len(row) for row in instance["vision"]} == {readme_model.VISION_DIM}


@pytest.mark.large
def test_readme_request_against_the_exported_signature(tmp_path):
    request = readme_request()
    model = readme_model.readme_model()
    instances = request["instances"]
    batch = {}
    for tensor in model.inputs:
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        batch[tensor.name] = np.asarray(
            [instance[tensor.name] for instance in instances], dtype=dtype
        )
    assert sorted(batch) == sorted(instances[0])  # nothing extra, nothing lost
    expected = keras.ops.convert_to_numpy(
        model.predict(batch, verbose=0)["sentiment"]
    )
    record = saved_model.export_saved_model(model, str(tmp_path / "mmim_mosi"))
    report, served = test_saved_model._serve_in_tensorflow(
        record["path"], [batch], str(tmp_path)
    )
    signature = report[request["signature_name"]]
    assert sorted(signature["inputs"]) == sorted(instances[0])
    for name, (dtype, shape) in signature["inputs"].items():
        assert np.dtype(dtype) == batch[name].dtype, name
        assert len(shape) == batch[name].ndim, name
        for expected_size, size in zip(shape, batch[name].shape):
            assert expected_size in (None, size), (name, shape)
    assert served["1/sentiment"].shape == (1, 1)
    np.testing.assert_allclose(
        served["1/sentiment"], expected, atol=1e-4, rtol=0
    )
