from .echo_video_segmentor import EchoVideoSegmentor

__all__ = ['EchoVideoSegmentor']
