from .echo_metric import EchoMetric

__all__ = ['EchoMetric']
