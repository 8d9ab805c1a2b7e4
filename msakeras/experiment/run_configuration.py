"""A recipe's effective configuration: presets, a YAML file, `--set` overrides.

The model's preset for the dataset (the recipe's hyperparameter table) is the
default. A YAML file (`--config FILE.yaml`, a flat mapping `key: value`) and
then `--set key=value` (repeatable; the value is read as a YAML scalar, so
`1e-4`, `true`, `null`, `[1, 2]` mean what they do in YAML) override any of
its keys, in that order. A key the preset does not have is refused with one
error naming the key, where it came from and the known keys; so is a value
of the wrong kind (an integer setting given `"abc"`). Integers given where
the preset holds a float become floats.

NumPy-free and Keras-free: imported by the recipes' argument parsing.
"""

import os

NULLABLE_KEYS = ("patience",)
"""Keys that may be set to `null` although their preset is not (`patience:
null` is the fixed budget without early stopping)."""


class ConfigurationError(ValueError):
    """An unknown key, a malformed `--set` or a value of the wrong kind."""


def _yaml():
    try:
        import yaml
    except ImportError as error:  # pragma: no cover - a dependency
        raise ConfigurationError(
            "--config/--set need PyYAML: pip install pyyaml"
        ) from error
    return yaml


def parse_override(text):
    """`"key=value"` -> `(key, value)`, the value read as a YAML scalar."""
    key, separator, raw = str(text).partition("=")
    key = key.strip()
    if not separator or not key:
        raise ConfigurationError(
            f"--set {text!r}: expected key=value (e.g. --set "
            "learning_rate=1e-4)."
        )
    yaml = _yaml()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as error:
        raise ConfigurationError(
            f"--set {text!r}: the value is not a YAML scalar ({error})."
        ) from None
    if isinstance(value, dict):
        raise ConfigurationError(
            f"--set {text!r}: the value is a mapping; give one key=value "
            "per --set."
        )
    return key, _yaml_float(value, raw)


def _yaml_float(value, raw):
    """YAML 1.1 reads `1e-4` (no dot) as a string; a number is meant."""
    if isinstance(value, str) and raw.strip() == value:
        try:
            return float(value) if any(c in value for c in "eE") else value
        except ValueError:
            return value
    return value


def load_config_file(path):
    """The flat mapping of a YAML configuration file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigurationError(f"--config {path!r}: no such file.")
    yaml = _yaml()
    with open(path, encoding="utf-8") as handle:
        try:
            loaded = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise ConfigurationError(
                f"--config {path!r}: not valid YAML ({error})."
            ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigurationError(
            f"--config {path!r}: expected a mapping of key: value, got "
            f"{type(loaded).__name__}."
        )
    return {
        str(key): _yaml_float(value, value if isinstance(value, str) else "")
        for key, value in loaded.items()
    }


def _kind(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _checked(key, value, default, source):
    """`value` converted to the preset's kind, else a ConfigurationError."""
    if value is None:
        if default is None or key in NULLABLE_KEYS:
            return None
        raise ConfigurationError(
            f"{source}: {key} = null, but {key} needs {_kind(default)} "
            f"(preset {default!r})."
        )
    if default is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, (list, tuple))
        value = type(default)(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigurationError(
            f"{source}: {key} = {value!r} is {_kind(value)}; {key} needs "
            f"{_kind(default)} (preset {default!r})."
        )
    return value


def resolve_configuration(defaults, config_file=None, overrides=(), name=""):
    """The effective configuration and where each changed value came from.

    Args:
        defaults: the preset (`{key: value}`), not modified.
        config_file: optional YAML path (`--config`).
        overrides: `["key=value", ...]` (`--set`), applied after the file.
        name: what the preset is (e.g. `"mmim/mosi"`), for messages.

    Returns:
        `(settings, sources)`: the merged dict, and `{key: source}` for every
        key the file or `--set` gave (`"--config <path>"` or `"--set"`).

    Raises:
        ConfigurationError: an unknown key (the message names the key and
            the known keys), a malformed override or a value of the wrong
            kind.
    """
    settings = dict(defaults)
    sources = {}
    layers = []
    if config_file is not None:
        layers.append(
            (f"--config {config_file}", load_config_file(config_file))
        )
    if overrides:
        layers.append(
            ("--set", dict(parse_override(item) for item in overrides))
        )
    for source, values in layers:
        for key, value in values.items():
            if key not in defaults:
                preset = f" of {name}" if name else ""
                raise ConfigurationError(
                    f"{source}: unknown key {key!r}; the known keys{preset} "
                    f"are: {', '.join(sorted(defaults))}."
                )
            settings[key] = _checked(key, value, defaults[key], source)
            sources[key] = source
    return settings, sources


def format_configuration(settings, sources=None, title="configuration"):
    """The effective configuration as printable `key: value` lines."""
    sources = sources or {}
    width = max((len(key) for key in settings), default=0)
    lines = [f"{title}:"]
    for key in sorted(settings):
        origin = f"   ({sources[key]})" if key in sources else ""
        lines.append(f"  {key:<{width}} : {settings[key]!r}{origin}")
    return "\n".join(lines)


def add_arguments(parser):
    """Adds `--config FILE.yaml` and repeatable `--set key=value`."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE.yaml",
        help="YAML mapping key: value overriding the model's preset for the "
        "dataset (the printed configuration lists the keys)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one preset key, after --config (repeatable; the "
        "value is read as YAML: 1e-4, true, null); --epochs, --batch-size "
        "and --patience win over both",
    )
