"""MMIM, MCER and Self-MI recipes use the papers' (and MMSA's) settings.

The expected values are typed in here from the sources, not read from the
recipes or the presets; each recipe's table is the one it resolves for a
`--data` file of the dataset:

- MMIM: paper Table 3 (Han et al., EMNLP 2021) for MOSI and MOSEI, with
  "hidden dim" read as LSTM width = output width and the paper's clip 5.0;
  SIMS (not in the paper) from MMSA 2.2.1's `mmim` entry
  (`config_regression.json`: bidirectional, hidden 16, clip 1.0,
  α = β = 0.1, lr_mmilb 1e-3, early stop 8).
- MCER: paper Table III (Zhao et al., IJCNN 2024) for rates and loss
  weights; Self-MM's MMSA 2.2.1 `self_mm` entry for everything the paper
  leaves out (widths, post dims, dropouts, weight decays, H, update_epochs).
- Self-MI: paper Table 2 (Nguyen et al., PACLIC 37) as read in
  `docs/models/self_mi.md` (its cells are garbled in the available text).
"""

import os
import sys

from absl.testing import parameterized

from msakeras.testing import TestCase
from tests.recipes import recipe_runner

sys.path.insert(0, os.path.join(recipe_runner.ROOT, "recipes"))

import mcer  # noqa: E402
import mmim  # noqa: E402
import self_mi  # noqa: E402

MMIM_PAPER = {
    # Table 3: batch, η_ld (critics), η_main, BERT lr, α (CPC), β (BA),
    # V-LSTM / A-LSTM hidden, clip; unidirectional (paper §3.2).
    "mosi": {
        "batch_size": 32,
        "mi_learning_rate": 5e-3,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "cpc_weight": 0.3,
        "ba_weight": 0.1,
        "vision_hidden_dim": 32,
        "audio_hidden_dim": 32,
        "global_clipnorm": 5.0,
        "bidirectional": False,
        "fusion_dim": 128,
    },
    "mosei": {
        "batch_size": 64,
        "mi_learning_rate": 1e-3,
        "learning_rate": 5e-4,
        "text_learning_rate": 5e-5,
        "cpc_weight": 0.1,
        "ba_weight": 0.05,
        "vision_hidden_dim": 64,
        "audio_hidden_dim": 16,
        "global_clipnorm": 5.0,
        "bidirectional": False,
        "fusion_dim": 128,
    },
    # MMSA 2.2.1 `mmim` (SIMS is not in the paper).
    "sims": {
        "batch_size": 32,
        "mi_learning_rate": 1e-3,
        "learning_rate": 1e-3,
        "text_learning_rate": 5e-5,
        "cpc_weight": 0.1,
        "ba_weight": 0.1,
        "vision_hidden_dim": 16,
        "audio_hidden_dim": 16,
        "global_clipnorm": 1.0,
        "bidirectional": True,
        "fusion_dim": 128,
        "patience": 8,
    },
}

MCER_PAPER = {
    # Table III.
    "mosi": {
        "batch_size": 32,
        "text_learning_rate": 4.5e-5,
        "audio_learning_rate": 9e-4,
        "vision_learning_rate": 6e-3,
        "learning_rate": 7e-4,
        "fusion_kl_weight": 1.9,
        "unimodal_kl_weight": 0.001,
        "discriminator_weight": 0.05,
        "mi_weight": 0.1,
    },
    "mosei": {
        "batch_size": 32,
        "text_learning_rate": 2e-5,
        "audio_learning_rate": 9e-4,
        "vision_learning_rate": 4.5e-3,
        "learning_rate": 5.5e-4,
        "fusion_kl_weight": 1.8,
        "unimodal_kl_weight": 0.45,
        "discriminator_weight": 0.3,
        "mi_weight": 0.2,
    },
}

SELF_MM_MMSA = {
    # MMSA 2.2.1 config_regression.json, `self_mm`: a_lstm_hidden_size,
    # v_lstm_hidden_size, audio_out, video_out, post_{fusion,text,audio,
    # video}_dim, post_*_dropout, weight_decay_{bert,audio,video,other}, H;
    # commonParams update_epochs 4, early_stop 8.
    "mosi": {
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 32,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.0,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.0,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-3,
        "vision_l2_decay": 1e-3,
        "l2_decay": 1e-3,
        "label_range": 3.0,
        "gradient_accumulation_steps": 4,
        "patience": 8,
    },
    "mosei": {
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 32,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 32,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.1,
        "text_dropout": 0.0,
        "audio_dropout": 0.0,
        "vision_dropout": 0.0,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 0.0,
        "vision_l2_decay": 0.0,
        "l2_decay": 1e-2,
        "label_range": 3.0,
        "gradient_accumulation_steps": 4,
        "patience": 8,
    },
    "sims": {
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 64,
        "audio_output_dim": 16,
        "vision_output_dim": 32,
        "fusion_dim": 128,
        "text_post_dim": 64,
        "audio_post_dim": 16,
        "vision_post_dim": 32,
        "fusion_dropout": 0.0,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.0,
        "text_l2_decay": 1e-3,
        "audio_l2_decay": 1e-2,
        "vision_l2_decay": 1e-2,
        "l2_decay": 1e-3,
        "label_range": 1.0,
        "gradient_accumulation_steps": 4,
        "patience": 8,
    },
}

SELF_MI_PAPER = {
    # Table 2 as read: batch, lr BERT / audio / video, "embedding size"
    # (LSTM width = output width), dropouts text / audio / visual / fusion,
    # label range.
    "mosi": {
        "batch_size": 32,
        "text_learning_rate": 5e-5,
        "audio_learning_rate": 1e-3,
        "vision_learning_rate": 1e-4,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 16,
        "text_dropout": 0.0,
        "audio_dropout": 0.1,
        "vision_dropout": 0.1,
        "fusion_dropout": 0.1,
        "label_range": 3.0,
    },
    "mosei": {
        "batch_size": 64,
        "text_learning_rate": 1e-5,
        "audio_learning_rate": 1e-3,
        "vision_learning_rate": 1e-4,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 64,
        "text_dropout": 0.1,
        "audio_dropout": 0.1,
        "vision_dropout": 0.1,
        "fusion_dropout": 0.1,
        "label_range": 3.0,
    },
    "sims": {
        "batch_size": 32,
        "text_learning_rate": 5e-5,
        "audio_learning_rate": 5e-3,
        "vision_learning_rate": 5e-3,
        "audio_hidden_dim": 16,
        "vision_hidden_dim": 16,
        "text_dropout": 0.1,
        "audio_dropout": 0.0,
        "vision_dropout": 0.0,
        "fusion_dropout": 0.0,
        "label_range": 1.0,
    },
}


def mismatches(table, expected):
    return {
        key: (table.get(key, "<missing>"), value)
        for key, value in expected.items()
        if table.get(key, "<missing>") != value
    }


class RecipeHyperparameterTest(TestCase, parameterized.TestCase):
    def recipe_table(self, recipe, dataset):
        args = recipe_runner.parse_recipe(
            recipe, self.temp_dir, dataset=dataset
        )
        return args.hyperparameters

    @parameterized.parameters("mosi", "mosei", "sims")
    def test_mmim_table(self, dataset):
        table = self.recipe_table(mmim, dataset)
        self.assertEqual(mismatches(table, MMIM_PAPER[dataset]), {})

    @parameterized.parameters("mosi", "mosei")
    def test_mcer_paper_rates_and_weights(self, dataset):
        table = self.recipe_table(mcer, dataset)
        self.assertEqual(mismatches(table, MCER_PAPER[dataset]), {})

    @parameterized.parameters("mosi", "mosei", "sims")
    def test_mcer_fills_gaps_with_self_mm_mmsa(self, dataset):
        table = self.recipe_table(mcer, dataset)
        self.assertEqual(mismatches(table, SELF_MM_MMSA[dataset]), {})

    @parameterized.parameters("mosi", "mosei", "sims")
    def test_self_mi_table(self, dataset):
        table = self.recipe_table(self_mi, dataset)
        self.assertEqual(mismatches(table, SELF_MI_PAPER[dataset]), {})
