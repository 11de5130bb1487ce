"""Test set-up: an isolated $HOME (Avalanche writes ~/.avalanche/config.json on import, and reads
its dataset root from it), one torch thread (tiny models run faster without thread contention),
and seeded RNGs."""
import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="bootdrift-home-")
os.environ["HOME"] = _HOME
# The feature-extractor cache (metrics.features.default_cache_dir) then lives under the isolated HOME.
os.environ.pop("BOOTDRIFT_CACHE", None)
os.environ.pop("XDG_CACHE_HOME", None)
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
