"""MCER (Zhao et al., IJCNN 2024)."""

from msakeras.models.mcer.mcer_model import MCERModel
