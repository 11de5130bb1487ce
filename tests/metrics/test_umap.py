"""UMAP figure: structure (with a fast stand-in reducer) and one real umap-learn run in a subprocess
with numba's JIT disabled (compiling umap's kernels costs ~40 s; interpreted, tiny sets take ~1 s)."""
import json
import os
import subprocess
import sys
import textwrap
from io import BytesIO

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from bootdrift_avalanche.metrics import umap_figure


def _pca2(x):
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    return xc @ vt[:2].T


def _sets(n_classes=3, n=8, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n * n_classes) % n_classes
    x = torch.randn(len(y), d, generator=g) + y[:, None].float()
    return x, y


def test_figure_structure_with_a_stand_in_reducer():
    xr, yr = _sets(seed=0)
    xs, ys = _sets(seed=1)
    fig = umap_figure(xr, yr, xs[:10], ys[:10], title="Exp 2", reducer=_pca2)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title() == "Exp 2"
    real, syn = ax.collections
    assert len(real.get_offsets()) == 24 and len(syn.get_offsets()) == 10
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["real", "synthetic", "class 0", "class 1", "class 2"]
    colours = real.get_facecolors()
    assert not np.allclose(colours[0], colours[1])  # colour = class
    fig.savefig(BytesIO(), format="png")  # renders without pyplot


def test_many_classes_get_a_colour_bar():
    xr, yr = _sets(n_classes=25, n=2)
    fig = umap_figure(xr, yr, xr, yr, reducer=_pca2)
    assert len(fig.axes) == 2  # plot + colour bar


def test_errors():
    xr, yr = _sets()
    with pytest.raises(ValueError, match="feature dimensions differ"):
        umap_figure(xr, yr, xr[:, :3], yr, reducer=_pca2)
    with pytest.raises(ValueError, match="reducer must return"):
        umap_figure(xr, yr, xr, yr, reducer=lambda f: f[:, :3])
    with pytest.raises(ValueError, match="at least 3 points"):
        umap_figure(xr[:1], yr[:1], xr[:1], yr[:1])


def test_real_umap_is_seeded_and_works_for_tiny_sets():
    script = textwrap.dedent(
        """
        import json, warnings
        import numpy as np, torch
        warnings.simplefilter("ignore")
        from bootdrift_avalanche.metrics import umap_figure
        from bootdrift_avalanche.metrics.umap import umap_embedding
        g = torch.Generator().manual_seed(0)
        x = torch.randn(14, 4, generator=g)
        y = torch.arange(14) % 2
        fig = umap_figure(x[:7], y[:7], x[7:], y[7:], seed=3, n_epochs=30)
        e1 = umap_embedding(x.numpy(), seed=3, n_epochs=30)
        e2 = umap_embedding(x.numpy(), seed=3, n_epochs=30)
        tiny = umap_embedding(x[:4].numpy(), seed=0, n_epochs=10)
        print(json.dumps({"axes": len(fig.axes), "same": bool(np.array_equal(e1, e2)),
                          "shape": list(e1.shape), "tiny": list(tiny.shape)}))
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res == {"axes": 1, "same": True, "shape": [14, 2], "tiny": [4, 2]}
