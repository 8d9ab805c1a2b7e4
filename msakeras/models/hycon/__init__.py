"""HyCon: hybrid contrastive learning of tri-modal representation."""

from msakeras.models.hycon.hycon_model import HyConModel
