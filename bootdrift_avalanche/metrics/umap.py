"""UMAP projection figure of real vs synthetic features (McInnes, Healy & Melville 2018, "UMAP:
Uniform Manifold Approximation and Projection").

**An illustration, not a measurement.** ``transform`` embeds a new point against its nearest real
neighbours in feature space, so a synthetic sample far off the real manifold is still drawn next to
the real points it is closest to: the panels look aligned whatever the drift. Read drift from the
values with their floors and intervals (:mod:`.floor`, :mod:`.intervals`); no verdict rests on UMAP.

The map is fitted on **real** features only (:class:`UMAPProjection`, fixed ``random_state``);
synthetic features are placed into it with umap-learn's ``transform``, which embeds new points
against the fitted layout without moving it. Kept across steps, one projection gives figures whose
positions can be compared: the real points stay where they are and only the synthetic ones move.
In the figure colour = class, real points are filled dots and synthetic points hollow circles. The
figure is a ``matplotlib.figure.Figure`` built without pyplot's global state (safe under the Agg
backend and in loggers); Avalanche's TensorBoard logger accepts it as is.

A projection pickles (umap-learn models do), so it can be kept in a checkpoint. umap-learn compiles
its numba kernels on first use (tens of seconds once per process).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Tuple

import numpy as np
import torch

from ._checks import ArrayLike, as_features, as_labels, check_same_dim


@contextlib.contextmanager
def torch_threads_kept() -> Iterator[None]:
    """Run a umap-learn call and give torch back its thread count afterwards. umap's numba kernels
    start numba's OpenMP threading layer, which sets OpenMP's thread count to the number of cores,
    and torch's intra-op pool (OpenMP too) then runs on that many: every experience trained after the
    first drift evaluation would stall on OpenMP barriers (``runtime/threads.py``, ``docs/CPU_THREADS.md``)."""
    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def _umap_reducer(n: int, *, seed: int, n_neighbors: int, min_dist: float, n_epochs: Optional[int]):
    import umap

    return umap.UMAP(
        n_components=2,
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        min_dist=min_dist,
        n_epochs=n_epochs,
        init="spectral" if n > 10 else "random",  # the spectral init fails on tiny graphs
        random_state=seed,
    )


class UMAPProjection:
    """A 2-D map fitted once on reference (real) features, into which any features are projected.

    The fit runs on first use (:meth:`project` or :attr:`embedding`), so a projection can be made
    before the first figure is known to be needed, e.g. before the synthetic samples are checked.

    Args:
        feats: (n, d) reference features, n >= 3.
        labels: (n,) their classes; every class of the reference keeps one colour in the figures.
        seed: UMAP ``random_state`` (the fit and the transform are reproducible).
        n_neighbors, min_dist, n_epochs: UMAP settings (``n_neighbors`` is capped at n - 1;
            ``n_epochs=None``: umap's default); spectral initialisation is replaced by random for
            n <= 10, so tiny sets work.
        reducer: a stand-in for UMAP with ``fit_transform(X) -> (n, 2)`` and ``transform(X)``
            (scikit-learn's estimator protocol, e.g. ``sklearn.decomposition.PCA(2)``).

    Attributes:
        classes: the sorted class ids of the reference.
        reducer: the fitted reducer (``None`` until the fit when UMAP is built here).
    """

    def __init__(self, feats: ArrayLike, labels: ArrayLike, *, seed: int = 0, n_neighbors: int = 15,
                 min_dist: float = 0.1, n_epochs: Optional[int] = None, reducer: Any = None):
        x = self._rows(as_features(feats, "feats", min_samples=1))
        y = as_labels(labels, x.shape[0], "labels")
        if x.shape[0] < 3:
            raise ValueError(f"UMAP needs at least 3 points, got {x.shape[0]}")
        self.classes = sorted(set(y.tolist()))
        self.axis_name = "UMAP" if reducer is None else "dim"
        self.reducer = reducer
        self._umap_settings = dict(seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, n_epochs=n_epochs)
        self._x = x
        self._embedding: Optional[np.ndarray] = None
        # transform() re-optimises even a point it was fitted on, so it would land near, not at, its
        # fitted position: reference rows are looked up instead (umap-learn does the same, but only
        # for the whole fitted array).
        self._index = {row.tobytes(): i for i, row in enumerate(x)}

    @property
    def embedding(self) -> np.ndarray:
        """(n, 2) fitted positions of the reference points (fits on first use)."""
        if self._embedding is None:
            x = self._x
            if self.reducer is None:
                self.reducer = _umap_reducer(x.shape[0], **self._umap_settings)
            with torch_threads_kept():
                emb = np.asarray(self.reducer.fit_transform(x), dtype=np.float64)
            if emb.shape != (x.shape[0], 2):
                raise ValueError(f"reducer must return shape ({x.shape[0]}, 2), got {emb.shape}")
            self._embedding = emb
        return self._embedding

    @staticmethod
    def _rows(x: torch.Tensor) -> np.ndarray:
        # float32 like umap-learn's own input; C order so that equal rows have equal bytes
        return np.ascontiguousarray(x.cpu().numpy(), dtype=np.float32)

    def project(self, feats: ArrayLike) -> np.ndarray:
        """(m, 2) positions of (m, d) features: fitted positions for rows of the reference, the
        reducer's ``transform`` for any other row."""
        x = self._rows(as_features(feats, "feats", min_samples=1))
        check_same_dim(self._x.shape[1], x.shape[1])
        hit = np.array([self._index.get(row.tobytes(), -1) for row in x], dtype=np.int64)
        out = np.empty((x.shape[0], 2), dtype=np.float64)
        known = hit >= 0
        out[known] = self.embedding[hit[known]]  # fits the reducer, which transform() needs too
        if not known.all():
            with torch_threads_kept():
                new = np.asarray(self.reducer.transform(x[~known]), dtype=np.float64)
            if new.shape != (int((~known).sum()), 2):
                raise ValueError(f"reducer.transform must return shape ({int((~known).sum())}, 2), got {new.shape}")
            out[~known] = new
        return out

    def limits(self, *points: np.ndarray) -> Tuple[Tuple[float, float], Tuple[float, float]]:
        """Axis limits: the reference layout plus a margin, widened only if ``points`` fall outside,
        so figures of the same projection share their axes."""
        pts = np.concatenate([self.embedding, *points])
        lo = np.minimum(self.embedding.min(0), pts.min(0))
        hi = np.maximum(self.embedding.max(0), pts.max(0))
        pad = 0.05 * np.maximum(hi - lo, 1e-9)
        return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def umap_figure(
    real_feats: ArrayLike,
    real_labels: ArrayLike,
    syn_feats: ArrayLike,
    syn_labels: ArrayLike,
    *,
    projection: Optional[UMAPProjection] = None,
    seed: int = 0,
    title: Optional[str] = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: Optional[int] = None,
    reducer: Any = None,
):
    """Scatter plot of real and synthetic features in a UMAP map of the real ones.

    Args:
        real_feats, syn_feats: (N, d) features from the same extractor.
        real_labels, syn_labels: (N,) integer class labels.
        projection: the map to draw in; keep one across steps to compare positions. ``None``: a
            :class:`UMAPProjection` fitted on ``real_feats`` for this figure alone (with ``seed``,
            ``n_neighbors``, ``min_dist``, ``n_epochs``, ``reducer``; see there).
        title: axes title.

    Returns:
        ``matplotlib.figure.Figure`` with one axes; one colour per class (legend up to 20 classes,
        a colour bar beyond), real points filled dots, synthetic points hollow circles.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    xr = as_features(real_feats, "real_feats", min_samples=1)
    xs = as_features(syn_feats, "syn_feats", min_samples=1)
    check_same_dim(xr.shape[1], xs.shape[1])
    yr = as_labels(real_labels, xr.shape[0], "real_labels")
    ys = as_labels(syn_labels, xs.shape[0], "syn_labels")
    if projection is None:
        projection = UMAPProjection(xr, yr, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist,
                                    n_epochs=n_epochs, reducer=reducer)
    er, es = projection.project(xr), projection.project(xs)

    # the reference's classes first, so a class keeps its colour in every figure of a projection
    classes = sorted(set(projection.classes) | set(yr.tolist()) | set(ys.tolist()))
    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20" if len(classes) <= 20 else "turbo"]
    index = {c: i for i, c in enumerate(classes)}

    def colours(y: torch.Tensor) -> np.ndarray:
        if len(classes) <= 20:  # qualitative map: one colour per class
            return cmap(np.array([index[c] for c in y.tolist()]))
        lo, hi = classes[0], classes[-1]  # continuous map over the class ids, as the colour bar
        return cmap((y.numpy().astype(np.float64) - lo) / (hi - lo))

    fig = Figure(figsize=(6.6, 5.0), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(er[:, 0], er[:, 1], c=colours(yr), marker="o", s=14, alpha=0.6, linewidths=0, label="real")
    ax.scatter(es[:, 0], es[:, 1], facecolors="none", edgecolors=colours(ys), marker="o", s=22, alpha=0.9,
               linewidths=0.9, label="synthetic")
    handles = [
        Line2D([], [], color="0.3", marker="o", linestyle="", label="real (filled)"),
        Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="", label="synthetic (hollow)"),
    ]
    if len(classes) <= 20:
        handles += [
            Line2D([], [], color=cmap(index[c]), marker="s", linestyle="", label=f"class {c}") for c in classes
        ]
        # beside the axes: a legend of up to 22 entries inside would hide points
        ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        fig.colorbar(ScalarMappable(Normalize(min(classes), max(classes)), cmap=cmap), ax=ax, label="class")
        ax.legend(handles=handles, fontsize="small", loc="best", framealpha=0.8)
    xlim, ylim = projection.limits(er, es)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"{projection.axis_name} 1")
    ax.set_ylabel(f"{projection.axis_name} 2")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
