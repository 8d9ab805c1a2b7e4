"""Import MMSA 2.2.1 MMIM and Self-MM checkpoints into msakeras models.

`python -m msakeras.convert_mmsa`; imported on demand (not by `import
msakeras`).
"""

from msakeras.convert_mmsa.converter import MODELS
from msakeras.convert_mmsa.converter import convert_checkpoint
from msakeras.convert_mmsa.torch_checkpoint import read_state_dict
from msakeras.convert_mmsa.weight_map import WeightMap
