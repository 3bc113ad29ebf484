"""Pretrained (ImageNet) weights: loaded through MMEngine's init_cfg, cached, checked before
a run starts, skipped when a run starts from a checkpoint. Nothing here uses the network:
checkpoints are files the tests write in torchvision's (and OpenMMLab's V1c) layout, the
cache is a temporary folder, downloads come from a server on 127.0.0.1 or fail on purpose.
"""
import copy
import functools
import hashlib
import http.server
import os
import os.path as osp
import threading
import urllib.error
from collections import OrderedDict

import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.cli import load_config, train_main
from echoseg.registry import MODELS
from echoseg.utils import pretrained
from echoseg.utils.pretrained import (OPENMMLAB_RESNET50_V1C, TORCHVISION_RESNET50,
                                      PretrainedWeightsError, drop_pretrained,
                                      prepare_pretrained, pretrained_checkpoints)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
BLOCKS = (3, 4, 6, 3)  # ResNet-50


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty torch.hub cache ($TORCH_HOME/hub/checkpoints)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    folder = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    assert pretrained.cache_dir() == str(folder)
    return folder


@pytest.fixture
def offline(monkeypatch):
    """Every download fails as on a machine without internet; the URLs tried are listed."""
    tried = []

    def refuse(url, timeout):
        tried.append(url)
        raise urllib.error.URLError('[Errno -3] Temporary failure in name resolution')

    monkeypatch.setattr(pretrained, '_open_url', refuse)
    return tried


def resnet50_shapes(width: int = 64, deep_stem: bool = False) -> OrderedDict:
    """Parameter and buffer shapes of a ResNet-50 under torchvision's names (``deep_stem``:
    OpenMMLab's V1c stem ``stem.0-7`` instead of ``conv1``/``bn1``), written out from the
    architecture (7x7 or three 3x3 stem convs, bottlenecks 1x1-3x3-1x1 with expansion 4, a
    1x1 downsample on the first block of each stage, a 1000-way ``fc``)."""
    shapes = OrderedDict()

    def conv(name, cin, cout, k):
        shapes[f'{name}.weight'] = (cout, cin, k, k)

    def bn(name, c):
        for field in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{name}.{field}'] = (c, )
        shapes[f'{name}.num_batches_tracked'] = ()

    if deep_stem:
        conv('stem.0', 3, width // 2, 3), bn('stem.1', width // 2)
        conv('stem.3', width // 2, width // 2, 3), bn('stem.4', width // 2)
        conv('stem.6', width // 2, width, 3), bn('stem.7', width)
    else:
        conv('conv1', 3, width, 7), bn('bn1', width)
    cin = width
    for stage, blocks in enumerate(BLOCKS):
        planes = width * 2**stage
        for block in range(blocks):
            name = f'layer{stage + 1}.{block}'
            conv(f'{name}.conv1', cin, planes, 1), bn(f'{name}.bn1', planes)
            conv(f'{name}.conv2', planes, planes, 3), bn(f'{name}.bn2', planes)
            conv(f'{name}.conv3', planes, planes * 4, 1), bn(f'{name}.bn3', planes * 4)
            if block == 0:
                conv(f'{name}.downsample.0', cin, planes * 4, 1)
                bn(f'{name}.downsample.1', planes * 4)
            cin = planes * 4
    shapes['fc.weight'], shapes['fc.bias'] = (1000, cin), (1000, )
    return shapes


def write_resnet50(path, width: int = 8, deep_stem: bool = False, seed: int = 0) -> dict:
    """A plain state dict (the format of torchvision's and OpenMMLab's files) of random
    values, saved to ``path``; returned."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for name, shape in resnet50_shapes(width, deep_stem).items():
        if name.endswith('num_batches_tracked'):
            state[name] = torch.tensor(seed + 3)
        elif name.endswith('running_var'):
            state[name] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[name] = torch.randn(shape, generator=gen)
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    torch.save(state, str(path))
    return state


def assert_backbone_holds(backbone, state):
    own = backbone.state_dict()
    loaded = {k: v for k, v in state.items() if not k.startswith('fc.')}
    assert set(own) == set(loaded)  # every weight of the backbone comes from the file
    for name, value in loaded.items():
        assert torch.equal(own[name], value), name


def tiny_backbone_cfg(config: str, checkpoint: str) -> dict:
    """The backbone of a paper config, 8 channels wide, with the config's init_cfg pointed
    at ``checkpoint``."""
    backbone = copy.deepcopy(load_config(osp.join(CONFIGS, config)).model.backbone)
    assert backbone.init_cfg.type == 'Pretrained'
    backbone.init_cfg.checkpoint = checkpoint
    backbone.update(base_channels=8, stem_channels=8)
    return backbone


# ----------------------------------------------------------------------- loading through init_cfg
def test_torchvision_file_loads_into_the_backbone_through_init_cfg(tmp_path):
    path = str(tmp_path / 'resnet50-tiny.pth')
    state = write_resnet50(path)
    backbone = MODELS.build(tiny_backbone_cfg('pkechonet/r50_camus.py', path))
    assert not torch.equal(backbone.conv1.weight, state['conv1.weight'])
    backbone.init_weights()
    assert_backbone_holds(backbone, state)


def test_url_is_downloaded_into_the_cache_once_and_loads(tmp_path, cache):
    served = tmp_path / 'served'
    state = write_resnet50(served / 'resnet50.pth', seed=1)
    # named as torchvision names its files: the SHA-256 prefix, which the download checks
    name = f"resnet50-{hashlib.sha256((served / 'resnet50.pth').read_bytes()).hexdigest()[:8]}.pth"
    os.rename(served / 'resnet50.pth', served / name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f'http://127.0.0.1:{server.server_address[1]}/{name}'
    try:
        cfg = load_config(osp.join(CONFIGS, 'pkechonet', 'r50_echonet.py'))
        cfg.model.backbone.update(init_cfg=dict(type='Pretrained', checkpoint=url),
                                  base_channels=8, stem_channels=8)
        prepare_pretrained(cfg, 'pkechonet/r50_echonet.py')  # downloads now
    finally:
        server.shutdown()
        server.server_close()
    cached = cache / name
    assert cached.is_file() and [p.name for p in cache.iterdir()] == [cached.name]
    # the whole model, as the runner builds it; its backbone's init_cfg reads the cache
    # (the server is gone: a second download would fail)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    assert_backbone_holds(model.backbone, state)


def test_open_mmlab_v1c_name_loads_from_the_cache(cache):
    state = write_resnet50(cache / 'resnet50_v1c-2cccc1ad.pth', deep_stem=True, seed=2)
    backbone_cfg = tiny_backbone_cfg('echoforge/r50_camus.py', OPENMMLAB_RESNET50_V1C)
    assert backbone_cfg.type == 'ResNetV1c'
    backbone = MODELS.build(backbone_cfg)
    backbone.init_weights()  # the cached file: no download (conftest refuses one)
    assert_backbone_holds(backbone, state)


def test_downloaded_checkpoint_with_code_is_refused(cache):
    os.makedirs(str(cache))
    torch.save(dict(w=print), str(cache / 'evil-00000000.pth'))  # pickles a function
    backbone = MODELS.build(dict(type='ResNet', depth=50, base_channels=8, stem_channels=8,
                                 init_cfg=dict(type='Pretrained',
                                               checkpoint='https://x.org/evil-00000000.pth')))
    with pytest.raises(pretrained.CheckpointError, match='refused to load'):
        backbone.init_weights()


# ------------------------------------------------------------------------- offline / missing
def test_offline_train_stops_before_the_runner_with_the_ways_forward(tmp_path, cache, offline,
                                                                      capsys):
    work_dir = tmp_path / 'work'
    with pytest.raises(SystemExit) as exc:
        train_main([osp.join(CONFIGS, 'echoforge', 'r50_camus.py'), '--work-dir',
                    str(work_dir), '--cfg-options',
                    f'train_dataloader.dataset.data_root={tmp_path / "none"}'])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    file = cache / 'resnet50_v1c-2cccc1ad.pth'
    assert len(offline) == 1 and offline[0].endswith('/resnet50_v1c-2cccc1ad.pth')
    assert 'open-mmlab://resnet50_v1c' in err and offline[0] in err
    assert f'copy it to {file}' in err
    assert ('--cfg-options model.backbone.init_cfg.checkpoint=/path/to/'
            'resnet50_v1c-2cccc1ad.pth') in err
    assert '--cfg-options model.backbone.init_cfg=None' in err
    assert 'Temporary failure in name resolution' in err
    assert not cache.exists() or not list(cache.iterdir())  # no partial file left
    assert not work_dir.exists()  # no runner was built: no iteration ran


def test_init_weights_offline_names_the_file_and_cache(cache, offline):
    """Without the tools' check (a script of one's own), MMEngine's init_weights stops with
    the same kind of message."""
    backbone = MODELS.build(tiny_backbone_cfg('ncmnet/r50_camus.py', TORCHVISION_RESNET50))
    with pytest.raises(PretrainedWeightsError) as exc:
        backbone.init_weights()
    assert offline == [TORCHVISION_RESNET50]
    assert f'copy it to {cache / "resnet50-0676ba61.pth"}' in str(exc.value)


def test_missing_local_file_is_named(tmp_path, offline):
    cfg = load_config(osp.join(CONFIGS, 'pkechonet', 'r50_camus.py'))
    missing = str(tmp_path / 'no' / 'resnet50.pth')
    cfg.model.backbone.init_cfg.checkpoint = missing
    with pytest.raises(PretrainedWeightsError) as exc:
        prepare_pretrained(cfg, 'x.py')
    text = str(exc.value)
    assert text.startswith(f'x.py: cannot load the pretrained weights of '
                           f'model.backbone.init_cfg, {missing}: file not found')
    assert 'model.backbone.init_cfg=None' in text and not offline


def test_scratch_option_skips_the_weights(tmp_path, offline, capsys):
    """``--cfg-options model.backbone.init_cfg=None``: no check, no download; the run goes
    on to its next check (the data)."""
    with pytest.raises(SystemExit):
        train_main([osp.join(CONFIGS, 'ncmnet', 'r50_camus.py'), '--work-dir',
                    str(tmp_path / 'w'), '--cfg-options', 'model.backbone.init_cfg=None',
                    f'train_dataloader.dataset.data_root={tmp_path / "none"}'])
    err = capsys.readouterr().err
    assert 'does not exist' in err and 'pretrained weights' not in err and not offline
    cfg = load_config(osp.join(CONFIGS, 'ncmnet', 'r50_camus.py'),
                      {'model.backbone.init_cfg': None})
    assert pretrained_checkpoints(cfg.model) == []
    assert MODELS.build(cfg.model.backbone).init_cfg[0]['type'] == 'Kaiming'  # mmseg's own


def test_torchvision_scheme_without_torchvision_names_the_url(monkeypatch, offline):
    monkeypatch.setattr(pretrained, 'find_spec', lambda name: None)
    cfg = load_config(osp.join(CONFIGS, 'ncmnet', 'r50_camus.py'))
    cfg.model.backbone.init_cfg.checkpoint = 'torchvision://resnet50'
    with pytest.raises(PretrainedWeightsError, match='needs torchvision') as exc:
        prepare_pretrained(cfg)
    assert TORCHVISION_RESNET50 in str(exc.value) and not offline


# --------------------------------------------------------------------- load_from / resume
def test_load_from_drops_the_imagenet_init_without_a_download(offline):
    cfg = load_config(osp.join(CONFIGS, 'pkechonet', 'r50_camus.py'))
    cfg.load_from = '/somewhere/synthetic_pretrained.pth'
    prepare_pretrained(cfg)
    assert cfg.model.backbone.init_cfg is None and not offline


@pytest.mark.parametrize('saved', [True, False])
def test_resume_drops_it_only_when_there_is_a_checkpoint_to_resume(saved, tmp_path, cache,
                                                                   offline):
    cfg = load_config(osp.join(CONFIGS, 'ncmnet', 'r50_echonet.py'), work_dir=str(tmp_path))
    cfg.resume, cfg.load_from = True, None
    if saved:
        (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
        prepare_pretrained(cfg)
        assert cfg.model.backbone.init_cfg is None and not offline
    else:  # --resume with nothing to resume starts from the initial weights: ImageNet
        with pytest.raises(PretrainedWeightsError):
            prepare_pretrained(cfg)
        assert offline == [TORCHVISION_RESNET50]


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_train_with_a_checkpoint_skips_the_download(how, tmp_path, offline, capsys):
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict={}), ckpt)
    options = [f'train_dataloader.dataset.data_root={ckpt}.d']
    args = [osp.join(CONFIGS, 'echoforge', 'r50_echonet.py'), '--work-dir', str(tmp_path)]
    if how == 'resume':
        args += ['--resume', ckpt]
    else:
        options.append(f'load_from={ckpt}')
    with pytest.raises(SystemExit):
        train_main(args + ['--cfg-options'] + options)
    err = capsys.readouterr().err
    assert 'does not exist' in err and 'pretrained weights' not in err and not offline


# ---------------------------------------------------------------------------- the helpers
def test_pretrained_checkpoints_and_drop_cover_lists_and_model_pretrained():
    model = dict(type='EchoVideoSegmentor', pretrained='/a.pth',
                 backbone=dict(type='ResNet', init_cfg=dict(type='Pretrained',
                                                            checkpoint='/ignored.pth')),
                 neck=dict(type='X', init_cfg=[dict(type='Kaiming', layer='Conv2d'),
                                               dict(type='Pretrained', checkpoint='/n.pth')]))
    assert pretrained_checkpoints(model) == [('model.pretrained', '/a.pth'),
                                             ('model.neck.init_cfg.1.checkpoint', '/n.pth')]
    dropped = drop_pretrained(model)
    assert dropped == ['model.pretrained', 'model.backbone.init_cfg', 'model.neck.init_cfg']
    assert model['pretrained'] is None and model['backbone']['init_cfg'] is None
    assert model['neck']['init_cfg'] == [dict(type='Kaiming', layer='Conv2d')]
    assert pretrained_checkpoints(model) == []


def test_incomplete_download_leaves_nothing(cache, monkeypatch):
    class Short:
        headers = {'Content-Length': '10'}

        def read(self):
            return b'12345'

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(pretrained, '_open_url', lambda url, timeout: Short())
    with pytest.raises(PretrainedWeightsError, match='incomplete download: 5 of 10 bytes'):
        pretrained.fetch('https://x.org/w-1234.pth')
    assert not cache.exists() or not list(cache.iterdir())


def test_download_whose_content_does_not_match_its_name_hash_leaves_nothing(cache,
                                                                          monkeypatch):
    payload = b'not the weights'

    class Served:
        headers = {'Content-Length': str(len(payload))}

        def read(self):
            return payload

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(pretrained, '_open_url', lambda url, timeout: Served())
    assert pretrained.name_hash('resnet50-0676ba61.pth') == '0676ba61'
    assert pretrained.name_hash('w-1234.pth') is None      # too short to be a hash
    assert pretrained.name_hash('resnet50_v1c.pth') is None
    with pytest.raises(PretrainedWeightsError, match='corrupt download: its SHA-256 .* does '
                                                      'not start with the 0676ba61'):
        pretrained.fetch('https://x.org/resnet50-0676ba61.pth')
    assert not cache.exists() or not list(cache.iterdir())
    # the same bytes under the name of their own hash are kept
    good = f'w-{hashlib.sha256(payload).hexdigest()[:8]}.pth'
    assert pretrained.fetch(f'https://x.org/{good}') == str(cache / good)
    assert (cache / good).read_bytes() == payload


# ---------------------------------------------------------------------------- the paper configs
@pytest.mark.parametrize('config,deep_stem', [
    ('echoforge/r50_camus.py', True), ('echoforge/r50_echonet.py', True),
    ('pkechonet/r50_camus.py', False), ('ncmnet/r50_echonet.py', False)])
def test_paper_backbones_have_the_files_names_and_shapes(config, deep_stem):
    """A full-size backbone of each paper config takes every tensor of its weights file
    (V1c for EchoForge, torchvision's for the others) with the same shape; only ``fc``
    is left over."""
    backbone = MODELS.build(load_config(osp.join(CONFIGS, config)).model.backbone)
    own = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    expected = {k: v for k, v in resnet50_shapes(64, deep_stem).items()
                if not k.startswith('fc.')}
    assert own == expected
