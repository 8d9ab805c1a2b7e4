"""`msakeras.backend.distribute` on one device: identities and checks."""

import keras
import numpy as np

from msakeras.backend import distribute
from msakeras.testing import TestCase


class DistributeHelpersTest(TestCase):
    def test_one_device_is_the_identity(self):
        setup = distribute.setup_data_parallel("none")
        self.assertEqual(setup.engine, "none")
        self.assertEqual(
            (setup.num_replicas, setup.process_index, setup.process_count),
            (1, 0, 1),
        )
        self.assertTrue(setup.is_chief)
        with setup.scope():
            layer = keras.layers.Dense(2)
            layer.build((None, 3))
        values = np.arange(6, dtype="float32").reshape(3, 2)
        self.assertEqual(distribute.replica_count(), 1)
        self.assertAllClose(distribute.gather_replicas(values), values)
        self.assertAllClose(
            distribute.scale_loss_for_replicas(keras.ops.ones(())), 1.0
        )
        gradients = [keras.ops.ones((2,)), None]
        self.assertIs(distribute.all_reduce_sum(gradients), gradients)
        # No DDP wrapper outside torch.distributed.
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        self.assertIsNone(
            distribute.torch_forward(model, (values,), {"training": True})
        )

    def test_auto_without_several_devices_is_none(self):
        self.assertEqual(distribute.setup_data_parallel("auto").engine, "none")

    def test_bad_mode_and_batch(self):
        with self.assertRaisesRegex(ValueError, "mode"):
            distribute.setup_data_parallel("model-parallel")
        setup = distribute.DataParallelSetup("tf-mirrored", num_replicas=4)
        self.assertEqual(setup.per_process_batch_size(32), 32)
        with self.assertRaisesRegex(ValueError, "divisible"):
            setup.per_process_batch_size(30)
