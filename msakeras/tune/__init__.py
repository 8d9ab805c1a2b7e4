"""Hyperparameter search and seed fan-out on Ray Tune.

`python -m msakeras.tune MODEL --space SPACE.yaml --trials N --seeds S...`
runs every (configuration, seed) as one recipe run with the test split
sealed (`--validation-only`), ranks configurations by mean validation MAE
over seeds, and reads the test split once per seed for the chosen one.
Needs the `tune` extra (`pip install "msakeras[tune]"`). README, "Sweeps".
"""

from msakeras.tune.search_space import SearchSpace
