"""echoseg's registries: children of mmseg's, scope ``echoseg``.

A config with ``default_scope='echoseg'`` finds echoseg's modules first and falls back to
mmseg's and MMEngine's for every stock type (``ResNetV1c``, ``FCNHead``, ``AdamW``,
``CheckpointHook`` ...). ``locations`` lets a registry import the modules that fill it the
first time it is searched, so ``import echoseg`` alone is enough.
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

SCOPE = 'echoseg'

RUNNERS = Registry('runner', parent=MMSEG_RUNNERS, scope=SCOPE)
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMSEG_RUNNER_CONSTRUCTORS, scope=SCOPE)
LOOPS = Registry('loop', parent=MMSEG_LOOPS, scope=SCOPE, locations=['echoseg.engine'])
HOOKS = Registry('hook', parent=MMSEG_HOOKS, scope=SCOPE, locations=['echoseg.engine'])
DATASETS = Registry(
    'dataset', parent=MMSEG_DATASETS, scope=SCOPE, locations=['echoseg.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMSEG_DATA_SAMPLERS, scope=SCOPE, locations=['echoseg.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMSEG_TRANSFORMS, scope=SCOPE,
    locations=['echoseg.datasets.transforms'])
MODELS = Registry('model', parent=MMSEG_MODELS, scope=SCOPE, locations=['echoseg.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMSEG_MODEL_WRAPPERS, scope=SCOPE, locations=['echoseg.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMSEG_WEIGHT_INITIALIZERS, scope=SCOPE,
    locations=['echoseg.models'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMSEG_OPTIMIZERS, scope=SCOPE, locations=['echoseg.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMSEG_OPTIM_WRAPPERS, scope=SCOPE, locations=['echoseg.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE,
    locations=['echoseg.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMSEG_PARAM_SCHEDULERS, scope=SCOPE,
    locations=['echoseg.engine'])
METRICS = Registry(
    'metric', parent=MMSEG_METRICS, scope=SCOPE, locations=['echoseg.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMSEG_EVALUATOR, scope=SCOPE, locations=['echoseg.evaluation'])
TASK_UTILS = Registry(
    'task util', parent=MMSEG_TASK_UTILS, scope=SCOPE, locations=['echoseg.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMSEG_VISUALIZERS, scope=SCOPE, locations=['echoseg.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMSEG_VISBACKENDS, scope=SCOPE, locations=['echoseg.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMSEG_LOG_PROCESSORS, scope=SCOPE,
    locations=['echoseg.visualization'])
INFERENCERS = Registry(
    'inferencer', parent=MMSEG_INFERENCERS, scope=SCOPE, locations=['echoseg.apis'])
