"""UMAP projection figure of real vs synthetic features (McInnes, Healy & Melville 2018, "UMAP:
Uniform Manifold Approximation and Projection").

Real and synthetic features are embedded *together* (one fit, fixed ``random_state``), so their
positions are comparable: colour = class, marker = origin (o real, x synthetic). The figure is a
``matplotlib.figure.Figure`` built without pyplot's global state (safe under the Agg backend and
in loggers); Avalanche's TensorBoard logger accepts it as is.

umap-learn compiles its numba kernels on first use (tens of seconds once per process).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from ._checks import ArrayLike, as_features, as_labels, check_same_dim


def umap_embedding(
    feats: np.ndarray,
    *,
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: Optional[int] = None,
) -> np.ndarray:
    """2-D UMAP embedding of (n, d) features; ``n_neighbors`` is capped at n − 1 and spectral
    initialisation is replaced by random for n ≤ 10, so tiny sets work (n ≥ 3)."""
    n = feats.shape[0]
    if n < 3:
        raise ValueError(f"UMAP needs at least 3 points, got {n}")
    import umap

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        min_dist=min_dist,
        n_epochs=n_epochs,
        init="spectral" if n > 10 else "random",
        random_state=seed,
    )
    return np.asarray(reducer.fit_transform(feats), dtype=np.float64)


def umap_figure(
    real_feats: ArrayLike,
    real_labels: ArrayLike,
    syn_feats: ArrayLike,
    syn_labels: ArrayLike,
    *,
    seed: int = 0,
    title: Optional[str] = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: Optional[int] = None,
    reducer: Optional[Callable[[np.ndarray], np.ndarray]] = None,
):
    """Scatter plot of the joint 2-D UMAP embedding of real and synthetic features.

    Args:
        real_feats, syn_feats: (N, d) features from the same extractor.
        real_labels, syn_labels: (N,) integer class labels.
        seed: UMAP ``random_state`` (the figure is reproducible).
        title: axes title.
        n_neighbors, min_dist, n_epochs: UMAP settings (``n_epochs=None``: umap's default).
        reducer: optional replacement for UMAP, mapping (n, d) -> (n, 2) (e.g. PCA).

    Returns:
        ``matplotlib.figure.Figure`` with one axes; classes get distinct colours (legend up to 20
        classes, a colour bar beyond), real points are circles and synthetic points crosses.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    xr = as_features(real_feats, "real_feats", min_samples=1)
    xs = as_features(syn_feats, "syn_feats", min_samples=1)
    check_same_dim(xr.shape[1], xs.shape[1])
    yr = as_labels(real_labels, xr.shape[0], "real_labels")
    ys = as_labels(syn_labels, xs.shape[0], "syn_labels")
    feats = torch.cat([xr, xs]).cpu().numpy()
    if reducer is None:
        emb = umap_embedding(feats, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, n_epochs=n_epochs)
    else:
        emb = np.asarray(reducer(feats), dtype=np.float64)
        if emb.shape != (feats.shape[0], 2):
            raise ValueError(f"reducer must return shape ({feats.shape[0]}, 2), got {emb.shape}")
    er, es = emb[: xr.shape[0]], emb[xr.shape[0] :]

    classes = sorted(set(yr.tolist()) | set(ys.tolist()))
    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20" if len(classes) <= 20 else "turbo"]
    index = {c: i for i, c in enumerate(classes)}

    def colours(y: torch.Tensor) -> np.ndarray:
        if len(classes) <= 20:  # qualitative map: one colour per class
            return cmap(np.array([index[c] for c in y.tolist()]))
        lo, hi = classes[0], classes[-1]  # continuous map over the class ids, as the colour bar
        return cmap((y.numpy().astype(np.float64) - lo) / (hi - lo))

    fig = Figure(figsize=(6.0, 5.0), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(er[:, 0], er[:, 1], c=colours(yr), marker="o", s=14, alpha=0.55, linewidths=0, label="real")
    ax.scatter(es[:, 0], es[:, 1], c=colours(ys), marker="x", s=18, alpha=0.85, linewidths=1.0, label="synthetic")
    handles = [
        Line2D([], [], color="0.3", marker="o", linestyle="", label="real"),
        Line2D([], [], color="0.3", marker="x", linestyle="", label="synthetic"),
    ]
    if len(classes) <= 20:
        handles += [
            Line2D([], [], color=cmap(index[c]), marker="s", linestyle="", label=f"class {c}") for c in classes
        ]
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        fig.colorbar(ScalarMappable(Normalize(min(classes), max(classes)), cmap=cmap), ax=ax, label="class")
    ax.legend(handles=handles, fontsize="small", loc="best", framealpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1" if reducer is None else "dim 1")
    ax.set_ylabel("UMAP 2" if reducer is None else "dim 2")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
