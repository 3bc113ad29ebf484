from .echo_runner import EchoRunner

__all__ = ['EchoRunner']
