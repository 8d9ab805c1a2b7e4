"""One recipe run's resolved settings, typed and read-only.

`recipe_arguments.finish_args` parses nothing itself: it resolves the
command line of `base_parser` (data file, dataset, the preset table with
`--config`/`--set` and the explicit flags, seeds, output folder, selection
rule) once into a `RunSettings`, checked before any training. The run
library (`seed_loop`, `run_data`, `run_callbacks`, `run_records`,
`run_results`, `best_seed_export`, `device_settings`) reads only its
fields; a recipe that changes its table (an ablation switch) makes a new
one with `with_hyperparameters`.

`run.json`'s `arguments` entry is `record_arguments()`: the command line
as parsed, with the resolved data file, dataset, seeds, output folder and
recipe flags, and the resolution's own entries (`embedded`,
`configuration_sources`, `preset_changes`, `model_name`, the presets'
`selection`), the same keys and values the run library wrote before it
was typed.
"""

import dataclasses
import types
from typing import Any
from typing import Mapping
from typing import Optional
from typing import Tuple

from msakeras.experiment.run_arguments import check_run_arguments
from msakeras.experiment.selection_rule import SelectionRule

DISTRIBUTE_MODES = ("none", "auto", "data-parallel")
COMPILE_SETTINGS = ("auto", "on", "off")
EXPORT_CHOICES = (None, "best", "all")
EXPORT_FORMATS = ("saved_model", "onnx", "both")
VERBOSITY = (0, 1, 2)


def _read_only(mapping):
    return types.MappingProxyType(dict(mapping or {}))


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """The settings of one recipe run (README, "Recipes"), read-only.

    Made once by `recipe_arguments.finish_args`; constructing one directly
    (tests, scripts) runs the same checks, each `ValueError` naming the
    flag at fault. Mappings are read-only views (`types.MappingProxyType`).
    """

    # --- data -------------------------------------------------------------
    model_name: str
    """The model (`"mmim"`): its presets module and run folders' name."""
    data: str
    """Standard HDF5 file trained and tested on (`--data`, else the
    embedded synthetic file)."""
    dataset: str
    """`mosi`, `mosei` or `sims`: the file's `dataset` attribute (base
    name), which `--dataset` must agree with; picks the preset table and
    the metric protocol."""
    embedded: bool = False
    """Whether `data` is the embedded synthetic file (no `--data`)."""
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The file's root attributes (`msakeras.data.read_attributes`)."""
    text_backbone: Optional[str] = None
    """`--text-backbone` (`None`: the bundled MiniLM)."""
    max_train_samples: Optional[int] = None
    """`--max-train-samples`: train on the first N samples only."""

    # --- model: hyperparameters and selection -------------------------------
    hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The run's table: the preset for the dataset, the embedded run's
    changes, `--config`, `--set`, then `--epochs`/`--batch-size`/
    `--patience`, then the recipe's switches (`epochs`, `batch_size`,
    optionally `patience` and the constructor's arguments)."""
    preset_changes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Keys of the table that differ from the paper's preset (the
    cross-model table's `changes`), before the recipe's switches."""
    configuration_sources: Mapping[str, str] = dataclasses.field(
        default_factory=dict
    )
    """`{key: source}` of every key set by `--config`/`--set`."""
    config: Optional[str] = None
    """`--config FILE.yaml`."""
    overrides: Tuple[str, ...] = ()
    """The `--set key=value` strings, in order (run.json `set`)."""
    selection: Optional[SelectionRule] = None
    """The presets' `SELECTION` rule (`start_epoch` capped at the epochs);
    `None`: the standard rule (`run_callbacks.SELECTION`)."""

    # --- seeds and output ---------------------------------------------------
    seeds: Tuple[int, ...] = (1111,)
    """`--seeds`: one run folder `seed_<seed>` each."""
    output_dir: str = "runs"
    """`--output-dir` (default `saved_models/<model>_<dataset>/runs`)."""
    results_dir: Optional[str] = None
    """`--results-dir` of the cross-model table (`None`: derived)."""
    resume: bool = False
    """`--resume`: continue a killed run, skip finished seeds."""
    validation_only: bool = False
    """`--validation-only`: select on validation, leave test sealed."""
    verbose: int = 1
    """`--verbose`: Keras progress output (0, 1 or 2)."""
    tensorboard: bool = False
    """`--tensorboard`: TensorBoard logs under torch/JAX too."""

    # --- export ---------------------------------------------------------------
    export: Optional[str] = None
    """`--export`: `None`, `"best"` or `"all"`."""
    export_dir: Optional[str] = None
    """`--export-dir` (`None`: the folder above `output_dir`)."""
    export_format: str = "saved_model"
    """`--export-format`: `saved_model`, `onnx` or `both`."""

    # --- device -------------------------------------------------------------
    mixed_precision: bool = False
    """`--mixed-precision`: mixed_float16 on GPU, mixed_bfloat16 on CPU."""
    distribute: str = "none"
    """`--distribute`: `none`, `auto` or `data-parallel`."""
    compile: str = "auto"
    """`--compile`: `auto`, `on` or `off`."""

    # --- the recipe's own flags and the record --------------------------------
    recipe_flags: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The model-specific flags of the recipe (`{"fusion": "graph"}`;
    `--no-contrastive` is `no_contrastive`), as the recipe resolved them."""
    command_line: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Every flag as parsed (`vars` of the namespace, in parser order),
    kept for `record_arguments`; the run library reads the typed fields."""

    def __post_init__(self):
        for name in (
            "attributes",
            "hyperparameters",
            "preset_changes",
            "configuration_sources",
            "recipe_flags",
            "command_line",
        ):
            object.__setattr__(self, name, _read_only(getattr(self, name)))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        self._check()

    def _check(self):
        """One `ValueError` naming the first flag at fault."""
        for flag, value in (
            ("--seeds", self.seeds),
            ("--epochs", [self.hyperparameters.get("epochs")]),
            ("--batch-size", [self.hyperparameters.get("batch_size")]),
            ("--patience", [self.hyperparameters.get("patience")]),
            ("--max-train-samples", [self.max_train_samples]),
            ("--verbose", [self.verbose]),
        ):
            for item in value:
                if item is not None and (
                    isinstance(item, bool) or not isinstance(item, int)
                ):
                    raise ValueError(
                        f"{flag} must be an integer, got {item!r} "
                        f"({type(item).__name__})."
                    )
        if not self.seeds:
            raise ValueError("--seeds: give at least one seed.")
        check_run_arguments(
            self.hyperparameters, list(self.seeds), self.max_train_samples
        )
        for flag, value, choices in (
            ("--verbose", self.verbose, VERBOSITY),
            ("--distribute", self.distribute, DISTRIBUTE_MODES),
            ("--compile", self.compile, COMPILE_SETTINGS),
            ("--export", self.export, EXPORT_CHOICES),
            ("--export-format", self.export_format, EXPORT_FORMATS),
        ):
            if value not in choices:
                raise ValueError(
                    f"{flag} must be one of {choices}, got {value!r}."
                )
        if self.selection is not None and not isinstance(
            self.selection, SelectionRule
        ):
            raise ValueError(
                "RunSettings.selection must be a SelectionRule or None, got "
                f"{type(self.selection).__name__}."
            )

    @property
    def epochs(self):
        """The run's maximum epochs (`hyperparameters["epochs"]`)."""
        return self.hyperparameters["epochs"]

    @property
    def batch_size(self):
        """The run's (global) batch size (`hyperparameters["batch_size"]`)."""
        return self.hyperparameters["batch_size"]

    def with_hyperparameters(self, **changes):
        """A copy whose table has `changes` applied (checked again)."""
        return dataclasses.replace(
            self, hyperparameters={**self.hyperparameters, **changes}
        )

    def with_recipe_flags(self, **changes):
        """A copy whose `recipe_flags` have `changes` applied (a recipe
        resolving its own flag, e.g. MCER's `cross_tasks`)."""
        return dataclasses.replace(
            self, recipe_flags={**self.recipe_flags, **changes}
        )

    def record_arguments(self):
        """`run.json`'s `arguments`: the command line as parsed with the
        resolved values (data, dataset, seeds, output folder, recipe
        flags) and the resolution's entries, in the order the untyped
        namespace held them. Values are not converted for JSON."""
        arguments = dict(self.command_line)
        arguments.update(
            data=self.data,
            dataset=self.dataset,
            seeds=list(self.seeds),
            output_dir=self.output_dir,
        )
        arguments.update(self.recipe_flags)
        arguments.update(
            embedded=self.embedded,
            configuration_sources=dict(self.configuration_sources),
            preset_changes=dict(self.preset_changes),
            model_name=self.model_name,
        )
        if self.selection is not None:
            arguments["selection"] = self.selection
        return arguments
