"""``InceptionFeatures``: torch-fidelity's InceptionV3, the standard FID feature network; its
weights file is looked up offline (docs/FEATURE_EXTRACTORS.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Tuple, Union

import torch
from torch import Tensor, nn

from .image_input import images_in_unit_range
from .weights import INCEPTION_WEIGHTS, find_or_download, load_or_explain


class InceptionFeatures:
    """torch-fidelity's InceptionV3 (``FeatureExtractorInceptionV3``, TF1-compatible resize to
    299x299), the standard FID feature network; ``name = "inception"`` for the 2048-d pool features.

    Weights (:data:`INCEPTION_WEIGHTS`) are looked up in this order: ``weights_path``;
    ``$BOOTDRIFT_INCEPTION_WEIGHTS``; the torch hub checkpoint folder where torch-fidelity's own
    download puts them (``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``).
    If none exists, ``download=True`` lets torch-fidelity fetch them; otherwise a single
    ``FileNotFoundError`` says what is missing, where it looked and how to supply it.

    Args:
        weights_path: local ``.pth`` file of torch-fidelity's InceptionV3 weights.
        feature: ``"2048"`` (pool3, standard FID), ``"768"``, ``"192"`` or ``"64"``.
        download: allow a download when no local file is found.
        value_range: range of the float input images, mapped to 0..255 uint8 (grey images are
            repeated to 3 channels).
    """

    def __init__(
        self,
        weights_path: Union[str, Path, None] = None,
        *,
        feature: str = "2048",
        download: bool = False,
        value_range: Tuple[float, float] = (0.0, 1.0),
    ) -> None:
        feature = str(feature)
        if feature not in ("64", "192", "768", "2048"):
            raise ValueError(f"feature must be one of '64', '192', '768', '2048', got {feature!r}")
        self.feature, self.num_features = feature, int(feature)
        self.name = "inception" if feature == "2048" else f"inception{feature}"
        self.value_range = value_range
        path = find_or_download(INCEPTION_WEIGHTS, weights_path, download)
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        def load() -> nn.Module:
            with torch.random.fork_rng(devices=[]):  # its random init is overwritten; keep the caller's RNG
                return FeatureExtractorInceptionV3("inception-v3-compat", [feature],
                                                   feature_extractor_weights_path=None if path is None else str(path))

        self.model = load_or_explain(load, INCEPTION_WEIGHTS, path)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        u8 = (images_in_unit_range(x, self.value_range, "InceptionFeatures") * 255.0).round().to(torch.uint8)
        device = next(self.model.parameters()).device
        return self.model(u8.to(device))[0].reshape(x.shape[0], -1)

    def to(self, device: Union[str, torch.device]) -> "InceptionFeatures":
        self.model.to(device)
        return self
