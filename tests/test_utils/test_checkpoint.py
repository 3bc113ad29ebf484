"""Checkpoints load with weights_only=True; planted code is refused, corrupt files named."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from echoseg.utils.checkpoint import (CheckpointError, load_local_checkpoint,
                                      message_hub_from_plain, message_hub_to_plain, to_plain)


class _Planted:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_to_plain_converts_numpy_and_history_buffers():
    hub = MessageHub('ckpt-test')
    for v in (1.0, 2.0, 4.0):
        hub.update_scalar('train/loss', v)
    hub.update_info('iter', 3)
    hub.update_info('arr', np.arange(3))
    plain = message_hub_to_plain(hub.state_dict())
    # every leaf is plain data: a weights_only round trip works
    buf = __import__('io').BytesIO()
    torch.save(plain, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    rebuilt = message_hub_from_plain(loaded)
    restored = MessageHub('ckpt-test-2')
    restored.load_state_dict(rebuilt)
    scalar = restored.get_scalar('train/loss')
    assert isinstance(scalar, HistoryBuffer)
    assert scalar.mean() == pytest.approx(7.0 / 3) and scalar.current() == 4.0
    assert restored.get_info('iter') == 3
    assert torch.equal(restored.get_info('arr'), torch.arange(3))


def test_unknown_objects_are_dropped_not_pickled():
    out = to_plain(dict(a=1, obj=object(), nested=OrderedDict(x=np.float32(2.5)),
                        eta=np.float64(3.0), n=np.int64(4)))
    assert out['obj'] is None and out['nested']['x'] == 2.5 and out['a'] == 1
    # numpy scalars (np.float64 subclasses float!) become Python numbers
    assert type(out['eta']) is float and type(out['n']) is int


def test_planted_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    ckpt = tmp_path / 'evil.pth'
    with open(ckpt, 'wb') as f:
        torch.save({'state_dict': {}, 'meta': _Planted(str(marker))}, f)
    with pytest.raises(CheckpointError, match='evil.pth: refused to load'):
        load_local_checkpoint(str(ckpt))
    # the same through MMEngine's loader (used by load_from / resume / Pretrained init)
    with pytest.raises(CheckpointError, match='refused'):
        _load_checkpoint(str(ckpt), map_location='cpu')
    assert not marker.exists()


def test_mmengine_local_scheme_is_the_safe_loader():
    assert CheckpointLoader._schemes[''] is load_local_checkpoint


def test_corrupt_and_missing_files_are_named(tmp_path):
    bad = tmp_path / 'broken.pth'
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, good)
    bad.write_bytes(good.read_bytes()[:40])
    with pytest.raises(CheckpointError, match='broken.pth: not a readable PyTorch checkpoint'):
        load_local_checkpoint(str(bad))
    # bytes that are no checkpoint at all (torch raises KeyError / IndexError on them)
    for i, junk in enumerate((b'junk\n', b'this is not a torch file')):
        text = tmp_path / f'text{i}.pth'
        text.write_bytes(junk)
        with pytest.raises(CheckpointError,
                           match=f'text{i}.pth: not a readable PyTorch checkpoint'):
            load_local_checkpoint(str(text))
    with pytest.raises(CheckpointError, match='nothere.pth: checkpoint file not found'):
        load_local_checkpoint(str(tmp_path / 'nothere.pth'))
    assert torch.equal(load_local_checkpoint(str(good))['state_dict']['w'], torch.ones(3))


def test_plain_pickle_protocol_not_needed(tmp_path):
    # a plain-data checkpoint saved with the legacy (non-zip) format also loads safely
    path = tmp_path / 'legacy.pth'
    torch.save({'a': torch.zeros(2)}, path, _use_new_zipfile_serialization=False)
    assert load_local_checkpoint(str(path))['a'].shape == (2, )
    assert pickle.HIGHEST_PROTOCOL >= 2 and os.path.getsize(path) > 0
