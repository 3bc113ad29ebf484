from .base_pseudo_labeler import BasePseudoLabeler
from .self_training import SelfTrainingPseudoLabeler

__all__ = ['BasePseudoLabeler', 'SelfTrainingPseudoLabeler']
