import numpy as np

from msakeras.layers.common import MaskedFramePooling
from msakeras.testing import TestCase


def numpy_frame_pooling(inputs, mask, pool_size):
    """Masked window means with "same" windows (missing steps split)."""
    steps = inputs.shape[1]
    out_steps = -(-steps // pool_size)
    left = (out_steps * pool_size - steps) // 2
    sequence = np.zeros((inputs.shape[0], out_steps, inputs.shape[2]))
    pooled_mask = np.zeros((inputs.shape[0], out_steps), "int32")
    for j in range(out_steps):
        start = max(0, j * pool_size - left)
        stop = min(steps, (j + 1) * pool_size - left)
        weights = mask[:, start:stop, None].astype("float64")
        count = weights.sum(1)
        total = (inputs[:, start:stop] * weights).sum(1)
        sequence[:, j] = np.where(count > 0, total / np.maximum(count, 1), 0)
        pooled_mask[:, j] = count[:, 0] > 0
    return sequence, pooled_mask


class MaskedFramePoolingTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 7, 3)).astype("float32")
        self.mask = np.array([[1, 1, 1, 1, 1, 0, 0], [1] * 7], "int32")

    def test_matches_numpy(self):
        for pool_size in (1, 2, 3):
            output = MaskedFramePooling(pool_size)(self.inputs, mask=self.mask)
            sequence, mask = numpy_frame_pooling(
                self.inputs, self.mask, pool_size
            )
            self.assertAllClose(output["sequence"], sequence, atol=1e-5)
            self.assertAllClose(output["mask"], mask)

    def test_padded_frames_never_change_outputs(self):
        layer = MaskedFramePooling(3)
        noisy = self.inputs.copy()
        noisy[0, 5:] = 1e3
        self.assertAllClose(
            layer(noisy, mask=self.mask)["sequence"],
            layer(self.inputs, mask=self.mask)["sequence"],
            atol=1e-5,
        )

    def test_config_round_trip(self):
        self.run_serialization_test(MaskedFramePooling(4))

    def test_rejects_bad_pool_size(self):
        with self.assertRaisesRegex(ValueError, "pool_size"):
            MaskedFramePooling(0)
