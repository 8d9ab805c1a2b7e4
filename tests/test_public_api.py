"""Every exported class is registered and lists its arguments in config."""

import inspect

import keras

import msakeras
from msakeras.testing import TestCase

PUBLIC_MODULES = [
    msakeras.layers,
    msakeras.losses,
    msakeras.models,
    msakeras.optimizers,
]


def public_classes():
    for module in PUBLIC_MODULES:
        for name in dir(module):
            value = getattr(module, name)
            if (
                inspect.isclass(value)
                and value.__module__.startswith("msakeras")
                and not name.startswith("_")
            ):
                yield value


class PublicApiTest(TestCase):
    def test_every_public_class_is_registered_under_msakeras(self):
        classes = list(public_classes())
        self.assertGreater(len(classes), 10)
        for cls in classes:
            if cls is msakeras.models.MSAModel:  # abstract base
                continue
            self.assertEqual(
                keras.saving.get_registered_name(cls),
                f"msakeras>{cls.__name__}",
                cls,
            )

    def test_every_init_argument_is_in_get_config(self):
        for cls in public_classes():
            if cls is msakeras.models.MSAModel:
                continue
            source = (
                inspect.getsource(cls.get_config)
                if ("get_config" in cls.__dict__)
                else ""
            )
            parameters = [
                name
                for name, parameter in inspect.signature(
                    cls.__init__
                ).parameters.items()
                if name not in ("self", "kwargs", "args", "name", "dtype")
                and parameter.kind
                not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
            ]
            # Subclasses of Keras classes inherit most config keys; our own
            # arguments must appear in the class's own get_config.
            for parameter in parameters:
                if issubclass(cls, keras.losses.Loss) and parameter in (
                    "reduction",
                ):
                    continue
                if parameter in _inherited_arguments(cls):
                    continue
                self.assertIn(
                    f'"{parameter}"', source, f"{cls.__name__}.{parameter}"
                )


def _inherited_arguments(cls):
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("keras"):
            try:
                inherited |= set(inspect.signature(base.__init__).parameters)
            except (TypeError, ValueError):
                continue
    return inherited
