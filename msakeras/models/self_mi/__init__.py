"""Self-MI: self-supervised multi-task MSA with auxiliary MI (and Self-MM)."""

from msakeras.models.self_mi.self_mi_model import SelfMIModel
