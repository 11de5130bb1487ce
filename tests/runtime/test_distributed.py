"""Collectives run on the backend's device: gloo gets CPU tensors, nccl CUDA ones (the CPU part of
the nccl path: the helpers move tensors to CUDA before the collective; `bench/gpu_check.sh` runs it
for real on a GPU)."""
import pytest
import torch

from bootdrift_avalanche.runtime import distributed as D


class _FakeGroup:
    """Two ranks of a process group, seen from rank 0: all_gather returns rank r's data as r*10+x."""

    def __init__(self, backend):
        self.backend = backend
        self.devices = []

    def install(self, monkeypatch):
        monkeypatch.setattr(D, "is_distributed", lambda: True)
        monkeypatch.setattr(D, "world_size", lambda: 2)
        monkeypatch.setattr(D, "rank", lambda: 0)
        monkeypatch.setattr(D.dist, "get_backend", lambda *a, **k: self.backend)
        monkeypatch.setattr(D.dist, "all_gather", self.all_gather)

    def all_gather(self, bufs, t):
        self.devices += [t.device] + [b.device for b in bufs]
        for r, b in enumerate(bufs):
            b.copy_(t + 10 * r)


def test_gloo_gathers_on_the_cpu_in_the_original_order(monkeypatch):
    g = _FakeGroup("gloo")
    g.install(monkeypatch)
    assert D.collective_device() == torch.device("cpu")
    part = torch.tensor([0.0, 2.0, 4.0])  # rank 0's share x[0::2] of 5 rows
    out = D.gather_in_order(part, 5)
    assert out.tolist() == [0.0, 10.0, 2.0, 12.0, 4.0]
    assert g.devices and all(d.type == "cpu" for d in g.devices)


def test_nccl_moves_tensors_to_this_ranks_cuda_device(monkeypatch):
    g = _FakeGroup("nccl")
    g.install(monkeypatch)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert D.collective_device() == torch.device("cuda", 1)
    if torch.cuda.is_available():
        pytest.skip("a real GPU is here: bench/gpu_check.sh covers nccl end to end")
    # Without a GPU the move itself must fail: proof that no CPU tensor reaches the collective.
    with pytest.raises((RuntimeError, AssertionError), match="(?i)cuda|nvidia|driver|torch not compiled"):
        D.gather_in_order(torch.zeros(3), 5)
    assert g.devices == []  # the collective was never called with a CPU tensor


def test_outside_a_distributed_run_nothing_moves():
    x = torch.arange(4.0)
    assert D.gather_in_order(x, 4) is x
    assert D.collective_device() == torch.device("cpu")
