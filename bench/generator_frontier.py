"""Quality per CPU second of the replay generators on all ten Split Digits classes (8x8): the
frontier that the ``cpu-small`` preset is chosen from.

Points:

* **DDPM** (``DDPMGenerator``, the DDGR generator): for each (UNet widths, batch size) one training
  run on the whole train split, evaluated at checkpoints along the way (``--checkpoints``: the run
  is a sequence of ``fit`` calls, each restarting AdamW, as DDGR's per-experience fits do); at every
  checkpoint every sampler (``--samplers``: ``ddim-10``, ``ddim-20``, ``ddim-50``, ``ddpm-50``, ...;
  ``ddpm-1000`` only at the last checkpoint, it costs 20x ``ddpm-50``) from the EMA weights, and
  ``ddim-50`` from the raw weights (EMA off).
* **GAN Memory** (``GANMemoryGenerator``): base GAN plus one task modulation on all ten classes, for
  each ``--gan-steps`` pair (base steps, task steps).
* **StyleGAN2** (``StyleGAN2Generator``, cpu-small preset): one training run evaluated at the
  cumulative steps ``--stylegan2``, sampled from G_ema at every truncation ``--psi``.

Per point: **judge accuracy** (a classifier trained on the training part of the train split labels
the samples; the share labelled as the asked class), **FID_clf** against the validation part of the
train split (penultimate features of that same classifier, which never sees those images; the
settings chosen here set the presets, so the test split is never read), **CPU s to train**
(cumulative up to the checkpoint),
**CPU s to sample 1,000 images** (measured on ``--per-class`` x 10 images, scaled). Unguided samples:
the generator alone. All CPU figures are user+sys of this process with one torch thread.

    python bench/generator_frontier.py --json /tmp/frontier.json --figure docs/replay_frontier.png
    python bench/generator_frontier.py --ddpm 8,16:64 --checkpoints 20 40 --gan-steps 20,10 --per-class 5  # smoke
    python bench/generator_frontier.py --ddpm --gan-steps --per-class 20 --json sg2.json      # StyleGAN2 only
    python bench/generator_frontier.py --ddpm --gan-steps --stylegan2 --per-class 20 \
        --merge docs/replay_frontier.json sg2.json --json docs/stylegan2_frontier.json \
        --figure docs/stylegan2_frontier.png

The frontier (printed last) keeps the points that no other point beats on judge accuracy at a lower
or equal train + sample cost (sampling counted for ``--replay-images`` images, what a DDGR run draws).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reproduce_paper import cpu_seconds  # noqa: E402  (one definition, in the bench that records every run)


def _sampler(name: str) -> Tuple[str, int]:
    kind, steps = name.split("-")
    return kind, int(steps)


def _ddpm_spec(spec: str) -> Tuple[Tuple[int, ...], int]:
    """``"16,32:128"`` -> ((16, 32), 128): UNet channels per level and the training batch size."""
    widths, batch = spec.split(":")
    return tuple(int(w) for w in widths.split(",")), int(batch)


def score(x, labels, judge, test_feats) -> Dict[str, float]:
    """Judge accuracy and FID_clf of samples ``x`` of classes ``labels``."""
    import torch

    from bootdrift_avalanche.metrics import frechet_distance
    from bootdrift_avalanche.nets import predict

    with torch.no_grad():
        feats = judge.features(x)
    return {"judge_acc": float((predict(judge, x) == labels).float().mean()),
            "fid_clf": frechet_distance(feats.double(), test_feats)}


def timed_samples(sample, labels, per_1000: float):
    """``sample(labels)`` and its CPU seconds scaled to 1,000 images."""
    c0 = cpu_seconds()
    x = sample(labels)
    return x, (cpu_seconds() - c0) * per_1000


def trained_to(gen, data, checkpoints):
    """Train ``gen`` on ``data`` up to each number of steps of ``checkpoints`` in turn (one run);
    yields ``(steps, training CPU seconds so far)`` at each."""
    trained, train_cpu = 0, 0.0
    for ckpt in checkpoints:
        c0 = cpu_seconds()
        gen.fit(*data, steps=ckpt - trained)
        train_cpu += cpu_seconds() - c0
        trained = ckpt
        yield ckpt, train_cpu


def ddpm_points(widths, batch, a, data, judge, test_feats) -> List[dict]:
    import torch

    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.generators.ddpm import DDPMGenerator

    cfg = PRESETS["cpu-small"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, block_out_channels=widths,
                                           batch_size=batch, seed=a.seed, threads=None)
    gen = DDPMGenerator(cfg)
    labels = torch.arange(10).repeat_interleave(a.per_class)
    per_1000 = 1000 / len(labels)
    points = []
    for ckpt, train_cpu in trained_to(gen, data, a.checkpoints):
        runs = [(s, True) for s in a.samplers] + [("ddim-50", False)]
        if ckpt == a.checkpoints[-1] and a.ddpm_1000:
            runs.append(("ddpm-1000", True))
        for sampler, ema in runs:
            kind, steps = _sampler(sampler)
            x, sample_cpu = timed_samples(
                lambda y: gen.generate(y, seed=a.seed + 1, sampler=kind, num_inference_steps=steps, use_ema=ema),
                labels, per_1000)
            pt = {"generator": "ddpm", "widths": list(widths), "batch": batch, "steps": ckpt, "sampler": sampler,
                  "ema": ema, "train_cpu_s": train_cpu, "sample_cpu_s_per_1000": sample_cpu,
                  **score(x, labels, judge, test_feats)}
            points.append(pt)
            print(_row(pt), flush=True)
    return points


def gan_memory_points(base_steps, task_steps, a, data, judge, test_feats) -> List[dict]:
    import torch

    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator

    x_tr, y_tr = data
    gen = GANMemoryGenerator(PRESETS["cpu-small"].gan_memory_config(
        image_shape=(1, 8, 8), num_classes=10, seed=a.seed, threads=None, base_steps=base_steps))
    c0 = cpu_seconds()
    gen.fit(x_tr, y_tr, steps=task_steps)  # base on all ten classes, then one task for all ten
    train_cpu = cpu_seconds() - c0
    labels = torch.arange(10).repeat_interleave(a.per_class)
    x, sample_cpu = timed_samples(lambda y: gen.generate(y, seed=a.seed + 1), labels, 1000 / len(labels))
    pt = {"generator": "gan-memory", "widths": [], "batch": gen.config.batch_size,
          "steps": base_steps + task_steps, "sampler": f"base {base_steps} + task {task_steps}", "ema": True,
          "train_cpu_s": train_cpu, "sample_cpu_s_per_1000": sample_cpu, **score(x, labels, judge, test_feats)}
    print(_row(pt), flush=True)
    return [pt]


def stylegan2_points(a, data, judge, test_feats) -> List[dict]:
    import torch

    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.generators.stylegan2 import StyleGAN2Generator

    gen = StyleGAN2Generator(PRESETS["cpu-small"].stylegan2_config(image_shape=(1, 8, 8), num_classes=10,
                                                                   seed=a.seed, threads=None))
    labels = torch.arange(10).repeat_interleave(a.per_class)
    points = []
    for ckpt, train_cpu in trained_to(gen, data, a.stylegan2):
        for psi in a.psi:
            x, sample_cpu = timed_samples(lambda y: gen.generate(y, seed=a.seed + 1, truncation=psi), labels,
                                          1000 / len(labels))
            pt = {"generator": "stylegan2", "widths": [], "batch": gen.config.batch_size, "steps": ckpt,
                  "sampler": f"psi {psi:g}", "ema": True, "train_cpu_s": train_cpu,
                  "sample_cpu_s_per_1000": sample_cpu, **score(x, labels, judge, test_feats)}
            points.append(pt)
            print(_row(pt), flush=True)
    return points


def _model(pt: dict) -> str:
    """The trained model a point belongs to (one colour in the figure)."""
    if pt["generator"] == "gan-memory":
        return "GAN Memory"
    if pt["generator"] == "stylegan2":
        return "StyleGAN2"
    return f"DDPM {'/'.join(map(str, pt['widths']))} b{pt['batch']}"


def _label(pt: dict) -> str:
    if pt["generator"] == "gan-memory":
        return f"GAN Memory {pt['sampler']}"
    if pt["generator"] == "stylegan2":
        return f"StyleGAN2 {pt['steps']} st {pt['sampler']}"
    w = "/".join(map(str, pt["widths"]))
    return f"DDPM {w} b{pt['batch']} {pt['steps']} st {pt['sampler']}{'' if pt['ema'] else ' raw'}"


def _row(pt: dict) -> str:
    return (f"{_label(pt):<44} judge {pt['judge_acc']:.3f}  FID_clf {pt['fid_clf']:7.2f}  "
            f"train {pt['train_cpu_s']:6.0f} CPU s  sample/1000 {pt['sample_cpu_s_per_1000']:6.1f} CPU s")


def frontier(points: List[dict], replay_images: int) -> List[dict]:
    """Points not beaten on judge accuracy by a point of lower or equal cost (cost: train CPU s +
    sampling ``replay_images`` images), cheapest first."""
    def cost(p):
        return p["train_cpu_s"] + p["sample_cpu_s_per_1000"] * replay_images / 1000

    out, best = [], -1.0
    for p in sorted(points, key=lambda p: (cost(p), -p["judge_acc"])):
        if p["judge_acc"] > best:
            out.append({**p, "cost_cpu_s": cost(p)})
            best = p["judge_acc"]
    return out


def figure(points: List[dict], front: List[dict], replay_images: int, path: str) -> None:
    """Judge accuracy against train + sampling CPU seconds: one colour per trained model, one marker
    per sampler (hollow: raw weights, EMA off), a line along each model's checkpoints."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def cost(p):
        return p["train_cpu_s"] + p["sample_cpu_s_per_1000"] * replay_images / 1000

    models = sorted({_model(p) for p in points})
    colour = {m: plt.get_cmap("tab10")(i) for i, m in enumerate(models)}
    samplers = sorted({p["sampler"] for p in points if p["generator"] != "gan-memory"})
    marker = dict(zip(samplers, "ov^sDP*X"))
    fig, ax = plt.subplots(figsize=(8, 5))
    series: Dict[Tuple[str, str, bool], List[dict]] = {}
    for p in points:
        model = _model(p)
        series.setdefault((model, "" if p["generator"] == "gan-memory" else p["sampler"], p["ema"]), []).append(p)
    for (model, sampler, ema), pts in sorted(series.items()):
        pts = sorted(pts, key=cost)
        ax.plot([cost(p) for p in pts], [p["judge_acc"] for p in pts], color=colour[model], lw=0.8,
                ls="-" if ema else ":", marker=marker.get(sampler, "s"), ms=5,
                mfc=colour[model] if ema else "none")
    for m in models:
        ax.plot([], [], color=colour[m], lw=2, label=m)
    for s_, mk in marker.items():
        ax.plot([], [], "k", marker=mk, ls="none", label=s_)
    ax.plot([], [], "k", marker="o", mfc="none", ls=":", label="EMA off (raw weights)")
    ax.plot([p["cost_cpu_s"] for p in front], [p["judge_acc"] for p in front], "k--", lw=1.5, label="frontier")
    ax.set_xscale("log")
    ax.set_xlabel(f"CPU seconds: training + sampling {replay_images} images (1 thread); points: 250-1500 steps")
    ax.set_ylabel("judge accuracy of unguided samples")
    ax.set_title("Split Digits, all ten classes: quality per CPU second")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ddpm", nargs="*", default=["16,32:128", "16,32:64", "32,64:128"],
                   help="DDPM runs as WIDTHS:BATCH (UNet channels per level, training batch)")
    p.add_argument("--checkpoints", type=int, nargs="+", default=[250, 500, 1000, 1500],
                   help="cumulative training steps at which each DDPM run is evaluated")
    p.add_argument("--samplers", nargs="+", default=["ddim-10", "ddim-20", "ddim-50", "ddpm-50"])
    p.add_argument("--no-ddpm-1000", dest="ddpm_1000", action="store_false",
                   help="skip DDPM-1000 at the last checkpoint")
    p.add_argument("--gan-steps", nargs="*", default=["400,200", "800,400"],
                   help="GAN Memory runs as BASE_STEPS,TASK_STEPS")
    p.add_argument("--stylegan2", type=int, nargs="*", default=[250, 500, 1000],
                   help="cumulative StyleGAN2 training steps at which it is evaluated (none: skip it)")
    p.add_argument("--psi", type=float, nargs="+", default=[1.0, 0.7], help="StyleGAN2 truncations sampled")
    p.add_argument("--per-class", type=int, default=30, help="samples per class per point")
    p.add_argument("--replay-images", type=int, default=1000,
                   help="images sampled per training run in the frontier's cost")
    p.add_argument("--judge-epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--merge", nargs="*", default=[],
                   help="--json files of earlier runs with the same judge set-up (seed, --per-class, --judge-epochs): "
                        "their points join this run's frontier, table and figure")
    p.add_argument("--json", help="write every point and the frontier here")
    p.add_argument("--figure", help="write the judge accuracy vs CPU seconds figure here (PNG)")
    a = p.parse_args()

    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)
    import torch

    from bootdrift_avalanche.benchmarks.digits import load_digits_validation
    from bootdrift_avalanche.nets import make_classifier, predict, train_classifier

    torch.set_flush_denormal(True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    x_tr, y_tr, x_te, y_te = load_digits_validation()  # tuning: the test split is never read
    judge = train_classifier(make_classifier((1, 8, 8), 10), x_tr, y_tr, epochs=a.judge_epochs, seed=a.seed)
    judge.requires_grad_(False)
    with torch.no_grad():
        test_feats = judge.features(x_te).double()
    print(f"judge: accuracy on the validation split {float((predict(judge, x_te) == y_te).float().mean()):.3f} "
          f"({len(x_tr)} train, {len(x_te)} validation images); {a.per_class * 10} samples per point\n", flush=True)

    points = []
    for spec in a.gan_steps:  # cheap: first
        base, task = (int(s) for s in spec.split(","))
        points += gan_memory_points(base, task, a, (x_tr, y_tr), judge, test_feats)
    if a.stylegan2:
        points += stylegan2_points(a, (x_tr, y_tr), judge, test_feats)
    for spec in a.ddpm:
        widths, batch = _ddpm_spec(spec)
        points += ddpm_points(widths, batch, a, (x_tr, y_tr), judge, test_feats)

    for path in a.merge:
        earlier = json.loads(Path(path).read_text())
        same = {k: earlier["args"][k] for k in ("seed", "per_class", "judge_epochs")}
        if same != {k: getattr(a, k) for k in same}:
            raise SystemExit(f"error: {path} was measured with {same}; rerun with those settings to merge")
        points = [p for p in earlier["points"] if p not in points] + points
    front = frontier(points, a.replay_images)
    print(f"\nfrontier (cost = train CPU s + sampling {a.replay_images} images):")
    for pt in front:
        print(f"  {pt['cost_cpu_s']:7.0f} CPU s  {_row(pt)}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s wall, {cpu_seconds() - c0:.0f} s CPU")
    if a.json:
        Path(a.json).write_text(json.dumps({"points": points, "frontier": front, "args": vars(a)}, indent=1))
        print(f"written: {a.json}")
    if a.figure:
        figure(points, front, a.replay_images, a.figure)
        print(f"written: {a.figure}")


if __name__ == "__main__":
    main()
