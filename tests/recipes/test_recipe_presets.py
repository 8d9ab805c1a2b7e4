"""Recipes take the no-argument run's settings and the ablation rows from
the presets files (`msakeras/models/<model>/<model>_presets.py`).

Parsing only (no training): each recipe resolves its table on tiny files.
The embedded runs' sizes are typed in from `docs/models/*.md` ("Recipe");
the ablation rows from the papers (HyCon Table 3, MCER Table IV, DashFusion
Tables IV-V).
"""

import importlib
import os
import sys

import pytest

from msakeras.models import presets
from tests.recipes import recipe_runner

sys.path.insert(0, os.path.join(recipe_runner.ROOT, "recipes"))

import common  # noqa: E402, F401  (recipes/common.py, as the recipes import it)

RECIPES = ("dashfusion", "hycon", "mcer", "mmim", "self_mi")
DATASETS = ("mosi", "mosei", "sims")


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("recipe_presets"))


def parse(model, directory, *flags, dataset="mosi", embedded=False):
    recipe = importlib.import_module(model)
    return recipe_runner.parse_recipe(
        recipe, directory, *flags, dataset=dataset, embedded=embedded
    )


def changed(settings, model, dataset):
    """The keys of `settings` that differ from the model's preset."""
    preset = presets.recipe_tables(model)[dataset]
    return {
        key: value
        for key, value in settings.items()
        if key not in preset or preset[key] != value
    }


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("model", RECIPES)
def test_data_runs_use_the_preset_and_embedded_runs_its_changes(
    model, dataset, directory
):
    args = parse(model, directory, dataset=dataset)
    extra = {"cross_modal_tasks"} if model == "mcer" else set()
    assert set(changed(args.hyperparameters, model, dataset)) == extra
    embedded = parse(model, directory, dataset=dataset, embedded=True)
    assert embedded.embedded and not args.embedded
    expected = presets.recipe_tables(model)[dataset]
    expected.update(presets.presets_module(model).EMBEDDED_DEFAULTS)
    settings = dict(embedded.hyperparameters)
    settings.pop("cross_modal_tasks", None)
    assert settings == expected


def test_embedded_run_sizes_are_the_documented_ones(directory):
    # docs/models/mcer.md, "Recipe": L = 1, d = 32, 4 heads, BiGRU 32,
    # VIB hidden 128, frames pooled by 5, no accumulation, text rate
    # 1e-4, 4 epochs.
    mcer = parse("mcer", directory, embedded=True).hyperparameters
    assert mcer["cross_modal_layers"] == 1
    assert mcer["cross_modal_dim"] == 32
    assert mcer["cross_modal_heads"] == 4
    assert mcer["sequence_recurrent_dim"] == 32
    assert mcer["bottleneck_hidden_dim"] == 128
    assert mcer["frame_pool_size"] == 5
    assert mcer["gradient_accumulation_steps"] == 1
    assert mcer["text_learning_rate"] == 1e-4
    assert mcer["epochs"] == 4
    # docs/models/dashfusion.md, "Recipe": 3 epochs, 1-epoch warm-up to a
    # 1e-4 peak, 1 encoder layer, encoder dropout 0, in-batch pairs.
    dash = parse("dashfusion", directory, embedded=True).hyperparameters
    assert dash["epochs"] == 3
    assert dash["warmup_epochs"] == 1
    assert dash["learning_rate"] == 1e-4
    assert dash["num_encoder_layers"] == 1
    assert dash["encoder_dropout"] == 0.0
    assert dash["partners_per_role"] == 0
    # The paper's widths stay (128, 8 heads, 2 HBF layers, 8 tokens).
    assert (dash["hidden_dim"], dash["num_heads"]) == (128, 8)
    assert (dash["num_fusion_layers"], dash["num_bottleneck_tokens"]) == (2, 8)


# HyCon Table 3: the row's switched-off terms (λ1 IAMCL, λ2 IEMCL,
# λ3 SCL), the refinement, or α = 1 (no margin); the paper's λ = 1, α = 0.8.
HYCON_ROWS = {
    "none": {},
    "no_contrastive": {
        "intra_modal_weight": 0.0,
        "inter_modal_weight": 0.0,
        "semi_contrastive_weight": 0.0,
    },
    "no_iamcl": {"intra_modal_weight": 0.0},
    "no_iemcl": {"inter_modal_weight": 0.0},
    "no_scl": {"semi_contrastive_weight": 0.0},
    "no_margin": {"margin": 1.0},
    "no_refinement": {"refinement": False},
}


@pytest.mark.parametrize("row", sorted(HYCON_ROWS))
def test_hycon_ablation_rows(row, directory):
    args = parse("hycon", directory, "--ablation", row)
    assert changed(args.hyperparameters, "hycon", "mosi") == HYCON_ROWS[row]
    # --margin (Table 5) wins over the row's α.
    args = parse("hycon", directory, "--ablation", row, "--margin", "0.5")
    assert args.hyperparameters["margin"] == 0.5


# MCER Table IV: α (L_m), β (L_avl), γ (L_dc), η (L_MI) set to 0.
MCER_SWITCHES = {
    "--without-kl-m": "fusion_kl_weight",
    "--without-kl-s": "unimodal_kl_weight",
    "--without-dc": "discriminator_weight",
    "--without-mi": "mi_weight",
}


@pytest.mark.parametrize("flag", sorted(MCER_SWITCHES))
def test_mcer_ablation_switches(flag, directory):
    args = parse("mcer", directory, flag)
    found = changed(args.hyperparameters, "mcer", "mosi")
    found.pop("cross_modal_tasks")
    assert found == {MCER_SWITCHES[flag]: 0.0}


def test_mcer_switches_combine_and_win_over_set(directory):
    args = parse(
        "mcer", directory, *MCER_SWITCHES, "--set", "mi_weight=0.4",
        "--without-cross-task",
    )  # fmt: skip
    found = changed(args.hyperparameters, "mcer", "mosi")
    assert found == {
        **dict.fromkeys(MCER_SWITCHES.values(), 0.0),
        "cross_modal_tasks": [],
    }


@pytest.mark.parametrize(
    "flag, expected",
    [
        ("--no-temporal-alignment", {}),
        ("--no-semantic-alignment", {}),
        ("--no-supervised-contrastive", {}),
        # Table IV "w/o L_con": λ = 0, and no partner sampling.
        (
            "--no-contrastive",
            {"contrastive_weight": 0.0, "partners_per_role": 0},
        ),
    ],
)
def test_dashfusion_ablation_switches(flag, expected, directory):
    args = parse("dashfusion", directory, flag)
    assert changed(args.hyperparameters, "dashfusion", "mosi") == expected
    assert args.recipe_flags[flag[2:].replace("-", "_")] is True


@pytest.mark.parametrize("model", ["dashfusion", "mcer"])
def test_ablation_switches_change_preset_keys_only(model):
    module = presets.presets_module(model)
    for dataset, table in presets.recipe_tables(model).items():
        for name, (help_text, changes) in module.ABLATION_SWITCHES.items():
            assert help_text, name
            assert set(changes) <= set(table), (model, dataset, name)
