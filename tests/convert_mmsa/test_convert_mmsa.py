"""MMSA 2.2.1 checkpoints: torch-free reading, refusals and parity.

The fixtures in `tests/fixtures/mmsa/` were written by
`make_mmsa_fixtures.py` with MMSA 2.2.1's own model code (`AMIO` with
`mmim` / `self_mm`) on a tiny BERT: its state dicts (every parameter,
BERT included, moved off the initialisation, so BERT must come from the
checkpoint and not from the folder) and its eval-mode outputs on a fixed
batch. The converted models must reproduce those outputs within 1e-5
under the running backend. torch is imported here only to compare the
reader with `torch.load(weights_only=True)` and to write test checkpoints.
"""

import csv
import json
import os
import pickle
import shutil
import zipfile

import keras
import numpy as np
import pytest
import torch

import msakeras
from msakeras import convert_mmsa
from msakeras import predict
from msakeras.convert_mmsa import __main__ as convert_main
from msakeras.testing import TestCase

FIXTURES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "fixtures",
    "mmsa",
)
BERT = os.path.join(FIXTURES, "tiny_bert")
TOLERANCE = 1e-5


def fixture(name):
    return os.path.join(FIXTURES, f"{name}.pth"), np.load(
        os.path.join(FIXTURES, f"{name}.npz")
    )


def masks(lengths, steps):
    return (np.arange(steps)[None, :] < lengths[:, None]).astype("int32")


def msakeras_batch(arrays, with_index):
    """MMSA's `(text (batch, 3, len), (audio, lengths), (vision, lengths))`
    as msakeras's named inputs (segment ids are all 0 in the fixture)."""
    text = arrays["input_text"]
    np.testing.assert_array_equal(text[:, 2], 0)
    batch = {
        "text_token_ids": text[:, 0].astype("int32"),
        "text_padding_mask": text[:, 1].astype("int32"),
        "audio": arrays["input_audio"],
        "audio_mask": masks(
            arrays["input_audio_lengths"], arrays["input_audio"].shape[1]
        ),
        "vision": arrays["input_vision"],
        "vision_mask": masks(
            arrays["input_vision_lengths"], arrays["input_vision"].shape[1]
        ),
    }
    if with_index:
        batch["index"] = np.zeros((len(text),), "int32")
    return batch


def predict_outputs(model, batch):
    return {
        key: keras.ops.convert_to_numpy(value)
        for key, value in model.predict_on_batch(batch).items()
    }


def info_nce(target, prediction):
    """MMSA `CPC.forward`: -mean(pos - logsumexp), rows L2-normalised."""
    prediction = prediction / np.linalg.norm(prediction, axis=1, keepdims=True)
    target = target / np.linalg.norm(target, axis=1, keepdims=True)
    positive = np.sum(target * prediction, axis=-1)
    scores = target @ prediction.T
    top = scores.max(axis=-1)
    negative = top + np.log(np.exp(scores - top[:, None]).sum(axis=-1))
    return -np.mean(positive - negative)


class _Payload:
    """Unpickling it would run `os.system(command)`."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class TorchCheckpointReaderTest(TestCase):
    def test_fixtures_equal_torch_load(self):
        for name in ("mmim", "self_mm"):
            path, _ = fixture(name)
            ours = convert_mmsa.read_state_dict(path)
            reference = torch.load(path, weights_only=True)
            self.assertEqual(list(ours), list(reference))
            for key, tensor in reference.items():
                self.assertEqual(ours[key].dtype, np.float32, key)
                np.testing.assert_array_equal(ours[key], tensor.numpy())

    def test_views_and_dtypes_equal_torch_load(self):
        base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
        state = {
            "transposed_slice": base.t()[2:5],  # offset + strides
            "shared_storage": base[1],
            "half": torch.linspace(-2, 2, 7, dtype=torch.float16),
            "bfloat16": torch.linspace(-3, 3, 5, dtype=torch.bfloat16),
            "int64": torch.arange(-3, 4),
            "int8": torch.tensor([-128, 0, 127], dtype=torch.int8),
            "bool": torch.tensor([True, False, True]),
            "scalar": torch.tensor(2.5),
            "empty": torch.zeros(0, 3),
        }
        path = os.path.join(self.temp_dir, "views.pth")
        torch.save(state, path)
        ours = convert_mmsa.read_state_dict(path)
        reference = torch.load(path, weights_only=True)
        self.assertEqual(list(ours), list(reference))
        for key, tensor in reference.items():
            expected = tensor.float() if key == "bfloat16" else tensor
            np.testing.assert_array_equal(ours[key], expected.numpy(), key)
            self.assertEqual(ours[key].shape, tuple(tensor.shape), key)

    def test_payload_is_refused_without_running(self):
        marker = os.path.join(self.temp_dir, "pwned")
        path = os.path.join(self.temp_dir, "hostile.pth")
        torch.save(
            {"weight": torch.ones(2), "bias": _Payload(f"touch {marker}")},
            path,
        )
        with self.assertRaisesRegex(
            pickle.UnpicklingError,
            r"hostile\.pth.*Refusing to load global '(posix|os|nt)\.system'",
        ):
            convert_mmsa.read_state_dict(path)
        self.assertFalse(os.path.exists(marker))
        output = os.path.join(self.temp_dir, "out.keras")
        with self.assertRaisesRegex(SystemExit, "Refusing.*system") as caught:
            convert_main.main(
                [path, "--model", "mmim", "--dataset", "mosi"]
                + ["--text-backbone", BERT, "--output", output]
            )
        self.assertEqual(str(caught.exception).count("\n"), 0)
        self.assertFalse(os.path.exists(marker))
        self.assertFalse(os.path.exists(output))

    def test_not_a_checkpoint(self):
        path = os.path.join(self.temp_dir, "plain.pth")
        with open(path, "wb") as handle:
            pickle.dump({"weight": 1}, handle)
        with self.assertRaisesRegex(ValueError, r"plain\.pth.*zip-format"):
            convert_mmsa.read_state_dict(path)
        archive = os.path.join(self.temp_dir, "cut.pth")
        torch.save({"weight": torch.ones(3)}, archive)
        with zipfile.ZipFile(archive) as source:
            members = {name: source.read(name) for name in source.namelist()}
        with zipfile.ZipFile(archive, "w") as target:
            for name, data in members.items():
                if name.endswith("data.pkl"):
                    data = data[: len(data) // 2]
                target.writestr(name, data)
        with self.assertRaisesRegex(ValueError, r"cut\.pth.*truncated"):
            convert_mmsa.read_state_dict(archive)


class MMIMParityTest(TestCase):
    def test_outputs_equal_mmsa(self):
        path, arrays = fixture("mmim")
        model = convert_mmsa.convert_checkpoint(path, "mmim", "mosi", BERT)
        self.assertIsInstance(model, msakeras.models.MMIMModel)
        self.assertTrue(model.bidirectional)  # MMSA's MMIM setting
        out = predict_outputs(model, msakeras_batch(arrays, False))
        for mmsa_key, key in (
            ("M", "sentiment"),
            ("Feature_t", "text_embedding"),
            ("Feature_a", "audio_embedding"),
            ("Feature_v", "vision_embedding"),
            ("Feature_f", "fused_embedding"),
            ("entropy_projection_vision", "entropy_projection_vision"),
            ("entropy_projection_audio", "entropy_projection_audio"),
        ):
            self.assertAllClose(
                out[key], arrays[f"output_{mmsa_key}"], atol=TOLERANCE, msg=key
            )
        # The critics (lld) and the CPC predictors (nce) map too.
        lld = out["lld_text_vision"].mean() + out["lld_text_audio"].mean()
        self.assertAllClose(lld, arrays["output_lld"], atol=TOLERANCE)
        nce = sum(
            info_nce(out[f"{modality}_embedding"], out[f"cpc_{modality}"])
            for modality in ("text", "vision", "audio")
        )
        self.assertAllClose(nce, arrays["output_nce"], atol=TOLERANCE)


class SelfMMParityTest(TestCase):
    def test_outputs_equal_mmsa(self):
        path, arrays = fixture("self_mm")
        model = convert_mmsa.convert_checkpoint(
            path, "self_mm", "mosi", BERT, num_train_samples=8
        )
        self.assertIsInstance(model, msakeras.models.SelfMIModel)
        self.assertEqual(model.label_generator, "ulgm")
        self.assertEqual(model.cpc_modalities, ())
        self.assertEqual(model.cpc_predictors, {})
        out = predict_outputs(model, msakeras_batch(arrays, True))
        for mmsa_key, key in (
            ("M", "sentiment"),
            ("T", "text_sentiment"),
            ("A", "audio_sentiment"),
            ("V", "vision_sentiment"),
            ("Feature_t", "text_embedding"),
            ("Feature_a", "audio_embedding"),
            ("Feature_v", "vision_embedding"),
            ("Feature_f", "fused_embedding"),
        ):
            self.assertAllClose(
                out[key], arrays[f"output_{mmsa_key}"], atol=TOLERANCE, msg=key
            )


def write_test_split(path, arrays, labels):
    """The fixture batch as the `test` split of a standard HDF5 file
    (padded frames zeroed: neither MMSA nor msakeras reads them)."""
    batch = msakeras_batch(arrays, False)
    for modality in ("audio", "vision"):
        batch[modality] = batch[modality] * batch[f"{modality}_mask"][..., None]
    size = len(labels)
    split = {
        **batch,
        "label": np.asarray(labels, "float32"),
        "index": np.arange(size, dtype="int32"),
        "id": np.asarray([f"clip_{row}" for row in range(size)]),
    }
    split = msakeras.data.cast_to_schema(split)
    msakeras.data.write_dataset(path, {"test": split}, {"dataset": "mosi"})
    return path


class ConvertAndPredictTest(TestCase):
    def test_cli_output_predicts_mmsa_values(self):
        for name in ("mmim", "self_mm"):
            path, arrays = fixture(name)
            output = os.path.join(self.temp_dir, f"{name}.keras")
            convert_main.main(
                [path, "--model", name, "--dataset", "mosi"]
                + ["--text-backbone", BERT, "--output", output]
                + ["--num-train-samples", "4"]
            )
            data = write_test_split(
                os.path.join(self.temp_dir, f"{name}.h5"),
                arrays,
                [0.5, -1.0, 2.0, -0.2],
            )
            got = _predicted_csv(
                output, data, os.path.join(self.temp_dir, f"{name}.csv")
            )
            self.assertAllClose(
                got, arrays["output_M"][:, 0], atol=TOLERANCE, msg=name
            )


def _predicted_csv(model_path, data, csv_path):
    predict.main(
        [model_path, "--data", data, "--output", csv_path, "--verbose", "0"]
    )
    with open(csv_path, newline="") as handle:
        return np.asarray(
            [float(row["prediction"]) for row in csv.DictReader(handle)]
        )


@pytest.mark.large
def test_exported_saved_model_serves_mmsa_values(tmp_path):
    """convert -> `python -m msakeras.export` -> predict on the SavedModel."""
    from msakeras.export import __main__ as export_main

    path, arrays = fixture("mmim")
    keras_path = str(tmp_path / "mmim.keras")
    convert_main.main(
        [path, "--model", "mmim", "--dataset", "mosi"]
        + ["--text-backbone", BERT, "--output", keras_path]
    )
    export_main.main([keras_path, "--output", str(tmp_path / "served")])
    data = write_test_split(
        str(tmp_path / "mmim.h5"), arrays, [0.5, -1.0, 2.0, -0.2]
    )
    got = _predicted_csv(
        str(tmp_path / "served" / "1"), data, str(tmp_path / "served.csv")
    )
    np.testing.assert_allclose(
        got, arrays["output_M"][:, 0], atol=TOLERANCE, rtol=0
    )


def _saved(state, directory, name="edited.pth"):
    path = os.path.join(directory, name)
    torch.save({key: torch.from_numpy(v) for key, v in state.items()}, path)
    return path


class RefusalTest(TestCase):
    def setUp(self):
        super().setUp()
        self.state = convert_mmsa.read_state_dict(fixture("mmim")[0])

    def assert_refused(self, path, pattern, model="mmim", dataset="mosi"):
        output = os.path.join(self.temp_dir, "out.keras")
        with self.assertRaisesRegex(ValueError, pattern):
            convert_mmsa.convert_checkpoint(
                path, model, dataset, BERT, output=output
            )
        self.assertFalse(os.path.exists(output))

    def test_wrong_shape_names_key_and_both_shapes(self):
        key = "Model.fusion_prj.linear_2.weight"
        self.state[key] = np.zeros((12, 7), "float32")
        self.assert_refused(
            _saved(self.state, self.temp_dir),
            r"edited\.pth.*'fusion_prj\.linear_2\.weight' has shape "
            r"\(12, 7\).*expects \(12, 12\)",
        )

    def test_bert_shape_from_another_backbone(self):
        key = "Model.bertmodel.model.encoder.layer.1.intermediate.dense.weight"
        self.state[key] = np.zeros((64, 16), "float32")
        self.assert_refused(
            _saved(self.state, self.temp_dir),
            r"'bertmodel\.model\.encoder\.layer\.1\.intermediate\.dense"
            r"\.weight' has shape \(64, 16\).*expects \(32, 16\)",
        )

    def test_unexpected_and_missing_keys(self):
        extra = dict(self.state)
        extra["Model.mi_tv.extra.weight"] = np.zeros((3,), "float32")
        self.assert_refused(
            _saved(extra, self.temp_dir, "extra.pth"),
            r"'mi_tv\.extra\.weight' \(shape \(3,\)\) has no place",
        )
        del self.state["Model.cpc_za.net.bias"]
        self.assert_refused(
            _saved(self.state, self.temp_dir, "missing.pth"),
            r"'cpc_za\.net\.bias' \(expected shape \(8,\)\) is missing",
        )

    def test_dataset_feature_widths_must_match(self):
        self.assert_refused(
            fixture("mmim")[0],
            r"'acoustic_enc\.rnn\.weight_ih_l0' has shape \(32, 5\), but "
            r"--dataset mosei.*\(32, 74\)",
            dataset="mosei",
        )

    def test_wrong_model(self):
        self.assert_refused(
            fixture("mmim")[0], r"no key 'audio_model\.", model="self_mm"
        )

    def test_constant_bert_buffers_are_ignored(self):
        # transformers < 4.31 saved `position_ids` with the weights.
        key = "Model.bertmodel.model.embeddings.position_ids"
        self.state[key] = np.arange(16, dtype="int64")[None, :]
        path = _saved(self.state, self.temp_dir)
        model = convert_mmsa.convert_checkpoint(path, "mmim", "mosi", BERT)
        self.assertIsInstance(model, msakeras.models.MMIMModel)

    def test_backbone_config_keras_hub_cannot_reproduce(self):
        folder = os.path.join(self.temp_dir, "bert")
        shutil.copytree(BERT, folder)
        config_path = os.path.join(folder, "config.json")
        with open(config_path) as handle:
            config = json.load(handle)
        config["hidden_act"] = "gelu_new"
        with open(config_path, "w") as handle:
            json.dump(config, handle)
        with self.assertRaisesRegex(
            ValueError, r"bert/config\.json.*hidden_act='gelu_new'"
        ):
            convert_mmsa.convert_checkpoint(
                fixture("mmim")[0], "mmim", "mosi", folder
            )
