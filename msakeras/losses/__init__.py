"""Parameter-free objectives: a per-sample function and a Loss class each."""

from msakeras.losses.gaussian_entropy import class_conditional_gaussian_entropy
from msakeras.losses.gaussian_kl import GaussianKL
from msakeras.losses.gaussian_kl import gaussian_kl
from msakeras.losses.hybrid_contrastive import HybridContrastive
from msakeras.losses.hybrid_contrastive import hybrid_contrastive
from msakeras.losses.hybrid_contrastive import hybrid_contrastive_terms
from msakeras.losses.info_nce import InfoNCE
from msakeras.losses.info_nce import info_nce
from msakeras.losses.inter_modal_contrastive import InterModalContrastive
from msakeras.losses.inter_modal_contrastive import inter_modal_contrastive
from msakeras.losses.intra_modal_contrastive import IntraModalContrastive
from msakeras.losses.intra_modal_contrastive import intra_modal_contrastive
from msakeras.losses.label_weighted_mae import LabelWeightedMAE
from msakeras.losses.label_weighted_mae import label_weighted_mae
from msakeras.losses.label_weighted_mae import unimodal_task_loss
from msakeras.losses.modality_discrimination import ModalityDiscrimination
from msakeras.losses.modality_discrimination import modality_discrimination
from msakeras.losses.nt_xent import NTXent
from msakeras.losses.nt_xent import masked_nt_xent
from msakeras.losses.nt_xent import nt_xent
from msakeras.losses.semi_contrastive import SemiContrastive
from msakeras.losses.semi_contrastive import semi_contrastive
from msakeras.losses.supervised_contrastive import SupervisedContrastive
from msakeras.losses.supervised_contrastive import supervised_contrastive
