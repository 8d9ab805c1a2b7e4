"""The five published models and their base class."""

from msakeras.models.msa_model import MSAModel
