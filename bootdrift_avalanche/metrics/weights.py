"""Where the weights of a pretrained feature network are found, offline.

A :class:`WeightsFile` names one published checkpoint: its file name, the URL it is published at,
and an environment variable that may point at a local copy. :meth:`WeightsFile.find` looks, in this
order, at an explicit path, the environment variable, and torch hub's checkpoint folder
(``<torch.hub.get_dir()>/checkpoints/<file>``, where ``torch.hub.load_state_dict_from_url`` — used by
both torchvision and torch-fidelity — stores its downloads, so a copy downloaded once by either
library is found). Nothing is downloaded here; when no file exists, one ``FileNotFoundError`` says
which file, where it looked and how to supply it. The two published files the extractors use,
:data:`INCEPTION_WEIGHTS` and :data:`RESNET50_WEIGHTS`, are named here too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

import torch
from torch import nn

PathLike = Union[str, Path]


def hub_checkpoints() -> Path:
    """torch hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``; resolved at call time)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


@dataclass(frozen=True)
class WeightsFile:
    """One published weights file (see the module docstring).

    Attributes:
        what: the network, for messages (``"InceptionV3"``).
        file: the file name the publishing library stores in torch hub's checkpoint folder.
        url: where it is published.
        env: environment variable that may name a local copy.
        argument: the keyword that passes a local copy in code (for messages).
    """

    what: str
    file: str
    url: str
    env: str
    argument: str = "weights_path"

    def search_paths(self, path: Optional[PathLike] = None) -> List[Tuple[str, Path]]:
        """The (origin, path) candidates, in lookup order."""
        out = []
        if path is not None:
            out.append((f"{self.argument} argument", Path(path).expanduser()))
        if os.environ.get(self.env):
            out.append((f"${self.env}", Path(os.environ[self.env]).expanduser()))
        out.append(("torch hub cache", hub_checkpoints() / self.file))
        return out

    def help(self) -> str:
        """How to supply the file."""
        return (f"Supply it with {self.argument}=... or the environment variable {self.env}, or put {self.file} "
                f"(from {self.url}) into {hub_checkpoints()} "
                "(torch hub's checkpoint folder, $TORCH_HOME/hub/checkpoints), "
                "or pass download=True on a machine with internet. Without the file, the features 'clf' and 'random' "
                "need no weights.")

    def find(self, path: Optional[PathLike] = None) -> Path:
        """The first existing candidate. An explicit ``path`` that does not exist is an error by
        itself (never silently replaced by another file)."""
        candidates = self.search_paths(path)
        if path is not None and not candidates[0][1].is_file():
            raise FileNotFoundError(f"{self.what} weights not found at {self.argument}={str(candidates[0][1])!r}. "
                                    f"{self.help()}")
        for _, p in candidates:
            if p.is_file():
                return p
        looked = "; ".join(f"{origin}: {p}" for origin, p in candidates)
        raise FileNotFoundError(f"{self.what} weights file {self.file} is missing (looked in {looked}). {self.help()}")


def load_or_explain(load: Callable[[], nn.Module], weights: WeightsFile, path: Optional[Path]) -> nn.Module:
    """``load()``, with any failure (corrupt file, wrong format, failed download) turned into one
    error that names the file and how to supply a good one."""
    try:
        return load()
    except Exception as err:
        where = path if path is not None else f"download from {weights.url}"
        raise RuntimeError(f"could not load {weights.what} weights ({where}): {err}. {weights.help()}") from err


def find_or_download(weights: WeightsFile, path, download: bool) -> Optional[Path]:
    """The local weights file, or ``None`` when there is none and ``download`` lets the publishing
    library fetch it (into torch hub's checkpoint folder)."""
    try:
        return weights.find(path)
    except FileNotFoundError:
        if download and path is None:
            return None
        raise


INCEPTION_ENV = "BOOTDRIFT_INCEPTION_WEIGHTS"
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + INCEPTION_FILE

#: torch-fidelity's InceptionV3 (``torch_fidelity.feature_extractor_inceptionv3.URL_INCEPTION_V3``).
INCEPTION_WEIGHTS = WeightsFile(what="InceptionV3", file=INCEPTION_FILE, url=INCEPTION_URL,
                                env=INCEPTION_ENV)

#: torchvision's ``ResNet50_Weights.IMAGENET1K_V2`` (torchvision's default ResNet-50 weights).
RESNET50_WEIGHTS = WeightsFile(
    what="ResNet-50", file="resnet50-11ad3fa6.pth",
    url="https://download.pytorch.org/models/resnet50-11ad3fa6.pth", env="BOOTDRIFT_RESNET50_WEIGHTS")
