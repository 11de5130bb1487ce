"""One `paper`-preset CIFAR-100 experience on fake CIFAR-100 files, through the command line:

    bootdrift replay --preset paper --benchmark cifar100 --data-root <fake files> --experiences 1 ...

then a check that the solver and the RealAcc classifier were Avalanche's SlimResNet18 and that the
drift values were logged under the extractor's name. ``bench/gpu_check.sh`` runs it on cuda with the
paper's own ADM UNet; ``tests/experiments/test_paper_models.py`` runs it on the CPU with
``--tiny-ddpm``. Prints PASS/FAIL lines; exit status 0 only when every check passes.

Only step counts are cut, by flags (solver and RealAcc epochs 1, generator steps 2, 2 drift samples
per class) and, for the sampling, in the presets table of this process: the drift metrics sample the
100 classes one by one, so the paper's 250 DDPM steps would cost 100 x 250 x 2 (guided and unguided)
UNet calls; ``--sampling-steps`` (default 10) replaces it. ``--tiny-ddpm`` also swaps in the
``tiny`` preset's UNet (the paper's ADM UNet is far too slow on a CPU).

    python bench/paper_step.py --device cuda --out /tmp/paper_step
    python bench/paper_step.py --device cpu --tiny-ddpm --out /tmp/paper_step
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from types import MappingProxyType
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", required=True, help="folder for the fake data and the run directory (must not hold a run)")
    ap.add_argument("--sampling-steps", type=int, default=10, help="DDPM sampling steps (the paper's: 250)")
    ap.add_argument("--tiny-ddpm", action="store_true", help="the tiny preset's UNet instead of the paper's")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # tests.benchmarks.fake_data writes the fake files

    import bootdrift_avalanche.metrics.accuracy as accuracy
    from avalanche.models.slim_resnet18 import ResNet as SlimResNet
    from bootdrift_avalanche import cli
    from bootdrift_avalanche.experiments import config
    from bootdrift_avalanche.nets import build_classifier
    from bootdrift_avalanche.runtime.checkpoint import load_latest
    from tests.benchmarks.fake_data import write_fake_cifar100

    out = Path(args.out)
    data = write_fake_cifar100(out / "fake_cifar100", n_per_class_train=2, n_per_class_test=2)
    paper = config.PRESETS["paper"]
    ddpm = config.PRESETS["tiny"].ddpm if args.tiny_ddpm else paper.ddpm
    paper = dataclasses.replace(paper, ddpm=MappingProxyType({**ddpm, "num_inference_steps": args.sampling_steps}))
    real_acc_models = []
    train = accuracy.train_classifier
    presets = config.PRESETS

    def recording_train(model, *a, **k):  # the RealAcc classifier is trained here (the solver by Avalanche)
        real_acc_models.append(model)
        return train(model, *a, **k)

    run = out / "run"
    # for this call only (the test runs this in its own process): the cut preset, the recording trainer
    config.PRESETS = MappingProxyType({**presets, "paper": paper})
    accuracy.train_classifier = recording_train
    try:
        rc = cli.main(["replay", "--preset", "paper", "--benchmark", "cifar100", "--data-root", str(data),
                       "--device", args.device, "--experiences", "1", "--epochs", "1", "--generator-steps", "2",
                       "--n-per-class", "2", "--real-acc-epochs", "1", "--features", "random", "--no-umap",
                       "--quiet", "--run-dir", str(run)])
    finally:
        config.PRESETS, accuracy.train_classifier = presets, train

    checks = {"replay command exit status 0": rc == 0}
    if rc == 0:
        _, state = load_latest(run / "checkpoints")
        try:  # strict: the saved solver has exactly SlimResNet18's parameters
            build_classifier("slim-resnet18", (3, 32, 32), 100).load_state_dict(state["strategy"]["model"])
            checks["solver is SlimResNet18"] = True
        except RuntimeError:
            checks["solver is SlimResNet18"] = False
        checks["RealAcc classifier is SlimResNet18"] = bool(real_acc_models) and all(
            isinstance(m, SlimResNet) and m.linear.out_features == 100 for m in real_acc_models)
        tags = {json.loads(line)["name"] for line in (run / "metrics.jsonl").read_text().splitlines()}
        checks["FID_random and RealAcc logged"] = {"FID_random/train_phase/train_stream",
                                                   "RealAcc/train_phase/train_stream"} <= tags
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) and len(checks) == 4 else 1


if __name__ == "__main__":
    sys.exit(main())
