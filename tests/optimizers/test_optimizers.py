import keras
import numpy as np

from msakeras import optimizers
from msakeras.testing import TestCase


def _numpy_adam_step(
    weights,
    gradient,
    learning_rate,
    l2_decay,
    step,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    m=None,
    v=None,
    v_max=None,
):
    """`torch.optim.Adam(weight_decay=l2_decay)`, as its documentation
    writes the algorithm: ε is added after the bias correction."""
    gradient = gradient + l2_decay * weights
    m = np.zeros_like(weights) if m is None else m
    v = np.zeros_like(weights) if v is None else v
    m = beta_1 * m + (1 - beta_1) * gradient
    v = beta_2 * v + (1 - beta_2) * gradient**2
    m_hat = m / (1 - beta_1**step)
    if v_max is not None:  # amsgrad
        v_max = np.maximum(v_max, v)
        v_hat = v_max / (1 - beta_2**step)
    else:
        v_hat = v / (1 - beta_2**step)
    weights = weights - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
    return weights, m, v, v_max


class CoupledL2AdamTest(TestCase):
    def test_matches_numpy_coupled_l2_over_two_steps(self):
        initial = np.array([[0.5, -1.0], [2.0, 0.25]], "float32")
        variable = keras.Variable(initial)
        optimizer = optimizers.CoupledL2Adam(learning_rate=0.1, l2_decay=0.5)
        expected, m, v = initial.astype("float64"), None, None
        for step, gradient in enumerate(
            [
                np.full((2, 2), 0.3, "float32"),
                np.array([[1.0, -2.0], [0.0, 0.5]], "float32"),
            ],
            start=1,
        ):
            optimizer.apply([keras.ops.convert_to_tensor(gradient)], [variable])
            expected, m, v, _ = _numpy_adam_step(
                expected, gradient, 0.1, 0.5, step, m=m, v=v
            )
        self.assertAllClose(variable, expected, atol=1e-5)

    def test_epsilon_after_bias_correction_as_torch(self):
        # Gradients of order 1e-8: here torch's ε (1e-8, after the bias
        # correction) and Keras's (1e-7, before it) give steps two orders
        # of magnitude apart, so only torch's rule passes.
        rng = np.random.default_rng(0)
        initial = rng.normal(size=(3, 4))
        for amsgrad in (False, True):
            variable = keras.Variable(initial.astype("float32"))
            optimizer = optimizers.CoupledL2Adam(
                learning_rate=0.01, l2_decay=1e-9, amsgrad=amsgrad
            )
            self.assertEqual(optimizer.epsilon, 1e-8)
            expected, m, v = initial, None, None
            v_max = np.zeros_like(initial) if amsgrad else None
            for step in range(1, 6):
                gradient = rng.normal(size=(3, 4)) * 1e-8 * step
                optimizer.apply(
                    [keras.ops.convert_to_tensor(gradient.astype("float32"))],
                    [variable],
                )
                expected, m, v, v_max = _numpy_adam_step(
                    expected, gradient, 0.01, 1e-9, step, m=m, v=v,
                    v_max=v_max,
                )  # fmt: skip
            moved = np.abs(expected - initial).max()
            self.assertGreater(moved, 1e-3)  # steps of order lr / 2
            self.assertAllClose(variable, expected, atol=2e-6, rtol=1e-5)

    def test_differs_from_decoupled_decay(self):
        coupled = keras.Variable(np.ones((3,), "float32"))
        decoupled = keras.Variable(np.ones((3,), "float32"))
        gradient = keras.ops.convert_to_tensor(np.full((3,), 0.1, "float32"))
        optimizers.CoupledL2Adam(0.1, l2_decay=1.0).apply([gradient], [coupled])
        keras.optimizers.AdamW(0.1, weight_decay=1.0).apply(
            [gradient], [decoupled]
        )
        self.assertFalse(
            np.allclose(
                keras.ops.convert_to_numpy(coupled),
                keras.ops.convert_to_numpy(decoupled),
            )
        )

    def test_serialization_and_bad_config(self):
        self.run_serialization_test(optimizers.CoupledL2Adam(1e-3, 1e-4))
        with self.assertRaisesRegex(ValueError, "l2_decay"):
            optimizers.CoupledL2Adam(1e-3, l2_decay=-1.0)
        with self.assertRaisesRegex(ValueError, "weight_decay"):
            optimizers.CoupledL2Adam(1e-3, weight_decay=0.1)


class GlobalClipMultiOptimizerTest(TestCase):
    def _optimizer(self, clip):
        return optimizers.GlobalClipMultiOptimizer(
            keras.optimizers.OptimizerMap(
                default_optimizer=keras.optimizers.SGD(1.0),
                optimizer_map={".*frozen.*": keras.optimizers.SGD(0.0)},
            ),
            global_clipnorm=clip,
        )

    def test_one_norm_spans_every_group(self):
        moving = keras.Variable(np.zeros((2,), "float32"), name="moving")
        frozen = keras.Variable(np.zeros((2,), "float32"), name="frozen")
        gradients = [
            np.array([3.0, 0.0], "float32"),
            np.array([0.0, 4.0], "float32"),
        ]  # joint norm 5
        optimizer = self._optimizer(clip=1.0)
        optimizer.apply(
            [keras.ops.convert_to_tensor(g) for g in gradients],
            [moving, frozen],
        )
        scale = 1.0 / (5.0 + 1e-6)  # torch.nn.utils.clip_grad_norm_
        self.assertAllClose(moving, -gradients[0] * scale, atol=1e-6)
        self.assertAllClose(frozen, np.zeros((2,)), atol=0)

    def test_no_clipping_below_the_norm(self):
        moving = keras.Variable(np.zeros((2,), "float32"), name="moving")
        gradient = np.array([0.3, 0.4], "float32")
        self._optimizer(clip=1.0).apply(
            [keras.ops.convert_to_tensor(gradient)], [moving]
        )
        self.assertAllClose(moving, -gradient, atol=1e-6)

    def test_config_round_trip_and_bad_config(self):
        optimizer = self._optimizer(clip=2.0)
        revived = optimizers.GlobalClipMultiOptimizer.from_config(
            optimizer.get_config()
        )
        self.assertEqual(revived.joint_clipnorm, 2.0)
        with self.assertRaisesRegex(ValueError, "global_clipnorm"):
            self._optimizer(clip=-1.0)


class DensifyTest(TestCase):
    def test_repeated_sparse_rows_are_summed_before_the_norm(self):
        # Two updates of row 0: dense gradient [[2, 2], [0, 0], [0, 0]].
        class Sparse:
            indices = np.array([0, 0], "int32")
            values = np.ones((2, 2), "float32")
            dense_shape = (3, 2)

        from msakeras.optimizers import global_clip_multi_optimizer as module

        dense = module.densify(Sparse())
        self.assertAllClose(dense, [[2.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
        _, norm = optimizers.clip_by_global_norm_like_torch([Sparse()], 1.0)
        self.assertAllClose(norm, np.sqrt(8.0), atol=1e-6)


class GroupWithoutGradientsTest(TestCase):
    def test_a_group_without_gradients_is_not_stepped(self):
        moving = keras.Variable(np.zeros((2,), "float32"), name="moving")
        frozen = keras.Variable(np.ones((2,), "float32"), name="frozen")
        optimizer = optimizers.GlobalClipMultiOptimizer(
            keras.optimizers.OptimizerMap(
                default_optimizer=keras.optimizers.SGD(1.0),
                optimizer_map={
                    ".*frozen.*": optimizers.CoupledL2Adam(1.0, l2_decay=1.0)
                },
            ),
            global_clipnorm=10.0,
        )
        gradient = keras.ops.convert_to_tensor(np.array([1.0, 2.0], "float32"))
        optimizer.apply([gradient, None], [moving, frozen])
        self.assertAllClose(moving, [-1.0, -2.0])
        self.assertAllClose(frozen, [1.0, 1.0])  # no decay without a step


class SavedStateOrderTest(TestCase):
    """Slots are laid out by variable path, not by the caller's order.

    Torch and TensorFlow list a model's variables in different orders, so
    a state saved by position under one backend must not land in other
    variables under the other.
    """

    def _variables(self):
        rng = np.random.RandomState(0)
        return [
            keras.Variable(rng.normal(size=(2,)).astype("float32"), name=name)
            for name in ("encoder_kernel", "head_kernel", "head_bias")
        ]

    def _optimizer(self):
        return optimizers.GlobalClipMultiOptimizer(
            keras.optimizers.OptimizerMap(
                default_optimizer=keras.optimizers.Adam(0.1),
                optimizer_map={"encoder.*": keras.optimizers.Adam(0.01)},
            ),
            global_clipnorm=1.0,
        )

    def _step(self, optimizer, variables, gradients):
        optimizer.apply(
            [keras.ops.convert_to_tensor(gradients[v.path]) for v in variables],
            variables,
        )

    def test_state_saved_in_one_order_resumes_in_another(self):
        rng = np.random.RandomState(1)
        gradients = [
            {
                path: rng.normal(size=(2,)).astype("float32")
                for path in ("encoder_kernel", "head_kernel", "head_bias")
            }
            for _ in range(3)
        ]
        source_variables = self._variables()
        source = self._optimizer()
        for step in gradients[:2]:
            self._step(source, source_variables, step)
        store = {}
        source.save_own_variables(store)

        # The same model, its variables listed in another order.
        target_variables = self._variables()[::-1]
        for target, origin in zip(target_variables, source_variables[::-1]):
            target.assign(origin)
        target = self._optimizer()
        target.build(target_variables)
        target.load_own_variables(store)

        self._step(source, source_variables, gradients[2])
        self._step(target, target_variables, gradients[2])
        resumed = {v.path: v for v in target_variables}
        for variable in source_variables:
            self.assertAllClose(resumed[variable.path], variable, atol=1e-7)

    def test_a_state_of_other_shapes_is_refused_untouched(self):
        optimizer = self._optimizer()
        optimizer.build(self._variables())
        store = {
            str(index): np.zeros((3,), "float32")  # (2,) slots expected
            if index >= 4
            else np.full_like(keras.ops.convert_to_numpy(variable), 7.0)
            for index, variable in enumerate(optimizer.variables)
        }
        before = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        with self.assertRaisesRegex(ValueError, "shape"):
            optimizer.load_own_variables(store)
        for value, variable in zip(before, optimizer.variables):
            self.assertAllClose(variable, value, atol=0)

    def test_duplicate_paths_are_refused(self):
        first = keras.Variable(np.zeros((2,), "float32"), name="same")
        second = keras.Variable(np.zeros((2,), "float32"), name="same")
        with self.assertRaisesRegex(ValueError, "same"):
            self._optimizer().build([first, second])
