"""The restricted unpickler bounds every array a pickle builds."""

import codecs
import os
import pickle

import numpy as np
from absl.testing import parameterized

from data_prep import safe_pickle
from msakeras.testing import TestCase


class _Reduce:
    """Pickles as `function(*arguments)` (a hand-made hostile pickle)."""

    def __init__(self, function, *arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return (self.function, self.arguments)


def _reconstruct():
    from numpy._core import multiarray

    return multiarray._reconstruct


HOSTILE = {
    "no_buffer_1tb": (np.ndarray, (10**12,), "u1"),
    "zero_stride": (np.ndarray, (2**30,), "u1", b"x", 0, (0,)),
    "negative_stride": (np.ndarray, (4,), "u1", b"abcd", 3, (-1,)),
    "more_than_present": (np.ndarray, (10**6,), "f8", b"x" * 8),
    "stride_past_end": (np.ndarray, (3,), "u1", b"abcd", 0, (2,)),
    "offset_past_end": (np.ndarray, (2,), "u1", b"ab", 1),
}


class SafePickleBoundsTest(TestCase, parameterized.TestCase):
    def load(self, payload, name="evil.pkl"):
        path = os.path.join(self.temp_dir, name)
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=2)
        return safe_pickle.load_pickle(path)

    @parameterized.named_parameters(*[(k, k) for k in HOSTILE])
    def test_hostile_ndarray_is_refused(self, kind):
        function, *arguments = HOSTILE[kind]
        with self.assertRaisesRegex(
            pickle.UnpicklingError, r"evil\.pkl.*Refusing array"
        ) as context:
            self.load({"audio": _Reduce(function, *arguments)})
        self.assertNotIn("\n", str(context.exception))

    def test_huge_reconstruct_base_is_refused(self):
        payload = _Reduce(_reconstruct(), np.ndarray, (10**12,), b"b")
        with self.assertRaisesRegex(
            pickle.UnpicklingError, r"evil\.pkl.*base shape"
        ):
            self.load(payload)

    def test_unknown_codec_is_one_error(self):
        payload = _Reduce(codecs.encode, "abc", "rot13")
        with self.assertRaisesRegex(
            pickle.UnpicklingError, r"evil\.pkl.*codec 'rot13'"
        ):
            self.load(payload)

    def test_arrays_backed_by_present_bytes_are_built(self):
        loaded = self.load(
            {
                "a": _Reduce(np.ndarray, (2,), "u1", b"abcd", 1, (2,)),
                "b": _Reduce(np.ndarray, (0,), "f4"),
                "c": np.arange(6.0).reshape(2, 3),
                "d": np.asarray(["p", "q"], dtype=object),
            }
        )
        np.testing.assert_array_equal(loaded["a"], [ord("b"), ord("d")])
        self.assertEqual(loaded["b"].shape, (0,))
        self.assertIs(type(loaded["c"]), np.ndarray)
        np.testing.assert_array_equal(loaded["c"], np.arange(6.0).reshape(2, 3))
        self.assertEqual(loaded["d"].tolist(), ["p", "q"])
