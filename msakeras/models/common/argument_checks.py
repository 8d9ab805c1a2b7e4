"""Constructor argument checks shared by the models."""


def check_non_negative(**values):
    """Raises `ValueError` naming the first negative keyword argument.

    Example: `check_non_negative(cpc_weight=0.1, ba_weight=0.1)`.
    """
    for argument, value in values.items():
        if value < 0:
            raise ValueError(f"`{argument}` must be >= 0; received {value}.")


def check_choice(argument, value, choices):
    """Raises `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{argument}` must be one of {tuple(choices)}; received {value!r}."
        )


def check_subset(argument, values, allowed):
    """Raises `ValueError` unless every item of `values` is in `allowed`."""
    if any(value not in allowed for value in values):
        raise ValueError(
            f"`{argument}` must be among {tuple(allowed)}; received "
            f"{tuple(values)}."
        )
