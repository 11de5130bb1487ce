"""UMAP figure and fixed projection: structure (with PCA standing in for UMAP), a map that stays put
across figures, and one real umap-learn run in a subprocess with numba's JIT disabled (compiling
umap's kernels costs ~40 s; interpreted, tiny sets take a few seconds)."""
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
from sklearn.decomposition import PCA

from bootdrift_avalanche.metrics import umap_figure
from bootdrift_avalanche.metrics.umap import UMAPProjection


def _sets(n_classes=3, n=8, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n * n_classes) % n_classes
    x = torch.randn(len(y), d, generator=g) + y[:, None].float()
    return x, y


def test_figure_structure_filled_real_hollow_synthetic():
    xr, yr = _sets(seed=0)
    xs, ys = _sets(seed=1)
    fig = umap_figure(xr, yr, xs[:10], ys[:10], title="Exp 2", reducer=PCA(2))
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title() == "Exp 2" and ax.get_xlabel() == "dim 1"
    real, syn = ax.collections
    assert len(real.get_offsets()) == 24 and len(syn.get_offsets()) == 10
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["real (filled)", "synthetic (hollow)", "class 0", "class 1", "class 2"]
    filled = real.get_facecolors()
    assert len(filled) == 24 and filled[:, 3].min() > 0  # real: filled dots
    assert not np.allclose(filled[0], filled[1])  # colour = class
    assert len(syn.get_facecolors()) == 0  # synthetic: hollow circles, coloured by their edges
    edges = syn.get_edgecolors()
    assert len(edges) == 10 and not np.allclose(edges[0], edges[1])
    assert np.allclose(edges[0][:3], filled[0][:3])  # the same class colour for real and synthetic
    fig.savefig(BytesIO(), format="png")  # renders without pyplot


def test_a_kept_projection_fixes_the_real_points_and_axes():
    xr, yr = _sets(seed=0)
    proj = UMAPProjection(xr, yr, reducer=PCA(2))
    assert proj.classes == [0, 1, 2] and proj.embedding.shape == (24, 2)
    first = umap_figure(xr[:16], yr[:16], _sets(seed=1)[0][:6], yr[:6], projection=proj)
    second = umap_figure(xr[:16], yr[:16], _sets(seed=2)[0][:6] + 3.0, yr[:6], projection=proj)
    (a1,), (a2,) = first.axes, second.axes
    real1, syn1 = a1.collections
    real2, syn2 = a2.collections
    # the real points are drawn at their fitted positions in both panels; only the synthetic ones move
    assert np.array_equal(real1.get_offsets(), proj.embedding[:16])
    assert np.array_equal(real1.get_offsets(), real2.get_offsets())
    assert not np.allclose(syn1.get_offsets(), syn2.get_offsets())
    # synthetic points are transformed into the map fitted on the real ones
    assert np.allclose(syn1.get_offsets(), proj.reducer.transform(_sets(seed=1)[0][:6].numpy()))
    # a class keeps its colour when only some classes are drawn
    only2 = umap_figure(xr[yr == 2], yr[yr == 2], xr[yr == 2], yr[yr == 2], projection=proj)
    assert np.allclose(only2.axes[0].collections[0].get_facecolors()[0], real1.get_facecolors()[2])
    # axes: the reference's extent (the same in every panel), widened only for points beyond it
    assert only2.axes[0].get_xlim() == proj.limits()[0] and only2.axes[0].get_ylim() == proj.limits()[1]
    lo, hi = a2.get_xlim()
    assert lo <= proj.limits()[0][0] and hi >= proj.limits()[0][1]
    with pytest.raises(ValueError, match="feature dimensions differ"):
        proj.project(xr[:, :3])


def test_many_classes_get_a_colour_bar():
    xr, yr = _sets(n_classes=25, n=2)
    fig = umap_figure(xr, yr, xr, yr, reducer=PCA(2))
    assert len(fig.axes) == 2  # plot + colour bar


class _Flat:
    """A reducer that returns the wrong shape."""

    def fit_transform(self, x):
        return x[:, :3]


def test_errors():
    xr, yr = _sets()
    with pytest.raises(ValueError, match="feature dimensions differ"):
        umap_figure(xr, yr, xr[:, :3], yr, reducer=PCA(2))
    with pytest.raises(ValueError, match="reducer must return"):
        umap_figure(xr, yr, xr, yr, reducer=_Flat())
    with pytest.raises(ValueError, match="at least 3 points"):
        umap_figure(xr[:2], yr[:2], xr[:1], yr[:1])


def test_real_umap_fixed_map_is_seeded_pickles_and_works_for_tiny_sets():
    script = textwrap.dedent(
        """
        import json, pickle, warnings
        import numpy as np, torch
        warnings.simplefilter("ignore")
        from bootdrift_avalanche.metrics import umap_figure
        from bootdrift_avalanche.metrics.umap import UMAPProjection
        g = torch.Generator().manual_seed(0)
        x = torch.randn(14, 4, generator=g)
        y = torch.arange(14) % 2
        syn_a, syn_b = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g) + 1.0
        p1 = UMAPProjection(x, y, seed=3, n_epochs=30)
        p2 = UMAPProjection(x, y, seed=3, n_epochs=30)
        fa = umap_figure(x[:10], y[:10], syn_a, y[:5], projection=p1)
        fb = umap_figure(x[:10], y[:10], syn_b, y[:5], projection=p1)
        (ra, sa), (rb, sb) = fa.axes[0].collections, fb.axes[0].collections
        restored = pickle.loads(pickle.dumps(p1))
        tiny = UMAPProjection(x[:4], y[:4], seed=0, n_epochs=10)
        print(json.dumps({
            "seeded": bool(np.array_equal(p1.embedding, p2.embedding)),
            "real_fixed": bool(np.array_equal(ra.get_offsets(), rb.get_offsets())),
            "real_fitted": bool(np.array_equal(ra.get_offsets(), p1.embedding[:10])),
            "syn_moved": not bool(np.allclose(sa.get_offsets(), sb.get_offsets())),
            "transform_repeats": bool(np.array_equal(p1.project(syn_a), p1.project(syn_a))),
            "pickled": bool(np.array_equal(restored.project(syn_a), p1.project(syn_a))),
            "own_fit": len(umap_figure(x[:7], y[:7], x[7:], y[7:], seed=3, n_epochs=30).axes),
            "tiny": list(tiny.project(x[4:6]).shape)}))
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res == {"seeded": True, "real_fixed": True, "real_fitted": True, "syn_moved": True,
                   "transform_repeats": True, "pickled": True, "own_fit": 1, "tiny": [2, 2]}


class _ThreadGrabbingPCA(PCA):
    """PCA that, like umap-learn's numba kernels (OpenMP threading layer), changes the OpenMP thread
    count torch's intra-op pool runs on."""

    def fit_transform(self, x, y=None):
        torch.set_num_threads(torch.get_num_threads() + 1)
        return super().fit_transform(x)

    def transform(self, x):
        torch.set_num_threads(torch.get_num_threads() + 1)
        return super().transform(x)


def test_projection_gives_torch_its_thread_count_back():
    """Before: one UMAP fit left torch on 2 threads in a 1-thread process, and every later training
    step of a small model ran up to 36x slower on a shared 2-core machine (metrics/umap.py)."""
    x, y = _sets()
    before = torch.get_num_threads()
    proj = UMAPProjection(x, y, reducer=_ThreadGrabbingPCA(2))
    proj.project(x + 1.0)  # fit and transform
    assert torch.get_num_threads() == before
