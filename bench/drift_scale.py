"""The drift pipeline at full benchmark size, side by side with a baseline commit's code.

Two probes, each measurement in its own process on one torch thread, alternating baseline and
current code (the baseline is ``git archive <--baseline>`` of the package, default the commit the
scale issue was measured on), with CPU s (user+sys), wall s and the process's peak RSS:

1. ``drift``: Split CIFAR-100 (5 experiences of 20 classes) through Avalanche on fake files of the
   real size (torchvision's pickles, 50,000 / 10,000 images; written once under ``--data``), the
   drift metrics with the ``random`` extractor, RealAcc, pictures and UMAP off, a near-free
   generator, ``n_per_class`` in ``--n``; the metric hooks are called directly after each
   experience. Per experience: CPU s, wall s, peak RSS and (current code) ``DriftTime/<part>``; the
   growth exponent of the evaluation's CPU s in the number of classes seen (log-log fit).
2. ``label``: OTDD's Gaussian label cost alone (``otdd.gaussian_label_distances`` of C real against
   C synthetic classes, d = 512, n per class), C from 100 up to 1,000: CPU s, its fitted exponent
   in C, and the time at 1,000 classes (measured when 1,000 is in ``--classes``, else projected from
   the fit, and then said so). The baseline is measured up to ``--baseline-max-classes``.

    python bench/drift_scale.py --data /tmp/fake_cifar100                 # both probes
    python bench/drift_scale.py --data /tmp/fake_cifar100 --probe drift --n 100
    python bench/drift_scale.py --probe label --n 30 --classes 100 200 400 1000

3. ``example`` (for ``bench/gpu_check.sh``; not part of ``both``): ``examples/split_cifar100_ddgr.py
   --preset paper --only-experiences 1`` on the full-size fake files, on ``--device``, with the
   step counts cut (printed; DDPM training steps, sampling steps, epochs) so one experience fits a
   check; prints the run's wall time and every ``DriftTime/<part>`` of its drift evaluation.

    python bench/drift_scale.py --probe example --device cuda --out /tmp/example_paper

4. ``realacc`` (not part of ``both``): what fewer RealAcc epochs do to its value and cost, on Split
   Digits' real images (``--n`` per class from the training split as the "synthetic" set, clean
   and with Gaussian noise; scored on the test split), epochs in ``--epochs``, seeds 0-2: mean,
   95 % t-interval and CPU s per evaluation.

    python bench/drift_scale.py --probe realacc --epochs 5 10 30

Results: ``docs/DRIFT_SCALE.md``. On a shared machine compare CPU s, not wall s.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "909100f"  # main when the scale probe was first measured


# --------------------------------------------------------------------------------------------
# children: one measurement each, with whichever bootdrift_avalanche is on PYTHONPATH
# --------------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _clocks():
    return time.perf_counter(), time.process_time()


class TinyGenerator:
    """A near-free conditional generator of 3x32x32 images in [0, 1]: a fixed random image per
    class plus noise, so classes differ as real ones do."""

    def generate(self, labels, *, seed=None):
        import torch

        g = torch.Generator().manual_seed(0 if seed is None else seed)
        base = torch.stack([torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(int(c))) for c in labels])
        return (0.7 * base + 0.3 * torch.rand(len(labels), 3, 32, 32, generator=g)).clamp(0, 1)


def child_drift(data: str, n: int) -> dict:
    from types import SimpleNamespace

    import torch

    torch.set_num_threads(1)
    from bootdrift_avalanche.benchmarks.cifar100 import split_cifar100
    from bootdrift_avalanche.metrics import SuiteConfig
    from bootdrift_avalanche.plugins import drift_metrics

    w0, c0 = _clocks()
    bm = split_cifar100(5, data, download=False)
    w1, c1 = _clocks()
    out = {"load_cpu": c1 - c0, "load_wall": w1 - w0, "rss_after_load_mb": _peak_rss_mb(), "experiences": []}
    metrics = drift_metrics(reference_stream=bm.test_stream, features="random", n_per_class=n,
                            generator=TinyGenerator(), seed=0,
                            suite=SuiteConfig(real_accuracy=False, samples=False, umap=False))
    comp = metrics[0].computation
    for k, exp in enumerate(bm.train_stream):
        strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=k, train_iterations=k), experience=exp,
                                   plugins=[], model=None)
        w0, c0 = _clocks()
        _, values = comp.result(strategy)
        w1, c1 = _clocks()
        parts = {name: v for name, v in values.scalars.items() if name.startswith("DriftTime")}
        out["experiences"].append({"classes": len(comp.seen), "cpu": c1 - c0, "wall": w1 - w0,
                                   "peak_rss_mb": _peak_rss_mb(), "parts": parts})
    return out


def child_label(classes: int, n: int, d: int, device: str = "cpu") -> dict:
    import torch

    torch.set_num_threads(1)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    from bootdrift_avalanche.metrics.otdd import class_gaussians, gaussian_label_distances

    g = torch.Generator().manual_seed(0)
    y = torch.arange(classes).repeat_interleave(n)
    centres = torch.randn(classes, d, generator=g, dtype=torch.float64)
    xa = centres[y] + torch.randn(len(y), d, generator=g, dtype=torch.float64)
    xb = centres[y] + 1.2 * torch.randn(len(y), d, generator=g, dtype=torch.float64)
    xa, xb, y = xa.to(device), xb.to(device), y.to(device)
    sync()
    rss0 = _peak_rss_mb()
    w0, c0 = _clocks()
    ga = class_gaussians(xa, y, torch.arange(classes, device=device), "a")
    gb = class_gaussians(xb, y, torch.arange(classes, device=device), "b")
    w = gaussian_label_distances(ga, gb)
    sync()
    w1, c1 = _clocks()
    return {"cpu": c1 - c0, "wall": w1 - w0, "extra_rss_mb": _peak_rss_mb() - rss0,
            "checksum": float(w.sum()), "diag_mean": float(w.diagonal().mean())}


# --------------------------------------------------------------------------------------------
# parent
# --------------------------------------------------------------------------------------------
def baseline_tree(rev: str, into: Path) -> Path:
    """The package as of ``rev`` (``git archive``), for the side-by-side runs."""
    tar = into / "baseline.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), rev, "bootdrift_avalanche"], check=True)
    with tarfile.open(tar) as t:
        t.extractall(into / "tree")
    return into / "tree"


def run_child(tree: Path, args: List[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} with {tree} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def fit_exponent(xs: List[float], ys: List[float]) -> float:
    """Slope of log y against log x (least squares); NaN with fewer than two distinct x."""
    if len(set(xs)) < 2:
        return float("nan")
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def ensure_data(data: Path) -> None:
    if (data / "cifar-100-python" / "train").exists():
        return
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.fake_data import write_fake_cifar100

    print(f"writing fake CIFAR-100 files of the real size (50,000 / 10,000 images) under {data}", flush=True)
    write_fake_cifar100(data, n_per_class_train=500, n_per_class_test=100)


def probe_drift(trees: Dict[str, Path], data: Path, ns: List[int], results: dict) -> None:
    for n in ns:
        runs = {name: run_child(tree, ["drift", str(data), str(n)]) for name, tree in trees.items()}  # alternating
        results[f"drift_n{n}"] = runs
        print(f"\n== drift evaluation per experience, n_per_class = {n} (random extractor, RealAcc off) ==")
        for name, r in runs.items():
            print(f"{name:9s} load {r['load_cpu']:.1f} CPU s, RSS after load {r['rss_after_load_mb']:.0f} MB")
        print(f"{'classes':>7s} "
              + " ".join(f"{name + ' CPU s':>14s} {name + ' wall':>12s} {'peak MB':>8s}" for name in runs))
        for rows in zip(*(r["experiences"] for r in runs.values())):
            print(f"{rows[0]['classes']:7d} "
                  + " ".join(f"{e['cpu']:14.2f} {e['wall']:12.2f} {e['peak_rss_mb']:8.0f}" for e in rows))
        for name, r in runs.items():
            ex = r["experiences"]
            exponent = fit_exponent([e["classes"] for e in ex], [e["cpu"] for e in ex])
            print(f"{name:9s} growth exponent in classes (CPU s): {exponent:.2f}")
        if "baseline" in runs and "current" in runs:
            b, c = runs["baseline"]["experiences"][-1], runs["current"]["experiences"][-1]
            print(f"at {c['classes']} classes: baseline {b['cpu']:.1f} CPU s, current {c['cpu']:.1f} CPU s "
                  f"({b['cpu'] / c['cpu']:.2f}x)")
        parts = runs.get("current", {}).get("experiences", [])
        if parts and parts[-1]["parts"]:
            last = parts[-1]["parts"]
            shown = ", ".join(f"{k.split('/')[1]} {last[k]:.2f}" for k in sorted(last) if k.startswith("DriftTimeCPU/"))
            print(f"current, last experience, CPU s per part: {shown} (DriftTimeCPU {last['DriftTimeCPU']:.2f}, "
                  f"DriftTime {last['DriftTime']:.2f} s wall)")


def probe_label(trees: Dict[str, Path], ns: List[int], classes: List[int], d: int, baseline_max: int,
                results: dict, device: str = "cpu") -> None:
    for n in ns:
        rows = []
        for c in classes:
            row = {"classes": c}
            for name, tree in trees.items():  # alternating baseline / current at every size
                if name == "baseline" and c > baseline_max:
                    continue
                row[name] = run_child(tree, ["label", str(c), str(n), str(d), device])
            rows.append(row)
        results[f"label_n{n}"] = rows
        print(f"\n== OTDD label cost alone, n = {n} per class, d = {d}, on {device} ==")
        print(f"{'classes':>7s} {'baseline CPU s':>15s} {'current CPU s':>14s} {'ratio':>6s} {'current wall s':>14s} "
              f"{'current +MB':>11s} {'rel diff of sum':>15s}")
        for row in rows:
            b, c = row.get("baseline"), row["current"]
            diff = abs(b["checksum"] - c["checksum"]) / abs(b["checksum"]) if b else float("nan")
            print(f"{row['classes']:7d} {b['cpu'] if b else float('nan'):15.2f} {c['cpu']:14.2f} "
                  f"{(b['cpu'] / c['cpu']) if b else float('nan'):6.2f} {c['wall']:14.2f} "
                  f"{c['extra_rss_mb']:11.0f} {diff:15.1e}")
        cs = [r["classes"] for r in rows]
        k = fit_exponent(cs, [r["current"]["cpu"] for r in rows])
        at = next((r["current"]["cpu"] for r in rows if r["classes"] == 1000), None)
        if at is None:
            top = rows[-1]
            at = top["current"]["cpu"] * (1000 / top["classes"]) ** k
            how = f"projected from {top['classes']} classes with the fitted exponent"
        else:
            how = "measured"
        print(f"current: growth exponent in classes {k:.2f} ({cs[0]}-{cs[-1]}); "
              f"at 1,000 classes {at:.0f} CPU s ({how})")
        bs = [(r["classes"], r["baseline"]["cpu"]) for r in rows if "baseline" in r]
        if len(bs) >= 2:
            print(f"baseline: growth exponent {fit_exponent(*zip(*bs)):.2f} ({bs[0][0]}-{bs[-1][0]})")


def probe_example(data: Path, out: Path, device: str, cut: Dict[str, int], preset: str = "paper") -> int:
    """One paper-preset experience of the CIFAR-100 example on the fake files (module docstring)."""
    import dataclasses
    import runpy
    from types import MappingProxyType

    import torchvision.datasets.cifar as tv_cifar

    from bootdrift_avalanche.experiments import config

    presets = config.PRESETS
    full = presets[preset]
    paper = dataclasses.replace(full, epochs=cut["epochs"], generator_steps=cut["generator_steps"],
                                real_acc_epochs=cut["real_acc_epochs"],
                                ddpm=MappingProxyType({**full.ddpm, "num_inference_steps": cut["sampling_steps"]}))
    print(f"example, preset {preset} on {device}, cut for one check: {cut} (uncut: epochs {full.epochs}, "
          f"DDPM steps {full.generator_steps or full.ddpm['train_steps']}, sampling steps "
          f"{full.ddpm['num_inference_steps']}, RealAcc epochs {full.real_acc_epochs})", flush=True)
    check = tv_cifar.check_integrity
    config.PRESETS = MappingProxyType({**presets, preset: paper})
    tv_cifar.check_integrity = lambda path, md5=None: os.path.isfile(path)  # fake files: presence only
    argv = sys.argv
    sys.argv = [str(ROOT / "examples" / "split_cifar100_ddgr.py"), "--preset", preset, "--device", device,
                "--data-root", str(data), "--no-download", "--only-experiences", "1", "--no-umap",
                "--log-dir", str(out)]
    w0 = time.perf_counter()
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        sys.argv, config.PRESETS, tv_cifar.check_integrity = argv, presets, check
    wall = time.perf_counter() - w0
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    times = {r["name"].replace("/train_phase/train_stream", ""): r["value"]
             for r in lines if r["name"].startswith("DriftTime")}
    print(f"\nexample: one experience in {wall:.1f} s wall (training, drift evaluation and the eval stream)")
    for name in sorted(times):
        print(f"  {name:32s} {times[name]:8.2f} s")
    return 0 if "DriftTime" in times else 1


def probe_realacc(epochs: List[int], n: int, seeds=(0, 1, 2)) -> None:
    import torch

    torch.set_num_threads(1)
    from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
    from bootdrift_avalanche.metrics.accuracy import real_data_accuracy

    xtr, ytr, xte, yte = load_digits_tensors()
    keep = torch.cat([torch.nonzero(ytr == c).flatten()[:n] for c in range(10)])
    x, y = xtr[keep], ytr[keep]
    print(f"\n== RealAcc against its epochs: Split Digits, {len(y)} training images as the synthetic set, "
          f"{len(yte)} test images, seeds {list(seeds)} (mean ± 95 % t-interval) ==")
    print(f"{'synthetic set':>16s} {'epochs':>6s} {'RealAcc':>16s} {'CPU s':>6s}")
    for label, noise in (("real", 0.0), ("real + noise 0.3", 0.3)):
        g = torch.Generator().manual_seed(1)
        xs = (x + noise * torch.randn(x.shape, generator=g)).clamp(0, 1)
        for e in epochs:
            vals, c0 = [], time.process_time()
            for seed in seeds:
                vals.append(real_data_accuracy(xs, y, xte, yte, epochs=e, seed=seed).accuracy)
            cpu = (time.process_time() - c0) / len(seeds)
            mean = sum(vals) / len(vals)
            sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
            print(f"{label:>16s} {e:6d} {mean:8.3f} ± {4.303 * sd / math.sqrt(len(vals)):5.3f} {cpu:6.2f}")


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, rest = argv[1], argv[2:]
        out = child_drift(rest[0], int(rest[1])) if kind == "drift" else child_label(*map(int, rest[:3]), rest[3])
        print(json.dumps(out))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--probe", choices=("drift", "label", "both", "example", "realacc"), default="both")
    p.add_argument("--epochs", type=int, nargs="+", default=[5, 10, 30], help="realacc probe: RealAcc epochs")
    p.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bootdrift_fake_cifar100",
                   help="fake CIFAR-100 files of the real size (written there when absent)")
    p.add_argument("--n", type=int, nargs="+", default=[30, 100], help="samples per class")
    p.add_argument("--classes", type=int, nargs="+", default=[100, 200, 400, 1000], help="label probe's class counts")
    p.add_argument("--d", type=int, default=512, help="label probe's feature dimension")
    p.add_argument("--baseline", default=BASELINE, help="git revision of the baseline code ('' for none)")
    p.add_argument("--baseline-max-classes", type=int, default=200)
    p.add_argument("--json", type=Path, help="write every measurement here")
    p.add_argument("--device", default="cuda", help="example probe: device")
    p.add_argument("--label-device", default="cpu", help="label probe: where the features and the label cost live")
    p.add_argument("--out", type=Path, help="example probe: log folder (default: a temporary one)")
    p.add_argument("--example-preset", default="paper", help="example probe: preset (tiny: a CPU smoke test)")
    p.add_argument("--cut", nargs=4, type=int, default=[1, 20, 10, 1],
                   metavar=("EPOCHS", "DDPM_STEPS", "SAMPLING_STEPS", "REALACC_EPOCHS"),
                   help="example probe: the step counts one experience runs with")
    args = p.parse_args(argv)
    if args.probe == "realacc":
        probe_realacc(args.epochs, args.n[0])
        return 0
    if args.probe == "example":
        ensure_data(args.data)
        cut = dict(zip(("epochs", "generator_steps", "sampling_steps", "real_acc_epochs"), args.cut))
        with tempfile.TemporaryDirectory() as tmp:
            return probe_example(args.data, args.out or Path(tmp), args.device, cut, args.example_preset)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    print(f"drift_scale: current code {ROOT} at {head or '?'}, baseline {args.baseline or 'none'}; "
          "one thread per process")
    results: dict = {"commit": head, "baseline": args.baseline}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"baseline": baseline_tree(args.baseline, Path(tmp))} if args.baseline else {}
        trees["current"] = ROOT
        if args.probe in ("drift", "both"):
            ensure_data(args.data)
            probe_drift(trees, args.data, args.n, results)
        if args.probe in ("label", "both"):
            probe_label(trees, args.n, args.classes, args.d, args.baseline_max_classes, results, args.label_device)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
