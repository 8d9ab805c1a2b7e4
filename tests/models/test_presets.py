"""Per-model presets (`msakeras/models/<model>/<model>_presets.py`)."""

import pytest

import msakeras
from msakeras.models import presets as presets_lib
from msakeras.testing import tiny_text_encoder

MODELS = {
    "mmim": msakeras.models.MMIMModel,
    "hycon": msakeras.models.HyConModel,
    "self_mi": msakeras.models.SelfMIModel,
    "mcer": msakeras.models.MCERModel,
    "dashfusion": msakeras.models.DashFusionModel,
}
# Constructor arguments a preset cannot know (read from the data file).
DATA_ARGUMENTS = {
    "self_mi": {"num_train_samples": 10},
    "mcer": {"num_train_samples": 10},
    "dashfusion": {"steps_per_epoch": 5},
}

# A few numbers written from the papers (not read from our tables).
PAPER_NUMBERS = {
    # MMIM paper Table 3 (MOSI / MOSEI).
    "mmim_mosi": {"learning_rate": 1e-3, "cpc_weight": 0.3, "ba_weight": 0.1},
    "mmim_mosei": {
        "learning_rate": 5e-4,
        "cpc_weight": 0.1,
        "ba_weight": 0.05,
        "batch_size": 64,
    },
    # HyCon paper: Adam 1e-5, margin alpha 0.8, hidden d 50.
    "hycon_mosi": {"learning_rate": 1e-5, "margin": 0.8, "hidden_dim": 50},
    # Self-MI: lambda_cpc 0.1; Self-MM's MMSA `self_mm` loop: early stop 8.
    "self_mi_mosi": {"cpc_weight": 0.1, "patience": 8},
    # MCER Table III (MOSI / MOSEI): learning rates and loss weights.
    "mcer_mosi": {
        "text_learning_rate": 4.5e-5,
        "learning_rate": 7e-4,
        "fusion_kl_weight": 1.9,
        "mi_weight": 0.1,
    },
    # DashFusion official config: MOSI AdamW lr 5e-5, 8 bottleneck tokens,
    # lambda 0.2, tau 0.5; MOSEI batch 8, 4 encoder layers (README).
    "dashfusion_mosi": {
        "learning_rate": 5e-5,
        "num_bottleneck_tokens": 8,
        "contrastive_weight": 0.2,
        "temperature": 0.5,
    },
    "dashfusion_mosei": {"batch_size": 8, "num_encoder_layers": 4},
    "mcer_mosei": {
        "text_learning_rate": 2e-5,
        "learning_rate": 5.5e-4,
        "unimodal_kl_weight": 0.45,
        "discriminator_weight": 0.3,
    },
}

ALL_PRESETS = [
    (model_name, preset)
    for model_name, model_class in MODELS.items()
    for preset in model_class.presets
]


def build(model_class, preset, **overrides):
    model_name = preset.rsplit("_", 1)[0]
    overrides = {**DATA_ARGUMENTS.get(model_name, {}), **overrides}
    return model_class.from_preset(
        preset,
        text_encoder=tiny_text_encoder(),
        audio_dim=3,
        vision_dim=4,
        **overrides,
    )


@pytest.mark.parametrize("model_name,preset", ALL_PRESETS)
def test_every_preset_builds_and_compiles(model_name, preset):
    model = build(MODELS[model_name], preset)
    assert isinstance(model, MODELS[model_name])
    assert model.optimizer is not None


@pytest.mark.parametrize("model_name,preset", ALL_PRESETS)
def test_constructor_arguments_equal_the_table(model_name, preset):
    model_class = MODELS[model_name]
    model = build(model_class, preset, compile=False)
    table = model_class.presets[preset]
    config = model.get_config()
    for key, argument in model_class.preset_constructor_keys.items():
        assert config[argument] == table[key], (preset, key)


def test_presets_are_named_model_dataset():
    for model_name, model_class in MODELS.items():
        assert sorted(model_class.presets) == [
            f"{model_name}_{dataset}" for dataset in ("mosei", "mosi", "sims")
        ]


def test_override_applies_to_the_constructor():
    model = build(
        msakeras.models.MMIMModel,
        "mmim_mosi",
        compile=False,
        cpc_weight=0.7,
        batch_size=8,
        name="custom",
    )
    config = model.get_config()
    assert config["cpc_weight"] == 0.7
    assert config["memory_capacity"] == 8
    assert model.name == "custom"


def test_override_applies_to_the_optimizer(monkeypatch):
    seen = {}
    original = msakeras.models.MMIMModel.make_optimizers

    def spy(self, **kwargs):
        seen.update(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(msakeras.models.MMIMModel, "make_optimizers", spy)
    build(msakeras.models.MMIMModel, "mmim_mosi", learning_rate=0.25)
    # Paper Table 3 (MOSI) for the rest.
    assert seen == {
        "learning_rate": 0.25,
        "text_learning_rate": 5e-5,
        "mi_learning_rate": 5e-3,
        "l2_decay": 1e-4,
        "global_clipnorm": 5.0,
    }


def test_unknown_preset_is_refused_naming_the_known_ones():
    with pytest.raises(presets_lib.PresetError, match="mmim_mosi"):
        build(msakeras.models.MMIMModel, "mmim_iemocap")


def test_unknown_override_is_refused_naming_the_known_keys():
    with pytest.raises(presets_lib.PresetError, match="cpc_weight"):
        build(msakeras.models.MMIMModel, "mmim_mosi", cpc_wieght=0.2)


def test_mapped_constructor_argument_is_refused_as_override():
    # `memory_capacity` comes from the table's `batch_size`.
    with pytest.raises(presets_lib.PresetError, match="memory_capacity"):
        build(msakeras.models.MMIMModel, "mmim_mosi", memory_capacity=4)


def test_presets_are_read_only():
    with pytest.raises(TypeError):
        msakeras.models.MMIMModel.presets["mmim_mosi"]["cpc_weight"] = 1.0


@pytest.mark.parametrize("preset", sorted(PAPER_NUMBERS))
def test_paper_numbers_survive_in_presets_and_recipe_tables(preset):
    model_name, dataset = preset.rsplit("_", 1)
    table = MODELS[model_name].presets[preset]
    recipe_table = presets_lib.recipe_tables(model_name)[dataset]
    for key, value in PAPER_NUMBERS[preset].items():
        assert table[key] == value, (preset, key)
        assert recipe_table[key] == value, (preset, key)


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_recipe_tables_are_the_preset_tables(model_name):
    tables = presets_lib.recipe_tables(model_name)
    assert sorted(tables) == ["mosei", "mosi", "sims"]
    for dataset, table in tables.items():
        preset = f"{model_name}_{dataset}"
        assert table == dict(MODELS[model_name].presets[preset])
    # Copies: a recipe's changes never reach the presets.
    tables["mosi"]["epochs"] = -1
    assert presets_lib.recipe_tables(model_name)["mosi"]["epochs"] != -1


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_embedded_defaults_change_only_preset_keys(model_name):
    # The no-argument run changes settings the presets hold (a typo would
    # otherwise add a key no constructor or optimizer reads).
    module = presets_lib.presets_module(model_name)
    for dataset, table in presets_lib.recipe_tables(model_name).items():
        unknown = set(module.EMBEDDED_DEFAULTS) - set(table)
        assert not unknown, (model_name, dataset, unknown)


def test_presets_module_of_an_unknown_model_is_one_clear_error():
    with pytest.raises(presets_lib.PresetError, match="tiny_presets"):
        presets_lib.presets_module("tiny")


def test_dashfusion_preset_needs_steps_per_epoch_to_compile():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        msakeras.models.DashFusionModel.from_preset(
            "dashfusion_mosi",
            text_encoder=tiny_text_encoder(),
            audio_dim=3,
            vision_dim=4,
        )
