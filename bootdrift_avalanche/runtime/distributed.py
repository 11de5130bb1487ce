"""Multi-process training on torch's own distributed engine (``torchrun``), CPU (gloo) or GPU (nccl).
How it works, its cost and its choices: ``docs/DEVELOPMENT.md`` (implementation notes).
"""
from __future__ import annotations

import os
from typing import Optional

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """Whether a process group is up. Under ``torchrun`` that holds for one process too, so that
    ``torchrun --nproc_per_node=1`` runs the real collectives (DDP, all_gather) on one GPU: the
    cheapest end-to-end check of the nccl path (``bench/gpu_check.sh``)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def sharded() -> bool:
    """Whether work is split across several ranks (a process group of world size > 1). A
    one-process group (``torchrun --nproc_per_node=1``) keeps the single-process arithmetic."""
    return is_distributed() and world_size() > 1


def is_main_process() -> bool:
    return rank() == 0


def init_from_env(device: str = "cpu") -> bool:
    """Initialise the process group when started by ``torchrun`` (it sets ``WORLD_SIZE`` and
    ``MASTER_ADDR``, also for one process): gloo on CPU, nccl on CUDA. Returns whether this is a
    distributed run; a plain ``python`` start is not."""
    if "WORLD_SIZE" not in os.environ or "MASTER_ADDR" not in os.environ:
        return False
    if not dist.is_initialized():
        backend = "nccl" if str(device).startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def backend() -> Optional[str]:
    """The process group's backend (``"gloo"``, ``"nccl"``...), ``None`` outside a distributed run."""
    return dist.get_backend() if is_distributed() else None


def collective_device() -> torch.device:
    """Where tensors must live for a collective: this rank's CUDA device under nccl, else the CPU."""
    if backend() == "nccl":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def shard(x: Tensor) -> Tensor:
    """This rank's part ``x[rank::world]`` (the whole of ``x`` outside a distributed run)."""
    return x[rank()::world_size()] if is_distributed() else x


def gather_in_order(part: Tensor, total: int) -> Tensor:
    """Inverse of :func:`shard`: gather every rank's ``x[r::world]`` and interleave them back into
    the original order (``total`` rows). Every rank receives the full tensor."""
    if not is_distributed():
        return part
    w = world_size()
    parts = _all_gather_rows(part, [len(range(r, total, w)) for r in range(w)])
    out = torch.empty((total,) + tuple(part.shape[1:]), dtype=part.dtype, device=parts[0].device)
    for r in range(w):
        out[r::w] = parts[r]
    return out.to(part.device)


def all_reduce(x: Tensor, op=dist.ReduceOp.SUM) -> Tensor:
    """``x`` reduced over the ranks (sum by default; ``op=dist.ReduceOp.MAX`` for the maximum), on
    the caller's device; ``x`` itself is left as it was. Outside a distributed run: a copy of ``x``."""
    if not is_distributed():
        return x.clone()
    buf = x.to(collective_device(), copy=True)
    dist.all_reduce(buf, op=op)
    return buf.to(x.device)


def gather_rows(part: Tensor) -> Tensor:
    """Every rank's rows of ``part`` (any number per rank, also none) concatenated in rank order;
    every rank receives the result. Unlike :func:`gather_in_order` the parts need not be the
    strided shards of one tensor (e.g. the rows of one class of each rank's shard)."""
    if not is_distributed():
        return part
    return torch.cat(_all_gather_rows(part, _rank_sizes(len(part)))).to(part.device)


def _all_gather_rows(part: Tensor, sizes: list) -> list:
    """Every rank's ``part`` (rank r holds ``sizes[r]`` rows), in rank order, on the collective
    device: ``all_gather`` needs equal shapes, so each part travels zero-padded to the largest."""
    dev = collective_device()
    pad = torch.zeros((max(sizes),) + tuple(part.shape[1:]), dtype=part.dtype, device=dev)
    pad[: len(part)] = part.to(dev)
    bufs = [torch.empty_like(pad) for _ in sizes]
    dist.all_gather(bufs, pad)
    return [b[:k] for b, k in zip(bufs, sizes)]


def _rank_sizes(n: int) -> list:
    """The list of every rank's ``n``, in rank order."""
    mine = torch.zeros(world_size(), dtype=torch.int64, device=collective_device())
    mine[rank()] = n
    dist.all_reduce(mine)
    return mine.tolist()


def ranks_agree(module: torch.nn.Module) -> bool:
    """Whether every rank holds exactly the same parameters and buffers (all ranks must call)."""
    if not is_distributed():
        return True
    flat = torch.cat([t.detach().double().flatten().cpu() for t in module.state_dict().values()
                      if torch.is_tensor(t) and t.is_floating_point()])
    digest = torch.tensor([flat.sum().item(), (flat * flat).sum().item(), float(flat.numel())],
                          dtype=torch.float64, device=collective_device())
    parts = [torch.empty_like(digest) for _ in range(world_size())]
    dist.all_gather(parts, digest)
    same = all(torch.equal(parts[0], p) for p in parts[1:])
    return same


def maybe_ddp(module: torch.nn.Module, device: Optional[str] = None):
    """``DistributedDataParallel(module)`` in a distributed run, else ``module`` itself."""
    if not is_distributed():
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    dev = torch.device(device) if device is not None else next(module.parameters()).device
    ids = [dev.index] if dev.type == "cuda" else None
    return DDP(module, device_ids=ids)
