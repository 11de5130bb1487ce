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
   The current code runs in the suite configurations of ``DRIFT_CONFIGS`` (``--configs``): the
   baseline's metrics alone (FID, CFID, OTDD: ``as-base``), with KID/CKID added, each with float32
   and bfloat16 features, and today's defaults (floor and intervals).
2. ``label``: OTDD's Gaussian label cost alone of C real against C synthetic classes (d = 512, n
   per class, class centres ``--sep`` × N(0, I)), by ``--route``: ``plan`` (OTDDhier's class
   plan, the pairs it can use) or ``full`` (every pair), C from 100 up to 1,000: CPU s, its fitted exponent
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

5. ``throughput`` (not part of ``both``; the drift probe prints it too): the float32 GEMM rate of
   this core and the ``random`` extractor's, and what the features of an evaluation at 100 classes
   (20 new) and the last ``--n`` cost at the least in float32.

    python bench/drift_scale.py --probe throughput --n 100

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


def _drift_metrics(opts: dict, **kw):
    """``drift_metrics`` with the suite options ``opts`` (``floor``, ``intervals``,
    ``feature_precision``), through whichever API the code on the path has; the baseline has none
    of them (no floor, no intervals, float32 features), so it is called without."""
    import inspect

    from bootdrift_avalanche.plugins import drift_metrics

    params = inspect.signature(drift_metrics).parameters
    if not opts:
        return drift_metrics(**kw)
    if "suite" in params:
        from bootdrift_avalanche.metrics.suite import SuiteConfig

        suite_kw = {k: kw.pop(k) for k in ("real_accuracy", "samples", "umap") if k in kw}
        return drift_metrics(**kw, suite=SuiteConfig(**suite_kw, **opts))
    direct = {k: v for k, v in opts.items() if k in params}
    metrics = drift_metrics(**kw, **direct)
    rest = {k: v for k, v in opts.items() if k not in params}
    if rest:  # knobs drift_metrics does not take yet: set on the computation's suite config
        from dataclasses import replace

        comp = metrics[0].computation
        comp.cfg = replace(comp.cfg, **rest)
    return metrics


def child_drift(data: str, n: int, opts: dict) -> dict:
    from types import SimpleNamespace

    import torch

    torch.set_num_threads(1)
    from bootdrift_avalanche.benchmarks.cifar100 import split_cifar100

    w0, c0 = _clocks()
    bm = split_cifar100(5, data, download=False)
    w1, c1 = _clocks()
    out = {"load_cpu": c1 - c0, "load_wall": w1 - w0, "rss_after_load_mb": _peak_rss_mb(), "experiences": []}
    metrics = _drift_metrics(opts, reference_stream=bm.test_stream, features="random", n_per_class=n,
                             real_accuracy=False, samples=False, umap=False, generator=TinyGenerator(), seed=0)
    comp = metrics[0].computation
    for k, exp in enumerate(bm.train_stream):
        strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=k, train_iterations=k), experience=exp,
                                   plugins=[], model=None)
        w0, c0 = _clocks()
        _, values = comp.result(strategy)
        w1, c1 = _clocks()
        parts = {name: v for name, v in values.scalars.items() if name.startswith("DriftTime")}
        out["experiences"].append({"classes": len(comp.seen), "cpu": c1 - c0, "wall": w1 - w0,
                                   "peak_rss_mb": _peak_rss_mb(), "parts": parts,
                                   "values": {k: v for k, v in values.scalars.items()
                                              if k.split("_")[0] in ("FID", "CFID", "OTDD", "OTDDhier")
                                              and "/" not in k}})
    return out


def child_label(classes: int, n: int, d: int, device: str = "cpu", sep: float = 1.0, route: str = "full") -> dict:
    """One label-cost measurement: ``full`` every class pair (``gaussian_label_distances``, what
    OTDD, OTDDent and OTDD-compat use) or ``plan`` the class plan of OTDDhier (the variant at this
    size): the full matrix then ``ot.emd`` where the code has no ``otdd_class_plan``, else the pairs
    the plan can use. ``plan_cost`` (Σ π·W) is the same for both routes when the plans agree."""
    import numpy as np
    import ot  # noqa: F401  (imported before the clock: a one-time cost of the process)
    import torch

    torch.set_num_threads(1)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    from bootdrift_avalanche.metrics.otdd import class_gaussians, gaussian_label_distances

    g = torch.Generator().manual_seed(0)
    y = torch.arange(classes).repeat_interleave(n)
    centres = sep * torch.randn(classes, d, generator=g, dtype=torch.float64)
    xa = centres[y] + torch.randn(len(y), d, generator=g, dtype=torch.float64)
    xb = centres[y] + 1.2 * torch.randn(len(y), d, generator=g, dtype=torch.float64)
    xa, xb, y = xa.to(device), xb.to(device), y.to(device)
    mass = torch.full((classes,), 1.0 / classes, dtype=torch.float64)
    sync()
    rss0 = _peak_rss_mb()
    w0, c0 = _clocks()
    ga = class_gaussians(xa, y, torch.arange(classes, device=device), "a")
    gb = class_gaussians(xb, y, torch.arange(classes, device=device), "b")
    out = {}
    if route == "full":
        w = gaussian_label_distances(ga, gb)
        out.update(checksum=float(w.sum()), diag_mean=float(w.diagonal().mean()), pairs=classes * classes)
    else:
        try:
            from bootdrift_avalanche.metrics.otdd_class_plan import class_plan
        except ImportError:  # the baseline: the full matrix, then the plan
            import ot

            w = gaussian_label_distances(ga, gb)
            plan, pairs = ot.emd(mass.numpy(), mass.numpy(), (2.0 * w).numpy()), classes * classes
        else:
            plan, w, pairs = class_plan(ga, gb, mass, mass)
        out.update(checksum=float((torch.from_numpy(np.asarray(plan)) * w).sum()), pairs=pairs)
    sync()
    w1, c1 = _clocks()
    return {"cpu": c1 - c0, "wall": w1 - w0, "extra_rss_mb": _peak_rss_mb() - rss0, **out}


def child_throughput() -> dict:
    """This core's float32 GEMM rate (2048³) and the ``random`` extractor's float32 rate on 32x32
    images (FLOPs counted from its convolutions), CPU-time based, one thread: how far the features
    of an evaluation can be brought down in float32 at all."""
    import torch

    torch.set_num_threads(1)
    from bootdrift_avalanche.metrics.random_features import RandomFeatures

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    c0 = time.process_time()
    for _ in range(5):
        a @ b
    gemm = 5 * 2 * 2048**3 / (time.process_time() - c0)
    ex = RandomFeatures(seed=0)
    x = torch.rand(500, 3, 32, 32)
    ex(x)
    c0 = time.process_time()
    for _ in range(2):
        ex(x)
    per_image = (time.process_time() - c0) / 1000
    flops, side = 0, 32
    for conv in (m for m in ex.model if isinstance(m, torch.nn.Conv2d)):
        side //= conv.stride[0]  # padding 1 keeps the side at stride 1
        flops += 2 * conv.in_channels * conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1] * side * side
    return {"gemm_gflops": gemm / 1e9, "extractor_ms": 1e3 * per_image, "extractor_mflop": flops / 1e6}


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


#: the current code's configurations in the drift probe: (label, suite options)
DRIFT_CONFIGS = (
    ("as-base", {"floor": False, "intervals": 0, "kid": False}),  # what the baseline computes: FID, CFID, OTDD
    ("as-base-bf16", {"floor": False, "intervals": 0, "kid": False, "feature_precision": "bfloat16"}),
    ("cur-f32", {"floor": False, "intervals": 0}),  # the baseline's metrics and KID/CKID (the baseline has none)
    ("cur-bf16", {"floor": False, "intervals": 0, "feature_precision": "bfloat16"}),
    ("cur-dflt", {"floor": True, "intervals": 12}),  # today's defaults: floor and 12 bootstrap replicates
    ("cur-dflt-bf16", {"floor": True, "intervals": 12, "feature_precision": "bfloat16"}),
)


def probe_drift(trees: Dict[str, Path], data: Path, ns: List[int], results: dict,
                configs: Optional[List[str]] = None) -> None:
    todo = [("baseline", trees["baseline"], {})] if "baseline" in trees else []
    todo += [(label, trees["current"], opts) for label, opts in DRIFT_CONFIGS if configs is None or label in configs]
    for n in ns:
        runs = {label: run_child(tree, ["drift", str(data), str(n), json.dumps(opts)]) for label, tree, opts in todo}
        results[f"drift_n{n}"] = runs
        print(f"\n== drift evaluation per experience, n_per_class = {n} (random extractor, RealAcc off) ==")
        for label, _, opts in todo:
            r = runs[label]
            print(f"{label:14s} {json.dumps(opts) if opts else '(909100f: no floor, no intervals, float32)'}; "
                  f"load {r['load_cpu']:.1f} CPU s, RSS after load {r['rss_after_load_mb']:.0f} MB")
        classes = [e["classes"] for e in next(iter(runs.values()))["experiences"]]
        print(f"{'':14s} " + " ".join(f"{c:>8d}" for c in classes)
              + "   classes: CPU s per experience (wall s, peak MB at the last)")
        base = runs.get("baseline", {}).get("experiences", [{}])[-1].get("cpu")
        for label, r in runs.items():
            ex = r["experiences"]
            ratio = f", {base / ex[-1]['cpu']:.2f}x less than the baseline" if base and label != "baseline" else ""
            print(f"{label:14s} " + " ".join(f"{e['cpu']:8.2f}" for e in ex)
                  + f"   ({ex[-1]['wall']:.1f} s, {ex[-1]['peak_rss_mb']:.0f} MB; growth exponent "
                  f"{fit_exponent([e['classes'] for e in ex], [e['cpu'] for e in ex]):.2f}{ratio})")
        for label, r in runs.items():
            last = r["experiences"][-1]
            if last["parts"]:
                shown = ", ".join(f"{k.split('/')[1]} {last['parts'][k]:.2f}" for k in sorted(last["parts"])
                                  if k.startswith("DriftTimeCPU/"))
                print(f"{label:14s} last experience, CPU s per part: {shown}")
        print("values at the last experience (float32 vs bfloat16 features: the difference beside the floor "
              "and the interval):")
        for label, r in runs.items():
            v = r["experiences"][-1]["values"]
            print(f"{label:14s} " + ", ".join(f"{k} {v[k]:.4g}" for k in sorted(v)))
        probe_throughput(trees["current"], classes[-1], classes[-1] - (classes[-2] if len(classes) > 1 else 0), n,
                         results)


def probe_throughput(tree: Path, classes: int, new_classes: int, n: int, results: dict) -> None:
    """What the float32 features of one evaluation cost at the least: synthetic images of every
    class and real images of the new ones, at this core's float32 GEMM rate."""
    tp = run_child(tree, ["throughput"])
    results[f"throughput_n{n}"] = tp
    images = (classes + new_classes) * n
    print(f"float32 floor of the features: an evaluation at {classes} classes ({new_classes} new), n = {n}, "
          f"extracts {images} images at {tp['extractor_mflop']:.0f} MFLOP each; the random extractor runs at "
          f"{tp['extractor_ms']:.3f} ms per image ({tp['extractor_mflop'] / tp['extractor_ms']:.0f} GFLOP/s), this "
          f"core's float32 GEMM at {tp['gemm_gflops']:.0f} GFLOP/s: at least "
          f"{images * tp['extractor_mflop'] / 1e3 / tp['gemm_gflops']:.1f} CPU s at GEMM speed, "
          f"{images * tp['extractor_ms'] / 1e3:.1f} CPU s as the extractor runs")


def probe_label(trees: Dict[str, Path], ns: List[int], classes: List[int], d: int, baseline_max: int,
                results: dict, device: str = "cpu", route: str = "full", sep: float = 1.0) -> None:
    for n in ns:
        rows = []
        for c in classes:
            row = {"classes": c}
            for name, tree in trees.items():  # alternating baseline / current at every size
                if name == "baseline" and c > baseline_max:
                    continue
                row[name] = run_child(tree, ["label", str(c), str(n), str(d), device, str(sep), route])
            rows.append(row)
        results[f"label_{route}_sep{sep}_n{n}"] = rows
        what = {"full": "every class pair", "plan": "OTDDhier's class plan (baseline: full matrix + emd)"}[route]
        print(f"\n== OTDD label cost alone, {what}: n = {n} per class, d = {d}, class centres "
              f"{sep} x N(0, I), on {device} ==")
        print(f"{'classes':>7s} {'baseline CPU s':>15s} {'current CPU s':>14s} {'ratio':>6s} {'current wall s':>14s} "
              f"{'current +MB':>11s} {'pairs':>8s} {'rel diff':>9s}")
        for row in rows:
            b, c = row.get("baseline"), row["current"]
            diff = abs(b["checksum"] - c["checksum"]) / abs(b["checksum"]) if b else float("nan")
            print(f"{row['classes']:7d} {b['cpu'] if b else float('nan'):15.2f} {c['cpu']:14.2f} "
                  f"{(b['cpu'] / c['cpu']) if b else float('nan'):6.2f} {c['wall']:14.2f} "
                  f"{c['extra_rss_mb']:11.0f} {c.get('pairs', 0):8d} {diff:9.1e}")
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
              f"at 1,000 classes {at:.1f} CPU s ({how})")
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
        if kind == "drift":
            out = child_drift(rest[0], int(rest[1]), json.loads(rest[2]))
        elif kind == "throughput":
            out = child_throughput()
        else:
            out = child_label(*map(int, rest[:3]), rest[3], float(rest[4]), rest[5])
        print(json.dumps(out))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--probe", choices=("drift", "label", "both", "example", "realacc", "throughput"), default="both")
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
    p.add_argument("--configs", nargs="+", choices=[c for c, _ in DRIFT_CONFIGS],
                   help="drift probe: the current code's configurations (default: all)")
    p.add_argument("--route", choices=("full", "plan"), default="plan",
                   help="label probe: every class pair, or OTDDhier's class plan (the pairs it can use)")
    p.add_argument("--sep", type=float, default=1.0,
                   help="label probe: scale of the class centres (1: apart; 0.1: overlapping classes)")
    p.add_argument("--out", type=Path, help="example probe: log folder (default: a temporary one)")
    p.add_argument("--example-preset", default="paper", help="example probe: preset (tiny: a CPU smoke test)")
    p.add_argument("--cut", nargs=4, type=int, default=[1, 20, 10, 1],
                   metavar=("EPOCHS", "DDPM_STEPS", "SAMPLING_STEPS", "REALACC_EPOCHS"),
                   help="example probe: the step counts one experience runs with")
    args = p.parse_args(argv)
    if args.probe == "realacc":
        probe_realacc(args.epochs, args.n[0])
        return 0
    if args.probe == "throughput":
        probe_throughput(ROOT, 100, 20, args.n[-1], {})
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
            probe_drift(trees, args.data, args.n, results, args.configs)
        if args.probe in ("label", "both"):
            probe_label(trees, args.n, args.classes, args.d, args.baseline_max_classes, results, args.label_device,
                        args.route, args.sep)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
