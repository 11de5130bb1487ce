"""`python examples/split_cifar100_ddgr.py` on a GPU machine: CUDA by default when torch sees it (said on
the console) and passed to the drift metrics; without the files and without network, one clear error
and no traceback."""
import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
import runpy

import pytest
import torch

from .benchmarks.fake_data import write_fake_cifar100

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "split_cifar100_ddgr.py"

# run the example as `python example.py ...` would, with torch seeing a GPU and no network
_NO_NETWORK_CUDA = (
    "import runpy, sys, urllib.error, urllib.request\n"
    "from unittest import mock\n"
    "def no_net(*a, **k):\n"
    "    raise urllib.error.URLError('no network (test)')\n"
    "with mock.patch.object(urllib.request, 'urlopen', no_net), mock.patch('torch.cuda.is_available', lambda: True):\n"
    "    sys.argv = sys.argv[1:]\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


class _Stop(Exception):
    pass


def _args(**kw):
    base = dict(preset="tiny", experiences=2, device=None, seed=0, threads=None, data_root=None, no_download=True,
                log_dir="unused", no_umap=True)
    return argparse.Namespace(**{**base, **kw})


@pytest.mark.parametrize("cuda", [True, False])
def test_default_device_is_cuda_when_available_and_reaches_the_drift_metrics(tmp_path, monkeypatch, capsys, cuda):
    write_fake_cifar100(tmp_path / "data")
    main = runpy.run_path(str(EXAMPLE))["main"]  # not as __main__: main() is not called
    seen = {}

    def drift_metrics(**kw):
        seen.update(kw)
        raise _Stop  # everything the run needs was built: stop before the strategy

    monkeypatch.setitem(main.__globals__, "drift_metrics", drift_metrics)
    monkeypatch.setitem(main.__globals__, "SplitCIFAR100",
                        lambda **kw: SimpleNamespace(test_stream=[], train_stream=[]))
    monkeypatch.setitem(main.__globals__, "DDPMGenerator", lambda cfg: seen.setdefault("generator_device", cfg.device))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    with pytest.raises(_Stop):
        main(_args(data_root=str(tmp_path / "data"), log_dir=str(tmp_path / "log")))
    want = "cuda" if cuda else "cpu"
    assert seen["device"] == want and seen["generator_device"] == want
    assert f"device: {want}" in capsys.readouterr().out
    with pytest.raises(_Stop):  # a device given on the command line wins
        main(_args(data_root=str(tmp_path / "data"), log_dir=str(tmp_path / "log"), device="cpu"))
    assert seen["device"] == "cpu"


@pytest.mark.parametrize("flag", [[], ["--no-download"]])
def test_no_files_and_no_network_is_one_clear_error(tmp_path, flag):
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _NO_NETWORK_CUDA, str(EXAMPLE), "--preset", "tiny", "--data-root",
                           str(tmp_path / "none"), "--log-dir", str(tmp_path / "log"), *flag],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "device: cuda" in proc.stdout
    err = proc.stderr
    assert "CIFAR-100 not found" in err and str(tmp_path / "none") in err
    assert "cifar-100-python/train" in err and "cifar-100-python.tar.gz" in err
    assert ("Download attempt failed" in err) == (not flag)  # tried only when downloading is allowed
