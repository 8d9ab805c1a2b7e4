"""No HDF5 read by msakeras or a converter reads another file's bytes."""

import os

import h5py
import numpy as np
from absl.testing import parameterized

import msakeras
from data_prep import convert_csd
from msakeras.testing import TestCase
from tests.data_prep import test_converters
from tests.test_predict import tiny_file


def make_outside_reference(file, location, kind, secret):
    """Replaces `location` by a dataset/link that reads `secret`."""
    shape, dtype = file[location].shape, file[location].dtype
    del file[location]
    if kind == "external_storage":
        nbytes = int(np.prod(shape)) * dtype.itemsize
        file.create_dataset(
            location, shape=shape, dtype=dtype, external=[(secret, 0, nbytes)]
        )
    elif kind == "external_link":
        file[location] = h5py.ExternalLink(secret, "/payload")
    else:
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[...] = h5py.VirtualSource(secret, "/payload", shape=shape)
        file.create_virtual_dataset(location, layout)


KINDS = ("external_storage", "external_link", "virtual_dataset")
PATTERNS = {
    "external_storage": "keeps its bytes in external files",
    "external_link": "is an external link to",
    "virtual_dataset": "is a virtual dataset",
}


class OutsideReferenceTest(TestCase, parameterized.TestCase):
    def secret(self, shape, dtype):
        """A local file, valid both as raw bytes and as HDF5 `/payload`."""
        path = os.path.join(self.temp_dir, "secret.h5")
        with h5py.File(path, "w") as file:
            file["payload"] = np.full(shape, 7, dtype)
        return path

    @parameterized.parameters(*KINDS)
    def test_standard_file_is_refused(self, kind):
        data = tiny_file(self.temp_dir)
        with h5py.File(data, "a") as file:
            audio = file["test"]["audio"]
            secret = self.secret(audio.shape, audio.dtype)
            make_outside_reference(file, "test/audio", kind, secret)
        with self.assertRaisesRegex(
            ValueError, rf"tiny.h5'.*'/test/audio'.*{PATTERNS[kind]}"
        ):
            msakeras.data.load_split(data, "test")
        with self.assertRaisesRegex(ValueError, PATTERNS[kind]):
            msakeras.data.read_attributes(data)

    @parameterized.parameters(*KINDS)
    def test_csd_is_refused_and_nothing_written(self, kind):
        case = test_converters.CsdTest()
        case.temp_dir = self.temp_dir
        paths = case._files()
        location = "COVAREP/data/vidA/features"
        with h5py.File(paths["audio"], "a") as file:
            features = file[location]
            secret = self.secret(features.shape, features.dtype)
            make_outside_reference(file, location, kind, secret)
        output = os.path.join(self.temp_dir, "out.h5")
        code, _, err = test_converters._run(
            convert_csd.main, case._argv(paths, output)
        )
        self.assertEqual(code, 1)
        self.assertRegex(err, rf"A\.csd'.*vidA/features.*{PATTERNS[kind]}")
        self.assertFalse(os.path.exists(output))
