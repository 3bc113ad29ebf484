"""CPUSyncBatchNorm over two CPU processes (gloo) equals BatchNorm over their joint batch:
outputs, input and parameter gradients, running statistics."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from echoseg.models.wrappers import CPUSyncBatchNorm, convert_to_cpu_sync_batchnorm


def _port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, port, x, weight, bias, queue):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        bn = nn.SyncBatchNorm(x.shape[1])
        with torch.no_grad():
            bn.weight.copy_(weight)
            bn.bias.copy_(bias)
        assert convert_to_cpu_sync_batchnorm(bn) == 1
        part = x[rank * 3:(rank + 1) * 3].clone().requires_grad_(True)
        out = bn(part)
        # the joint objective is the mean of the two processes' losses, as DDP averages
        loss = (out * torch.arange(out.numel()).reshape(out.shape).float().sin()
                .roll(rank * 7)).sum()
        loss.backward()
        grads = torch.stack([bn.weight.grad, bn.bias.grad])
        dist.all_reduce(grads)
        # numpy arrays travel by value: tensors would be shared through file descriptors
        # that vanish when this process ends before the parent reads them
        queue.put((rank, out.detach().numpy(), part.grad.numpy(), (grads / 2).numpy(),
                   bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()))
    finally:
        dist.destroy_process_group()


def test_matches_batchnorm_over_the_joint_batch():
    torch.manual_seed(0)
    x = torch.randn(6, 4, 5, 5) * 3 + 1
    weight, bias = torch.rand(4) + 0.5, torch.randn(4)
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _port()
    procs = [ctx.Process(target=_worker, args=(r, port, x, weight, bias, queue))
             for r in range(2)]
    for p in procs:
        p.start()
    results = sorted([queue.get(timeout=120) for _ in procs], key=lambda r: r[0])
    results = [tuple(torch.from_numpy(v) if not isinstance(v, int) else v for v in r)
               for r in results]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    ref = nn.BatchNorm2d(4)
    with torch.no_grad():
        ref.weight.copy_(weight)
        ref.bias.copy_(bias)
    xr = x.clone().requires_grad_(True)
    out = ref(xr)
    loss = sum((out[r * 3:(r + 1) * 3] * torch.arange(out[:3].numel()).reshape(
        out[:3].shape).float().sin().roll(r * 7)).sum() for r in range(2)) / 2
    loss.backward()
    got_out = torch.cat([r[1] for r in results])
    got_grad = torch.cat([r[2] for r in results])
    assert torch.allclose(got_out, out.detach(), atol=1e-5)
    # each process's input gradient is of the sum of both losses; the mean halves it
    assert torch.allclose(got_grad / 2, xr.grad, atol=1e-5)
    assert torch.allclose(results[0][3][0], ref.weight.grad, atol=1e-4)
    assert torch.allclose(results[0][3][1], ref.bias.grad, atol=1e-4)
    for r in results:
        assert torch.allclose(r[4], ref.running_mean, atol=1e-6)
        assert torch.allclose(r[5], ref.running_var, atol=1e-5)


def test_single_process_and_eval_are_plain_batchnorm():
    bn = nn.SyncBatchNorm(3)
    convert_to_cpu_sync_batchnorm(bn)
    assert isinstance(bn, CPUSyncBatchNorm) and not isinstance(bn, nn.SyncBatchNorm)
    ref = nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 6, 6)
    assert torch.allclose(bn(x), ref(x), atol=1e-6)
    assert torch.allclose(bn.running_var, ref.running_var)
    bn.eval(), ref.eval()
    assert torch.allclose(bn(x), ref(x), atol=1e-6)
    assert set(bn.state_dict()) == set(ref.state_dict())
