"""Every exported class is registered and lists its arguments in config."""

import inspect

import keras

import msakeras
from msakeras.testing import TestCase
from msakeras.testing import tiny_model

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
            parameters = [
                name
                for name, parameter in inspect.signature(
                    cls.__init__
                ).parameters.items()
                if name not in ("self", "kwargs", "args", "name", "dtype")
                and parameter.kind
                not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
                and name not in _inherited_arguments(cls)
                and not (
                    issubclass(cls, keras.losses.Loss) and name == "reduction"
                )
            ]
            config = _default_config(cls)
            if config is not None:
                # Constructible with its defaults: the config it returns
                # must hold every argument (whichever class writes it).
                for parameter in parameters:
                    self.assertIn(parameter, config, f"{cls.__name__}")
                continue
            # Otherwise our own arguments must appear in the get_config
            # the class resolves to (its own or an msakeras base's).
            source = _own_get_config_source(cls)
            for parameter in parameters:
                self.assertIn(
                    f'"{parameter}"', source, f"{cls.__name__}.{parameter}"
                )


def _default_config(cls):
    """`cls().get_config()`, or None where `cls` needs arguments.

    The five models need a text encoder: their config is read from the
    tiny model of that class, so the check runs on a real instance.
    """
    tiny_names = {
        msakeras.models.HyConModel: "hycon",
        msakeras.models.MMIMModel: "mmim",
        msakeras.models.SelfMIModel: "self_mi",
        msakeras.models.MCERModel: "mcer",
        msakeras.models.DashFusionModel: "dashfusion",
    }
    if cls in tiny_names:
        return tiny_model(tiny_names[cls]).get_config()
    try:
        instance = cls()
    except TypeError:
        return None
    return instance.get_config()


def _own_get_config_source(cls):
    for base in cls.__mro__:
        if base.__module__.startswith("msakeras") and (
            "get_config" in base.__dict__
        ):
            return inspect.getsource(base.get_config)
    return ""


def _inherited_arguments(cls):
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("keras"):
            try:
                inherited |= set(inspect.signature(base.__init__).parameters)
            except (TypeError, ValueError):
                continue
    return inherited
