"""The five published models and their base class."""

from msakeras.models.dashfusion.dashfusion_model import DashFusionModel
from msakeras.models.hycon.hycon_model import HyConModel
from msakeras.models.input_checks import check_model_inputs
from msakeras.models.input_checks import load_msa_model
from msakeras.models.input_checks import model_input_specs
from msakeras.models.mcer.mcer_model import MCERModel
from msakeras.models.mmim.mmim_model import MMIMModel
from msakeras.models.msa_model import MSAModel
from msakeras.models.self_mi.self_mi_model import SelfMIModel
