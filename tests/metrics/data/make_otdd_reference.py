"""Produces ``otdd_reference.json``: microsoft/otdd's ``DatasetDistance`` (all defaults) on the seeded
inputs of ``tests/metrics/otdd_reference_inputs.py``. Run once, OUTSIDE the project (the reference
is not a dependency and none of its code is in the project); not collected by pytest.

    git clone https://github.com/microsoft/otdd /tmp/otdd && git -C /tmp/otdd checkout 72f1b22
    mkdir /tmp/stubs   # the reference imports plotting-only packages that play no part in distance():
    echo "" > /tmp/stubs/seaborn.py
    printf 'def adjust_text(*a, **k):\\n    raise RuntimeError\\n' > /tmp/stubs/adjustText.py
    printf 'class Munkres:\\n    pass\\n' > /tmp/stubs/munkres.py
    pip install geomloss==0.3.1          # into the project's venv (torch 2.14.1)
    PYTHONPATH=/tmp/otdd:/tmp/stubs python tests/metrics/data/make_otdd_reference.py /tmp/otdd \\
        > tests/metrics/data/otdd_reference.json

Two shims for today's libraries, neither touching a computed value: ``Tensor.symeig`` (removed in
torch 2) becomes ``torch.linalg.eigh`` with the same triangle, and ``geomloss.utils`` (moved in
geomloss 0.3) points at ``geomloss._legacy.utils``.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import geomloss
import geomloss._legacy.utils
import torch
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from otdd_reference_inputs import mixture  # noqa: E402

torch.Tensor.symeig = lambda self, eigenvectors=False, upper=True: torch.linalg.eigh(self, UPLO="U" if upper else "L")
geomloss.utils = geomloss._legacy.utils
from otdd.pytorch.distance import DatasetDistance  # noqa: E402

CASES = [(300, 64), (1000, 64), (2000, 128)]
SHIFT = 0.3


def main() -> None:
    torch.set_num_threads(1)
    commit = subprocess.check_output(["git", "-C", sys.argv[1], "rev-parse", "HEAD"]).decode().strip()
    cases = []
    for n, d in CASES:
        sa, sb = 1000 + n, 2000 + n
        xa, ya = mixture(n, d, seed=sa)
        xb, yb = mixture(n, d, seed=sb, shift=SHIFT)
        out = {"n": n, "d": d, "seed_a": sa, "seed_b": sb, "shift_b": SHIFT}
        for prec in ("single", "double"):
            dd = DatasetDistance(TensorDataset(xa, ya), TensorDataset(xb, yb), device="cpu", precision=prec, verbose=0)
            t = time.perf_counter()
            out[f"reference_{prec}"] = float(dd.distance(maxsamples=10000))
            out[f"seconds_{prec}"] = round(time.perf_counter() - t, 3)
        cases.append(out)
    print(json.dumps({"reference": "microsoft/otdd", "commit": commit, "geomloss": geomloss.__version__,
                      "torch": torch.__version__,
                      "call": "DatasetDistance(TensorDataset(xa, ya), TensorDataset(xb, yb), device='cpu', "
                              "precision=P).distance(maxsamples=10000)", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
