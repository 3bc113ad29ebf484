"""The echoseg registries resolve echoseg types and still every stock mmseg/MMEngine type."""
import pytest
from mmengine.registry import DefaultScope, init_default_scope

from echoseg import registry


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')
    yield


def test_children_of_mmseg_with_echoseg_scope():
    from mmseg.registry import MODELS as MMSEG_MODELS
    assert registry.MODELS.scope == 'echoseg'
    assert registry.MODELS.parent is MMSEG_MODELS
    assert DefaultScope.get_current_instance().scope_name == 'echoseg'


@pytest.mark.parametrize('reg,name', [
    ('MODELS', 'EchoVideoSegmentor'), ('MODELS', 'EchoDataPreprocessor'),
    ('TRANSFORMS', 'SampleClipFrames'), ('HOOKS', 'PlainCheckpointHook'),
    # stock types found through the parents
    ('MODELS', 'ResNetV1c'), ('MODELS', 'FCNHead'), ('MODELS', 'FPN'), ('MODELS', 'UPerHead'),
    ('MODELS', 'MobileNetV2'), ('HOOKS', 'CheckpointHook'), ('OPTIMIZERS', 'AdamW'),
    ('PARAM_SCHEDULERS', 'PolyLR'), ('LOOPS', 'EpochBasedTrainLoop'),
    ('DATA_SAMPLERS', 'DefaultSampler'), ('VISUALIZERS', 'Visualizer'),
])
def test_resolves(reg, name):
    assert getattr(registry, reg).get(name) is not None, f'{reg} cannot find {name}'


def test_unknown_type_is_an_error():
    with pytest.raises(KeyError, match='NoSuchNeck'):
        registry.MODELS.build(dict(type='NoSuchNeck'))
