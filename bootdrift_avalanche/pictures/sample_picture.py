"""The picture of a labelled sample set (the drift suite's ``Samples``): an image grid or a scatter."""
from __future__ import annotations

from typing import Mapping, Optional

from torch import Tensor


def sample_picture(x: Tensor, y: Tensor, *, per_class: int = 8, title: str = "",
                   real_x: Optional[Tensor] = None, real_y: Optional[Tensor] = None,
                   class_names: Optional[Mapping[int, str]] = None):
    """The picture of a labelled sample set, or ``None`` when there is no natural one.

    Images (N, C, H, W): :func:`~bootdrift_avalanche.pictures.sample_grid.labelled_grid`, one row
    of ``per_class`` samples per class (sorted class ids), beside ``per_class`` real images of the
    class when ``real_x``/``real_y`` are given, labelled (``class_names``, default "class 3") and
    enlarged (nearest neighbour) — a (3, H', W') tensor in [0, 1]. 2-D points (N, 2): a scatter
    ``matplotlib.figure.Figure`` coloured by class (built without pyplot's global state).
    """
    if x.dim() == 4:
        from .sample_grid import labelled_grid

        return labelled_grid(x, y, real_x=real_x, real_y=real_y, per_class=per_class, title=title,
                             class_names=class_names)
    if x.dim() == 2 and x.shape[1] == 2:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.2, 3.2))
        ax = fig.add_subplot(111)
        pts = x.detach().double().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], c=y.cpu().numpy(), s=2, cmap="tab10")
        if title:
            ax.set_title(title)
        ax.set_aspect("equal")
        return fig
    return None
