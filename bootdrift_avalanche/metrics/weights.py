"""Where the weights of a pretrained feature network are found, offline.

A :class:`WeightsFile` names one published checkpoint: its file name, the URL it is published at,
and an environment variable that may point at a local copy. :meth:`WeightsFile.find` looks, in this
order, at an explicit path, the environment variable, and torch hub's checkpoint folder
(``<torch.hub.get_dir()>/checkpoints/<file>``, where ``torch.hub.load_state_dict_from_url`` — used by
both torchvision and torch-fidelity — stores its downloads, so a copy downloaded once by either
library is found). Nothing is downloaded here; when no file exists, one ``FileNotFoundError`` says
which file, where it looked and how to supply it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

import torch

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
                f"(from {self.url}) into {hub_checkpoints()} (torch hub's checkpoint folder, $TORCH_HOME/hub/checkpoints), "
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
