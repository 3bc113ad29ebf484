"""Stand-ins for the third-party names the authors' reference files import.

The authors' files (``models/PKEchoNet.py`` of JingyinLin/PKEcho-Net, ``SSG.py`` of
SSS666-klk/MSSNet) import ``torchvision`` and ``timm``; PyPI's wheels of both do not
install beside echoseg's torch without replacing it. :func:`stand_ins` puts small modules
under exactly the names the files import into ``sys.modules`` for the duration of a
``with`` block (earlier entries are restored afterwards):

- ``torchvision.models.resnet18/34/50``: a ResNet of torchvision's architecture and
  parameter names (``conv1``, ``bn1``, ``layer1``..``layer4`` of ``BasicBlock`` /
  ``Bottleneck`` with ``conv1``..``conv3``, ``bn1``..``bn3``, ``downsample.0/1``; stride
  on the 3x3 conv; ``avgpool``, ``fc``) and torchvision's initialisation. Nothing is
  downloaded: ``pretrained=True`` gives random weights (the check overwrites them).
- ``timm.models.layers.DropPath`` (stochastic depth per sample) and ``trunc_normal_``
  (``torch.nn.init.trunc_normal_``, the same signature).

``einops`` is not stood in for: it is pure Python and an optional extra of the set-up.
"""
import contextlib
import sys
import types
from typing import Iterator, List, Optional, Type, Union

import torch
from torch import Tensor, nn


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided) -> 1x1 with a residual (ResNet-50)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """torchvision's ResNet layout (7x7 stem, max-pool, four stages, pooled classifier)."""

    def __init__(self, block: Type[Union[BasicBlock, Bottleneck]], layers: List[int],
                 num_classes: int = 1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            setattr(self, f'layer{i + 1}', self._stage(block, planes, blocks, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _stage(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, out, 1, stride=stride,
                                                 bias=False), nn.BatchNorm2d(out))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [block(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(pretrained: bool = False, **kwargs) -> ResNet:
    """torchvision's ``resnet18`` layout; ``pretrained`` is ignored (random weights)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)


def resnet34(pretrained: bool = False, **kwargs) -> ResNet:
    """torchvision's ``resnet34`` layout; ``pretrained`` is ignored (random weights)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], **kwargs)


def resnet50(pretrained: bool = False, **kwargs) -> ResNet:
    """torchvision's ``resnet50`` layout; ``pretrained`` is ignored (random weights)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


class DropPath(nn.Module):
    """Stochastic depth: in training, zero whole samples with probability ``drop_prob``
    and scale the kept ones by 1 / (1 - drop_prob); the identity in eval mode."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0], ) + (1, ) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """Truncated normal initialisation (timm's signature)."""
    return nn.init.trunc_normal_(tensor, mean=mean, std=std, a=a, b=b)


def _module(name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__doc__ = f'echoseg stand-in for {name} (echoseg.analysis.reference_stubs)'
    for key, value in attrs.items():
        setattr(mod, key, value)
    return mod


def stand_in_modules() -> dict:
    """``sys.modules`` entries: the stand-in packages, by import name."""
    models = _module('torchvision.models', resnet18=resnet18, resnet34=resnet34,
                     resnet50=resnet50, ResNet=ResNet)
    layers = _module('timm.models.layers', DropPath=DropPath, trunc_normal_=trunc_normal_)
    timm_models = _module('timm.models', layers=layers)
    return {
        'torchvision': _module('torchvision', models=models),
        'torchvision.models': models,
        'timm': _module('timm', models=timm_models),
        'timm.models': timm_models,
        'timm.models.layers': layers,
    }


@contextlib.contextmanager
def stand_ins() -> Iterator[dict]:
    """Install the stand-ins into ``sys.modules`` inside the block, restore afterwards."""
    new = stand_in_modules()
    saved = {name: sys.modules.get(name) for name in new}
    sys.modules.update(new)
    try:
        yield new
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
