"""A hyperparameter search space read from `SPACE.yaml`."""

import json
import os
import re

import numpy as np

DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class SearchSpace:
    """Hyperparameter ranges of one recipe, sampled into configurations.

    `SPACE.yaml` holds a mapping `parameters:` from recipe hyperparameter
    names (keys of the recipe's table, e.g. `learning_rate`) to either a
    fixed value or one distribution:

    ```yaml
    model: mmim                 # optional; must match the searched model
    parameters:
      learning_rate: {choice: [5.0e-4, 1.0e-3, 5.0e-3]}
      cpc_weight: {loguniform: [0.05, 0.3]}
      audio_hidden_dim: {randint: [16, 65]}    # high end excluded
      fusion_dim: 128                          # fixed
    ```

    `sample(n, seed)` draws `n` configurations with NumPy's
    `default_rng(seed)`; a space of `choice` and fixed values only (a grid)
    with `n` at least its size gives every grid point once, in order.

    Args:
        parameters: dict. Name -> fixed value or `{distribution: args}`.
        path: str or None. The file it came from (named in errors).
        model: str or None. The model the file is written for.
    """

    def __init__(self, parameters, path=None, model=None):
        self.path = path
        self.model = model
        where = f"'{path}'" if path else "the search space"
        if not isinstance(parameters, dict) or not parameters:
            raise ValueError(
                f"{where}: `parameters` must be a non-empty mapping of "
                f"hyperparameter names to values or distributions, got "
                f"{parameters!r}."
            )
        self.parameters = {}
        for name, value in parameters.items():
            self.parameters[name] = _check(where, name, value)

    @classmethod
    def from_yaml(cls, path):
        """Reads `SPACE.yaml` (see the class docstring)."""
        import yaml  # installed with ray[tune]

        if not os.path.isfile(path):
            raise ValueError(f"--space '{path}': no such file.")
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
        if not isinstance(content, dict) or "parameters" not in content:
            raise ValueError(
                f"'{path}': expected a mapping with a `parameters` key "
                "(hyperparameter name -> value or {distribution: args})."
            )
        unknown = sorted(set(content) - {"model", "parameters", "notes"})
        if unknown:
            raise ValueError(
                f"'{path}': unknown top-level key(s) {unknown}; allowed: "
                "model, parameters, notes."
            )
        return cls(content["parameters"], path=path, model=content.get("model"))

    def check_names(self, known, model):
        """Refuses names that are not hyperparameters of the recipe."""
        where = f"'{self.path}'" if self.path else "the search space"
        if self.model is not None and self.model != model:
            raise ValueError(
                f"{where} is written for model {self.model!r}, not {model!r}."
            )
        unknown = sorted(set(self.parameters) - set(known))
        if unknown:
            raise ValueError(
                f"{where}: unknown hyperparameter(s) {unknown} for {model}; "
                f"the recipe's are {sorted(known)}."
            )

    def grid(self):
        """Every combination when the space has only choices and fixed
        values, else None."""
        values = []
        for name, (kind, arguments) in self.parameters.items():
            if kind == "fixed":
                values.append([(name, arguments)])
            elif kind == "choice":
                values.append([(name, value) for value in arguments])
            else:
                return None
        combinations = [[]]
        for options in values:
            combinations = [c + [o] for c in combinations for o in options]
        return [dict(combination) for combination in combinations]

    def sample(self, n, seed=0):
        """`n` configurations (dicts of plain JSON values)."""
        grid = self.grid()
        if grid is not None and n >= len(grid):
            return grid[:n]
        rng = np.random.default_rng(seed)
        if grid is not None:
            picks = rng.choice(len(grid), size=n, replace=False)
            return [grid[int(index)] for index in picks]
        return [
            {
                name: _draw(rng, kind, arguments)
                for name, (kind, arguments) in self.parameters.items()
            }
            for _ in range(n)
        ]

    def to_json(self):
        return json.dumps(
            {"model": self.model, "parameters": self.parameters},
            sort_keys=True,
        )


def _number(value):
    """YAML 1.1 reads `1e-4` as a string: numbers in strings become floats."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return value


def _check(where, name, value):
    if not isinstance(value, dict):
        return ("fixed", _number(value))
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
        raise ValueError(
            f"{where}: parameter {name!r} must be a fixed value or one of "
            f"{{{', '.join(DISTRIBUTIONS)}: ...}}, got {value!r}."
        )
    kind, arguments = next(iter(value.items()))
    if not isinstance(arguments, list) or not arguments:
        raise ValueError(
            f"{where}: parameter {name!r}: {kind} needs a non-empty list, "
            f"got {arguments!r}."
        )
    arguments = [_number(argument) for argument in arguments]
    if kind == "choice":
        return (kind, arguments)
    if len(arguments) != 2 or not all(
        isinstance(bound, (int, float)) and not isinstance(bound, bool)
        for bound in arguments
    ):
        raise ValueError(
            f"{where}: parameter {name!r}: {kind} needs [low, high] numbers, "
            f"got {arguments!r}."
        )
    low, high = arguments
    if not low < high or (kind == "loguniform" and low <= 0):
        raise ValueError(
            f"{where}: parameter {name!r}: {kind} bounds {arguments!r} need "
            f"low < high{' and low > 0' if kind == 'loguniform' else ''}."
        )
    if kind == "randint" and not all(float(b).is_integer() for b in arguments):
        raise ValueError(
            f"{where}: parameter {name!r}: randint bounds must be integers, "
            f"got {arguments!r}."
        )
    return (kind, arguments)


def _draw(rng, kind, arguments):
    if kind == "fixed":
        return arguments
    if kind == "choice":
        value = arguments[int(rng.integers(len(arguments)))]
        return value.item() if isinstance(value, np.generic) else value
    low, high = arguments
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "loguniform":
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return int(rng.integers(int(low), int(high)))
