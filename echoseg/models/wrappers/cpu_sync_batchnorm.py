"""Synchronised batch norm for CPU processes (gloo), where torch's ``SyncBatchNorm`` refuses."""
import torch
import torch.distributed as torch_dist
from torch.nn.modules.batchnorm import _BatchNorm


class CPUSyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics span every process's batch, on CPU.

    torch's ``SyncBatchNorm`` raises "expected input tensor to be on GPU" on CPU input, and
    DDP refuses a CPU module that holds one. In training with a process group of more than
    one process, this layer computes the mean and the (biased) variance over the batches of
    all processes with two all-reduces through ``torch.distributed.nn`` (so gradients flow
    back across processes, as with torch's kernel), normalises with them and updates the
    running statistics (unbiased variance, as ``BatchNorm``). Otherwise (eval, a single
    process) it is plain batch norm. Parameters, buffers and state-dict keys are those of
    ``BatchNorm``/``SyncBatchNorm``, so checkpoints move freely between them.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:  # noqa: A002 (torch's name)
        if input.dim() < 2:
            raise ValueError(f'expected at least 2-D input (got {input.dim()}-D)')

    @staticmethod
    def _synchronised() -> bool:
        return (torch_dist.is_available() and torch_dist.is_initialized()
                and torch_dist.get_world_size() > 1)

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
        if not (self.training and self._synchronised()):
            return super().forward(input)
        from torch.distributed.nn.functional import all_reduce
        self._check_input_dim(input)
        channels = input.size(1)
        dims = [0] + list(range(2, input.dim()))
        shape = [1, channels] + [1] * (input.dim() - 2)
        count = torch.tensor([input.numel() / channels], dtype=input.dtype,
                             device=input.device)
        sums = all_reduce(torch.cat([input.sum(dims), count]))
        total = sums[-1]
        mean = sums[:channels] / total
        centred = input - mean.reshape(shape)
        var = all_reduce((centred * centred).sum(dims)) / total  # two passes: stable
        out = centred * torch.rsqrt(var + self.eps).reshape(shape)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                            else self.momentum)
                unbiased = var * (total / (total - 1).clamp(min=1))
                self.running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
                self.running_var.mul_(1 - momentum).add_(unbiased.detach(), alpha=momentum)
        return out


def convert_to_cpu_sync_batchnorm(model: torch.nn.Module) -> int:
    """Turn every ``torch.nn.SyncBatchNorm`` of ``model`` into :class:`CPUSyncBatchNorm` in
    place (same parameters and buffers); returns how many."""
    n = 0
    for module in model.modules():
        if isinstance(module, torch.nn.SyncBatchNorm):
            module.__class__ = CPUSyncBatchNorm
            n += 1
    return n
