import keras
import numpy as np
from absl.testing import parameterized

from msakeras import optimizers
from msakeras.testing import TestCase


class GenericCoupledL2Adam(optimizers.CoupledL2Adam):
    """`CoupledL2Adam` on Keras's per-variable loop (no fast path)."""

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        keras.optimizers.Optimizer._backend_update_step(
            self, grads, trainable_variables, learning_rate
        )

    def _backend_increment_gradient_accumulators(self, grads, acc_grads):
        keras.optimizers.Optimizer._backend_increment_gradient_accumulators(
            self, grads, acc_grads
        )

    def _backend_reset_gradient_accumulators(self):
        keras.optimizers.Optimizer._backend_reset_gradient_accumulators(self)


class TorchAdamFastPathTest(TestCase):
    """`CoupledL2Adam`'s step equals Keras's per-variable loop.

    Under torch the optimizer runs `msakeras.backend.torch_adam`'s
    multi-tensor kernels; elsewhere both sides are the generic loop.
    The NumPy reference of the update itself is in tests/optimizers.
    """

    @parameterized.named_parameters(
        ("plain", False, None),
        ("amsgrad", True, None),
        ("accumulated", False, 3),
    )
    def test_matches_the_generic_loop(self, amsgrad, accumulation):
        rng = np.random.RandomState(0)
        shapes = [(4, 3), (3,), (2, 5, 2)]
        initial = [rng.normal(size=shape).astype("float32") for shape in shapes]
        gradients = [
            [rng.normal(size=shape).astype("float32") for shape in shapes]
            for _ in range(7)
        ]
        results = []
        for cls in (optimizers.CoupledL2Adam, GenericCoupledL2Adam):
            variables = [keras.Variable(value) for value in initial]
            optimizer = cls(
                learning_rate=0.05,
                l2_decay=0.3,
                amsgrad=amsgrad,
                gradient_accumulation_steps=accumulation,
            )
            for step_gradients in gradients:
                optimizer.apply(
                    [keras.ops.convert_to_tensor(g) for g in step_gradients],
                    variables,
                )
            results.append(
                [keras.ops.convert_to_numpy(v) for v in variables]
                + [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
            )
        fast, generic = results
        # The weights moved: the comparison is not between two no-ops.
        self.assertGreater(np.abs(fast[0] - initial[0]).max(), 0.05)
        for fast_value, generic_value in zip(fast, generic):
            self.assertAllClose(fast_value, generic_value, atol=1e-5)
