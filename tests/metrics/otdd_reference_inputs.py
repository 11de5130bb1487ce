"""Seeded 10-class Gaussian-mixture features: the inputs of the stored microsoft/otdd reference
values (``tests/metrics/data/otdd_reference.json``). The test and the script that produced the
reference values both import :func:`mixture`, so the inputs are bit-identical."""
import torch

CLASSES = 10


def mixture(n: int, d: int, *, seed: int, shift: float = 0.0) -> tuple:
    """``n`` float32 points in ``d`` dimensions, labels ``arange(n) % 10``: class k is centred at a
    fixed random centre (seed 12345) plus ``shift`` along a fixed direction (seed 777), with spread
    0.5 + 0.1·k (classes differ in shape too); points drawn from ``torch.Generator(seed)``."""
    centres = torch.randn(CLASSES, d, generator=torch.Generator().manual_seed(12345))
    direction = torch.randn(d, generator=torch.Generator().manual_seed(777))
    scales = 0.5 + 0.1 * torch.arange(CLASSES, dtype=torch.float32)
    y = torch.arange(n) % CLASSES
    noise = torch.randn(n, d, generator=torch.Generator().manual_seed(seed))
    x = centres[y] + shift * direction + scales[y, None] * noise
    return x.float(), y
