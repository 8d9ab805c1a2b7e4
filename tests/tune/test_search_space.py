import json
import os

import numpy as np
import pytest

from msakeras.tune import SearchSpace
from msakeras.tune import leaderboard
from msakeras.tune import search
from msakeras.tune import trial as trial_lib

SPACES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    "msakeras",
    "tune",
    "spaces",
)


def write(tmp_path, text, name="space.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_grid_is_enumerated_in_order_and_yaml_exponents_are_numbers(
    tmp_path,
):
    space = SearchSpace.from_yaml(
        write(
            tmp_path,
            "parameters:\n  learning_rate: {choice: [1e-3, 5e-4]}\n"
            "  batch_size: {choice: [16, 32]}\n  fusion_dim: 64\n",
        )
    )
    configurations = space.sample(10)
    assert configurations == [
        {"learning_rate": 1e-3, "batch_size": 16, "fusion_dim": 64},
        {"learning_rate": 1e-3, "batch_size": 32, "fusion_dim": 64},
        {"learning_rate": 5e-4, "batch_size": 16, "fusion_dim": 64},
        {"learning_rate": 5e-4, "batch_size": 32, "fusion_dim": 64},
    ]
    assert isinstance(configurations[0]["learning_rate"], float)
    # Fewer than the grid: distinct points, the same for the same seed.
    some = space.sample(3, seed=5)
    assert len({json.dumps(c, sort_keys=True) for c in some}) == 3
    assert some == space.sample(3, seed=5)


def test_random_draws_stay_in_bounds(tmp_path):
    space = SearchSpace(
        {
            "learning_rate": {"loguniform": [1e-5, 1e-2]},
            "dropout": {"uniform": [0.0, 0.5]},
            "hidden": {"randint": [16, 65]},
        }
    )
    draws = space.sample(400, seed=1)
    rates = np.array([d["learning_rate"] for d in draws])
    assert rates.min() >= 1e-5 and rates.max() <= 1e-2
    # Log-uniform: about half the draws below the geometric midpoint.
    assert 0.4 < np.mean(rates < np.sqrt(1e-5 * 1e-2)) < 0.6
    dropouts = np.array([d["dropout"] for d in draws])
    assert dropouts.min() >= 0.0 and dropouts.max() < 0.5
    hidden = {d["hidden"] for d in draws}
    assert hidden <= set(range(16, 65)) and 64 in hidden and 16 in hidden
    assert all(type(d["hidden"]) is int for d in draws)


@pytest.mark.parametrize(
    "text, message",
    [
        ("parameters: {lr: {normal: [0, 1]}}", "'lr' must be a fixed value"),
        ("parameters: {lr: {uniform: [1, 0]}}", "low < high"),
        ("parameters: {lr: {loguniform: [0, 1]}}", "low > 0"),
        ("parameters: {lr: {randint: [1.5, 4]}}", "must be integers"),
        ("parameters: {lr: {choice: []}}", "non-empty list"),
        ("lr: 1", "`parameters` key"),
        ("parameters: {lr: 1}\nextra: 2", "unknown top-level key"),
    ],
)
def test_bad_spaces_are_one_clear_error_naming_the_file(
    tmp_path, text, message
):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        SearchSpace.from_yaml(path)
    assert path in str(error.value)


def test_bundled_spaces_name_only_hyperparameters_of_their_recipe():
    names = sorted(os.listdir(SPACES))
    assert names == [f"{model}.yaml" for model in sorted(search.MODELS)]
    for name in names:
        model = name.removesuffix(".yaml")
        space = SearchSpace.from_yaml(os.path.join(SPACES, name))
        known = search.hyperparameter_names(model)
        assert known, model
        space.check_names(known, model)  # raises on an unknown key
        assert space.sample(3, seed=0)


def test_unknown_hyperparameter_is_refused_with_the_known_ones(tmp_path):
    space = SearchSpace.from_yaml(
        write(tmp_path, "model: mmim\nparameters: {lr: 1.0e-3}\n")
    )
    known = search.hyperparameter_names("mmim")
    unknown = r"unknown hyperparameter\(s\) \[.lr.\]"
    with pytest.raises(ValueError, match=unknown):
        space.check_names(known, "mmim")
    with pytest.raises(ValueError, match="written for model 'mmim'"):
        space.check_names(known, "hycon")


def _fake_trial(output_dir, config_id, seed, val_maes, done=True):
    run_dir = os.path.join(
        trial_lib.trial_folder(output_dir, config_id, seed), f"seed_{seed}"
    )
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, "history.csv"), "w") as handle:
        handle.write("epoch,loss,val_mae\n")
        for epoch, value in enumerate(val_maes):
            handle.write(f"{epoch},1.0,{value}\n")
        handle.write("2,1.0,0.0")  # a row being written: not counted
    if done:
        best = int(np.argmin(val_maes))
        with open(os.path.join(run_dir, "run.json"), "w") as handle:
            json.dump(
                {
                    "test": None,
                    "validation_only": True,
                    "selection": {
                        "best_epoch": best + 1,
                        "best_value": val_maes[best],
                    },
                },
                handle,
            )


def test_ranking_uses_mean_validation_over_seeds_complete_first(tmp_path):
    out = str(tmp_path)
    configurations = [{"lr": 5e-05}, {"lr": 2}, {"lr": 3}]
    _fake_trial(out, 0, 7, [0.9, 0.8])
    _fake_trial(out, 0, 8, [0.7, 0.75])
    _fake_trial(out, 1, 7, [0.6, 0.9])
    _fake_trial(out, 1, 8, [1.2, 1.0])
    _fake_trial(out, 2, 7, [0.1])  # best value, but one seed missing
    _fake_trial(out, 2, 8, [0.2, 0.3], done=False)
    rows = leaderboard.trial_rows(out, configurations, [7, 8])
    assert [row["status"] for row in rows] == ["done"] * 5 + ["stopped"]
    assert rows[5]["epochs"] == 2 and rows[5]["best_epoch"] == 1
    ranked = leaderboard.rank_configurations(rows, configurations, [7, 8])
    assert [row["config"] for row in ranked] == [0, 1, 2]
    assert ranked[0]["mean_val_mae"] == pytest.approx(np.mean([0.8, 0.7]))
    assert ranked[1]["mean_val_mae"] == pytest.approx(np.mean([0.6, 1.0]))
    assert ranked[0]["std_val_mae"] == pytest.approx(np.std([0.8, 0.7], ddof=1))
    assert not ranked[2]["complete"]
    text = leaderboard.write_leaderboard(out, rows, ranked, "t")
    assert "c002_s8" in text
    # hyperparameters as given (not rounded to 0.0001), scores 4 decimals
    assert "5e-05" in text and "0.0001" not in text
    assert f"{np.mean([0.8, 0.7]):.4f}" in text
    assert os.path.isfile(os.path.join(out, "leaderboard.csv"))
