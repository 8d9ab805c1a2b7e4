"""The standard HDF5 data format, its reader and the synthetic default."""

from msakeras.data.contrastive_pair_sampler import ContrastivePairSampler
from msakeras.data.contrastive_pair_sampler import SamplerRefreshCallback
from msakeras.data.contrastive_pair_sampler import retrieve_candidates
from msakeras.data.feature_sequence import FeatureSequence
from msakeras.data.hdf5_store import get_split
from msakeras.data.hdf5_store import load_split
from msakeras.data.hdf5_store import open_dataset
from msakeras.data.hdf5_store import read_attributes
from msakeras.data.hdf5_store import validate_file
from msakeras.data.hdf5_store import write_dataset
from msakeras.data.schema import FILE_ATTRIBUTES
from msakeras.data.schema import FORMAT_VERSION
from msakeras.data.schema import KEY_SPECS
from msakeras.data.schema import LABEL_KEYS
from msakeras.data.schema import LABEL_RANGES
from msakeras.data.schema import MODEL_INPUT_KEYS
from msakeras.data.schema import REQUIRED_KEYS
from msakeras.data.schema import SPLITS
from msakeras.data.schema import base_dataset_name
from msakeras.data.schema import cast_to_schema
from msakeras.data.schema import label_range
from msakeras.data.schema import validate_split
from msakeras.data.synthetic import default_synthetic_path
from msakeras.data.synthetic import ensure_synthetic_dataset
from msakeras.data.synthetic import generate_synthetic_splits
from msakeras.data.synthetic import make_synthetic_dataset
