"""Evaluation metrics (NumPy, MMSA protocol) and result tables."""

from msakeras.metrics.results_table import mmsa_table
from msakeras.metrics.results_table import summarize_seeds
from msakeras.metrics.results_table import to_markdown
from msakeras.metrics.results_table import write_summary
from msakeras.metrics.ridge_baselines import frame_statistics
from msakeras.metrics.ridge_baselines import ridge_baselines_from_batches
from msakeras.metrics.ridge_baselines import ridge_fit_predict
from msakeras.metrics.ridge_baselines import single_modality_ridge_baselines
from msakeras.metrics.ridge_baselines import text_features
from msakeras.metrics.sentiment_scores import MAG_BERT_KEYS
from msakeras.metrics.sentiment_scores import MOSI_KEYS
from msakeras.metrics.sentiment_scores import SIMS_KEYS
from msakeras.metrics.sentiment_scores import sentiment_scores
from msakeras.metrics.sentiment_scores import sims_bins
from msakeras.metrics.sentiment_scores import weighted_f1_score
