"""The five published models and their base class."""

from msakeras.models.msa_model import MSAModel
from msakeras.models.mmim.mmim_model import MMIMModel
