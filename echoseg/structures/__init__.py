from .echo_data_sample import IGNORE_INDEX, EchoDataSample

__all__ = ['EchoDataSample', 'IGNORE_INDEX']
