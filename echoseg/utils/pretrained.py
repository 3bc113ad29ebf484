"""Pretrained (ImageNet) initial weights: where they come from, where they are cached, and
a check that a run can have them before it starts.

A config names them as MMEngine does, ``init_cfg=dict(type='Pretrained', checkpoint=C)``
(or ``model.pretrained=C``), and MMEngine loads them in ``init_weights`` through
``CheckpointLoader``. ``C`` is a local path, an http(s) URL or ``open-mmlab://NAME`` (a name
in MMEngine's model-zoo table, which gives the URL). A URL is downloaded once into
torch.hub's cache, ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints``),
the folder MMEngine's own loader uses. MMEngine's loaders for URLs unpickle with
``weights_only=False``; this module registers :func:`load_from_download` in their place
(same cache, a download time-out, loaded with ``weights_only=True`` by
:func:`echoseg.utils.checkpoint.load_local_checkpoint`).

The tools call :func:`prepare_pretrained` before they build the runner: a run that starts
from ``load_from`` or ``--resume`` drops the pretrained ``init_cfg`` (MMEngine initialises
the model and then loads the checkpoint over it, so nothing is downloaded for nothing);
any other run gets each checkpoint into the cache now, or stops with
:class:`PretrainedWeightsError` naming the weights, the cache and the ways forward.
"""
import hashlib
import logging
import os
import os.path as osp
import re
import urllib.request
from http.client import HTTPException
from importlib.util import find_spec
from typing import List, Optional, Tuple
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner.checkpoint import (CheckpointLoader, get_deprecated_model_names,
                                        get_external_models)

from .atomic_io import atomic_write
from .checkpoint import CheckpointError, load_local_checkpoint

#: torchvision's ImageNet ResNet-50 (``resnet50(pretrained=True)``, IMAGENET1K_V1), the
#: weights of PKEcho-Net's code and of the NCM-Net fork (``torchvision://resnet50``)
TORCHVISION_RESNET50 = 'https://download.pytorch.org/models/resnet50-0676ba61.pth'
#: OpenMMLab's ImageNet ResNet-50 V1c (deep stem), for ``ResNetV1c`` encoders
OPENMMLAB_RESNET50_V1C = 'open-mmlab://resnet50_v1c'
URL_PREFIXES = ('http://', 'https://')
ZOO_PREFIXES = ('open-mmlab://', 'openmmlab://')
DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is given up
DOCS = 'docs/getting_started.md, "ImageNet weights"'
#: a SHA-256 prefix in a checkpoint's file name (torch.hub's HASH_REGEX, 8 digits or more)
HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,})\.')


class PretrainedWeightsError(CheckpointError):
    """Pretrained weights a run needs cannot be had; the message says how to go on."""


def cache_dir() -> str:
    """The folder downloaded checkpoints are kept in (torch.hub's, MMEngine's)."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def resolve(checkpoint: str) -> Tuple[Optional[str], str]:
    """``(url, file)``: the URL a checkpoint name downloads from (None for a local path)
    and the local file MMEngine reads it from."""
    if checkpoint.startswith(ZOO_PREFIXES):
        name = checkpoint.split('://', 1)[1]
        name = get_deprecated_model_names().get(name, name)
        url = get_external_models().get(name)
        if url is None or not url.startswith(URL_PREFIXES):
            raise PretrainedWeightsError(
                f"{checkpoint}: not a download in MMEngine's model-zoo table "
                f"(mmengine/hub/openmmlab.json); name a local file or a URL instead")
        checkpoint = url
    if checkpoint.startswith(URL_PREFIXES):
        return checkpoint, osp.join(cache_dir(), osp.basename(urlparse(checkpoint).path))
    return None, osp.expanduser(checkpoint)


def _open_url(url: str, timeout: float):
    """The only network access of echoseg (tests replace it)."""
    request = urllib.request.Request(url, headers={'User-Agent': 'echoseg'})
    return urllib.request.urlopen(request, timeout=timeout)


def name_hash(path: str) -> Optional[str]:
    """The SHA-256 prefix a checkpoint's file name carries (``resnet50-0676ba61.pth``:
    ``0676ba61``; torchvision's and OpenMMLab's convention, which torch.hub checks), or
    None when the name carries none (at least 8 hexadecimal digits after the last ``-``)."""
    match = HASH_IN_NAME.search(osp.basename(path))
    return match.group(1) if match else None


def download(url: str, path: str, timeout: float = DOWNLOAD_TIMEOUT) -> str:
    """Download ``url`` to ``path``: complete and, when the file name carries a SHA-256
    prefix (:func:`name_hash`), matching it, or not at all (atomic write)."""
    print_log(f'downloading {url} to {path}', logger='current')
    with _open_url(url, timeout) as response:
        expected = response.headers.get('Content-Length')
        data = response.read()
    if expected is not None and len(data) != int(expected):
        raise OSError(f'incomplete download: {len(data)} of {expected} bytes')
    prefix = name_hash(path)
    if prefix is not None:
        digest = hashlib.sha256(data).hexdigest()
        if not digest.startswith(prefix):
            raise OSError(f'corrupt download: its SHA-256 {digest[:16]}... does not start '
                          f'with the {prefix} its name promises')
    return atomic_write(path, data)


def unavailable_message(checkpoint: str, key: Optional[str], problem: str,
                        source: str = '') -> str:
    """The error text for pretrained weights a run cannot have: what, where, ways forward
    (``key``: the dotted config key that names them, when known)."""
    url, path = resolve(checkpoint)
    name = osp.basename(path)
    what = checkpoint if url in (None, checkpoint) else f'{checkpoint} ({url})'
    prefix = f'{source}: ' if source else ''
    if key is None:  # loaded by MMEngine (init_weights, load_from): no config key known
        lines = [f'{prefix}cannot load {what}: {problem}. Ways forward:']
        local = f"name a local copy instead (checkpoint='/path/to/{name}' in the config)"
        scratch = None
    else:
        init_key = key[:-len('.checkpoint')] if key.endswith('.checkpoint') else key
        lines = [f'{prefix}cannot load the pretrained weights of {init_key}, {what}: '
                 f'{problem}. Training has not started. Ways forward:']
        local = f'give a local copy: --cfg-options {key}=/path/to/{name}'
        scratch = ("train from scratch, without pretrained weights (far from the papers' "
                   f'figures): --cfg-options {init_key}=None')
    if url is not None:
        lines.append(f'  - download {url} on a machine with internet and copy it to '
                     f'{path} (the cache torch.hub and MMEngine read; $TORCH_HOME moves it)')
    lines.append(f'  - or {local}')
    if scratch:
        lines.append(f'  - or {scratch}')
    lines.append(f'  See {DOCS}.')
    return '\n'.join(lines)


def fetch(checkpoint: str, key: Optional[str] = None, source: str = '',
          allow_download: bool = True) -> Optional[str]:
    """The local file of a checkpoint name: a local path that exists, or the cached
    download (downloaded now when missing and ``allow_download``; None when missing and
    not allowed). Raises :class:`PretrainedWeightsError` when it cannot be had."""
    url, path = resolve(checkpoint)
    if osp.isfile(path):
        return path
    if url is None:
        raise PretrainedWeightsError(unavailable_message(checkpoint, key, 'file not found',
                                                         source))
    if not allow_download:
        return None
    try:
        return download(url, path)
    except (OSError, ValueError, HTTPException) as exc:  # URLError, timeouts: OSError
        problem = f'not in the cache ({path}) and the download failed ({exc})'
        raise PretrainedWeightsError(unavailable_message(checkpoint, key, problem,
                                                         source)) from None


def load_from_download(filename: str, map_location=None):
    """``CheckpointLoader`` scheme for URLs and ``open-mmlab://``: the cached file
    (downloaded first by global rank 0, as MMEngine does), loaded with
    ``weights_only=True``."""
    rank, world_size = get_dist_info()
    path = fetch(filename) if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = fetch(filename)
    return load_local_checkpoint(path, map_location=map_location)


def register_download_loader() -> None:
    """Make MMEngine load URLs and ``open-mmlab://`` names through
    :func:`load_from_download`."""
    CheckpointLoader.register_scheme(prefixes=URL_PREFIXES + ZOO_PREFIXES, force=True)(
        load_from_download)


register_download_loader()


def _is_pretrained(init_cfg) -> bool:
    return isinstance(init_cfg, dict) and str(init_cfg.get('type', '')).split('.')[-1] \
        == 'Pretrained' and bool(init_cfg.get('checkpoint'))


def _init_cfgs(node, key: str):
    """(dotted key, parent, field) of every ``init_cfg`` in a model config."""
    if isinstance(node, dict):
        for field, value in node.items():
            if field == 'init_cfg':
                yield f'{key}.init_cfg', node, field
            else:
                yield from _init_cfgs(value, f'{key}.{field}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _init_cfgs(value, f'{key}.{i}')


def pretrained_checkpoints(model_cfg: dict, key: str = 'model') -> List[Tuple[str, str]]:
    """``(dotted key, checkpoint)`` of every ``Pretrained`` init in a model config; a
    ``pretrained=C`` of the model replaces its backbone's ``init_cfg`` (as the segmentors
    do)."""
    found = []
    pretrained = model_cfg.get('pretrained') if isinstance(model_cfg, dict) else None
    if pretrained:
        found.append((f'{key}.pretrained', pretrained))
    for init_key, parent, field in _init_cfgs(model_cfg, key):
        if pretrained and init_key == f'{key}.backbone.init_cfg':
            continue
        items = parent[field] if isinstance(parent[field], (list, tuple)) else [parent[field]]
        for i, item in enumerate(items):
            if _is_pretrained(item):
                where = init_key if isinstance(parent[field], dict) else f'{init_key}.{i}'
                found.append((f'{where}.checkpoint', item['checkpoint']))
    return found


def drop_pretrained(model_cfg: dict, key: str = 'model') -> List[str]:
    """Remove every ``Pretrained`` init (and ``pretrained=C``) from a model config, in
    place; the dotted keys removed."""
    dropped = []
    if isinstance(model_cfg, dict) and model_cfg.get('pretrained'):
        model_cfg['pretrained'] = None
        dropped.append(f'{key}.pretrained')
    for init_key, parent, field in list(_init_cfgs(model_cfg, key)):
        value = parent[field]
        if _is_pretrained(value):
            parent[field] = None
            dropped.append(init_key)
        elif isinstance(value, (list, tuple)) and any(_is_pretrained(v) for v in value):
            kept = [v for v in value if not _is_pretrained(v)]
            parent[field] = kept or None
            dropped.append(init_key)
    return dropped


def starts_from_checkpoint(cfg) -> bool:
    """Whether the runner will load ``load_from`` or resume (MMEngine's
    ``Runner.load_or_resume``: ``resume`` without ``load_from`` resumes the work dir's
    ``last_checkpoint`` when there is one)."""
    if cfg.get('load_from'):
        return True
    if not cfg.get('resume'):
        return False
    last = osp.join(cfg.get('work_dir') or '', 'last_checkpoint')
    if not osp.isfile(last):
        return False
    with open(last) as f:
        return bool(f.read().strip())


def prepare_pretrained(cfg, source: str = '', starts_from: Optional[bool] = None) -> None:
    """Before a training run is built: drop the pretrained inits of a run that starts
    from a checkpoint (``starts_from``, by default :func:`starts_from_checkpoint`);
    otherwise have every pretrained checkpoint on disk, or raise
    :class:`PretrainedWeightsError`.

    Only the first process of a machine downloads (``LOCAL_RANK`` 0); the others leave a
    missing file to :func:`load_from_download`, which waits for global rank 0.
    """
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    if starts_from is None:
        starts_from = starts_from_checkpoint(cfg)
    if starts_from:
        dropped = drop_pretrained(model)
        if dropped:
            print_log(f'{", ".join(dropped)}: not loaded, the run starts from a checkpoint '
                      '(load_from / --resume) that replaces these weights',
                      logger='current', level=logging.INFO)
        return
    allow_download = os.environ.get('LOCAL_RANK', '0') == '0'
    for key, checkpoint in pretrained_checkpoints(model):
        if checkpoint.startswith('torchvision://') and find_spec('torchvision') is None:
            raise PretrainedWeightsError(
                f"{source + ': ' if source else ''}{key} = '{checkpoint}' needs torchvision, "
                'which is not installed; name the weights by their download URL instead '
                f'(ResNet-50: {key}={TORCHVISION_RESNET50}); see {DOCS}')
        if checkpoint.startswith(URL_PREFIXES + ZOO_PREFIXES) or '://' not in checkpoint:
            fetch(checkpoint, key, source, allow_download)
