"""``EchoDataPreprocessor``: packed clips -> normalised (B, T, C, H, W) inputs."""
from numbers import Number
from typing import Dict, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from echoseg.registry import MODELS


@MODELS.register_module()
class EchoDataPreprocessor(BaseDataPreprocessor):
    """Stack clips, normalise, and repeat the gray channel to ``in_channels``.

    Args:
        mean, std: a number for the gray channel, or one value per output channel
            (e.g. ImageNet statistics when the backbone starts from ImageNet weights).
        in_channels: channels the backbone expects (3 for stock mmseg backbones).
    """

    def __init__(self, mean: Union[Number, Sequence[Number]] = 127.5,
                 std: Union[Number, Sequence[Number]] = 127.5, in_channels: int = 3,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std_t = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        for name, value in (('mean', mean_t), ('std', std_t)):
            if value.numel() not in (1, in_channels):
                raise ValueError(f'EchoDataPreprocessor: {name} must have 1 or in_channels='
                                 f'{in_channels} values, got {value.numel()}')
        if torch.any(std_t <= 0):
            raise ValueError('EchoDataPreprocessor: std must be positive')
        self.in_channels = in_channels
        self.register_buffer('mean', mean_t.view(1, 1, -1, 1, 1), persistent=False)
        self.register_buffer('std', std_t.view(1, 1, -1, 1, 1), persistent=False)

    def forward(self, data: Dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor):
            batch = inputs if inputs.dim() == 5 else inputs.unsqueeze(0)
        else:
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                ids = [s.metainfo.get('video_id') for s in samples] if samples else []
                raise ValueError(f'EchoDataPreprocessor: clips in a batch must share one '
                                 f'(T, C, H, W) shape, got {sorted(shapes)} for videos {ids}; '
                                 'resize them (ResizeClip) and sample a fixed number of frames')
            batch = torch.stack(list(inputs))
        if batch.dim() != 5:
            raise ValueError(f'EchoDataPreprocessor: expected clips of shape (T, C, H, W), '
                             f'got a batch of shape {tuple(batch.shape)}')
        batch = batch.float()
        if batch.shape[2] == 1 and self.in_channels != 1:
            batch = batch.expand(-1, -1, self.in_channels, -1, -1)
        elif batch.shape[2] != self.in_channels:
            raise ValueError(f'EchoDataPreprocessor: clips have {batch.shape[2]} channels, '
                             f'the model expects {self.in_channels}')
        batch = (batch - self.mean) / self.std
        return dict(inputs=batch.contiguous(), data_samples=samples)
