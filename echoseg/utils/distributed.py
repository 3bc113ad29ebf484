"""Starting the process group on machines without a GPU.

MMEngine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` for the ``pytorch``,
``slurm`` and ``mpi`` launchers whatever the backend, so on a CPU-only machine (or a CPU
build of torch) every distributed run stops with ``AttributeError: module 'torch._C' has no
attribute '_cuda_setDevice'``. :func:`init_distributed` starts the process group itself when
no GPU is visible (the same environment variables as MMEngine reads, no device selection);
``Runner.setup_env`` then finds the group initialised and leaves it alone. With a GPU it
does nothing and MMEngine starts the group (NCCL) as usual.
"""
import datetime
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def _slurm_env(port: Optional[int]) -> None:
    """RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT from Slurm's variables (as MMEngine
    derives them): the first host of the allocation is the rendezvous."""
    node_list = os.environ['SLURM_NODELIST']
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1').strip()
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def _mpi_env(port: Optional[int]) -> None:
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('--launcher mpi needs MASTER_ADDR in the environment')


def init_distributed(launcher: str, dist_cfg: Optional[dict] = None) -> bool:
    """Start the CPU process group for ``launcher`` when no GPU is visible.

    Args:
        launcher: ``'none'``, ``'pytorch'`` (torchrun), ``'slurm'`` (srun) or ``'mpi'``.
        dist_cfg: ``env_cfg.dist_cfg`` of the config (``backend``, ``timeout`` in seconds,
            ``port`` for Slurm/MPI); the backend is forced to gloo (NCCL needs a GPU).

    Returns:
        True when this call started the group; False when there is nothing to do (no
        launcher, a GPU is visible so MMEngine starts it, or it is already started).
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher must be one of {LAUNCHERS}, got {launcher!r}')
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    cfg = dict(dist_cfg or {})
    cfg.pop('backend', None)
    port = cfg.pop('port', None)
    timeout = cfg.pop('timeout', None)
    if timeout is not None:
        cfg['timeout'] = datetime.timedelta(seconds=timeout)
    if launcher == 'slurm':
        _slurm_env(port)
    elif launcher == 'mpi':
        _mpi_env(port)
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise KeyError(f'--launcher {launcher}: environment variable(s) {missing} not set; '
                       'start the tool with torchrun (tools/dist_train.sh), srun or mpirun')
    torch_dist.init_process_group(backend='gloo', init_method='env://',
                                  rank=int(os.environ['RANK']),
                                  world_size=int(os.environ['WORLD_SIZE']), **cfg)
    return True

