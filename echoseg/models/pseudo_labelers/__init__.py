from .base_pseudo_labeler import BasePseudoLabeler
from .cpr_pseudo_labeler import CPRPseudoLabeler
from .doc_pseudo_labeler import DOCPseudoLabeler
from .self_training import SelfTrainingPseudoLabeler

__all__ = ['BasePseudoLabeler', 'SelfTrainingPseudoLabeler', 'CPRPseudoLabeler',
           'DOCPseudoLabeler']
