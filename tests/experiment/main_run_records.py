"""`run.json` as the untyped run library (before `RunSettings`) wrote it.

Recorded once from that code (`recipes/<model>.py` flags on a tiny
`--data` file in `directory`, then `write_run_record`): the `arguments`
entry and the folder of a finished and of a validation-only seed, so
that the typed run library is tested to write the same record and to
resume the same folders.
"""

import os

ONE_DEVICE = "DataParallelSetup(engine='none', num_replicas=1, process=0/1)"


def main_arguments(directory):
    """`run.json`'s `arguments` of `mcer --without-cross-task --epochs 2
    --set mi_weight=0.2 --seeds 7` and `hycon --fusion graph --margin 0.7
    --max-train-samples 5`, keys in the order they were written."""
    return {
        "mcer": {
            "data": os.path.join(directory, "tiny_mosi.h5"),
            "dataset": "mosi",
            "text_backbone": None,
            "epochs": 2,
            "batch_size": None,
            "seeds": [7],
            "patience": None,
            "output_dir": "saved_models/mcer_mosi/runs",
            "results_dir": None,
            "resume": False,
            "tensorboard": False,
            "mixed_precision": False,
            "distribute": "none",
            "max_train_samples": None,
            "verbose": 1,
            "config": None,
            "set": ["mi_weight=0.2"],
            "validation_only": False,
            "export": None,
            "export_dir": None,
            "compile": "auto",
            "export_format": "saved_model",
            "without_kl_m": False,
            "without_kl_s": False,
            "without_dc": False,
            "without_mi": False,
            "without_cross_task": True,
            "cross_tasks": [],
            "post_ln": False,
            "head_representation": "first",
            "mmim_two_stage": False,
            "embedded": False,
            "configuration_sources": {"mi_weight": "--set"},
            "preset_changes": {"epochs": 2, "mi_weight": 0.2},
            "model_name": "mcer",
            "data_parallel_setup": ONE_DEVICE,
        },
        "hycon": {
            "data": os.path.join(directory, "tiny_mosi.h5"),
            "dataset": "mosi",
            "text_backbone": None,
            "epochs": None,
            "batch_size": None,
            "seeds": [1111, 1112, 1113, 1114, 1115],
            "patience": None,
            "output_dir": "saved_models/hycon_mosi/runs_graph_margin0.7",
            "results_dir": None,
            "resume": False,
            "tensorboard": False,
            "mixed_precision": False,
            "distribute": "none",
            "max_train_samples": 5,
            "verbose": 1,
            "config": None,
            "set": [],
            "validation_only": False,
            "export": None,
            "export_dir": None,
            "compile": "auto",
            "export_format": "saved_model",
            "fusion": "graph",
            "ablation": "none",
            "margin": 0.7,
            "similarity": "shifted_cosine",
            "zero_label_class": "non_negative",
            "last_step": "valid",
            "no_key_padding_mask": False,
            "embedded": False,
            "configuration_sources": {},
            "preset_changes": {},
            "model_name": "hycon",
            "data_parallel_setup": ONE_DEVICE,
        },
    }
