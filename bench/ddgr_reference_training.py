"""DDGR's generator trained our way vs the reference's way, side by side on Split Digits.

Two settings of ``DDPMConfig`` (everything else: ``PRESETS["cpu-small"]``, 8x8 digits, 10 classes):

- ``ours``      -- ``sample_with_ema=True,  lr_schedule="constant"`` (the defaults): sample from the
  EMA of the weights, which carries over between fits; constant learning rate;
- ``reference`` -- ``sample_with_ema=False, lr_schedule="linear"`` (xiaocangshengGR/DDGR): sample
  from the raw weights, learning rate annealed linearly to 0 over each fit (``lr_anneal_steps``).

The protocol follows DDGR's generator over two experiences, per seed and setting:

1. fit a fresh DDPM on the real train images of classes 0-4 (``--steps`` steps);
2. draw ``--replay-per-class`` images of each class 0-4 guided by the learner C(1) (a SmallCNN
   trained on the real classes 0-4; softmax over those classes; guidance scale 1, as DDGR);
3. continue fitting (``--steps`` steps, fresh AdamW) on the real classes 5-9 plus those replays;
4. score ``--eval-per-class`` unguided samples per class 0-9 with a *judge*, a SmallCNN trained on
   the whole real train split: accuracy (share labelled as the asked class) on the old classes 0-4
   and on the new classes 5-9, and the Fréchet distance to the held-out real test images of the same
   classes, in the judge's 128-d feature space (``FID``) and in pixel space (``pixFID``, 64-d).

CPU seconds (user+sys of this process) and wall seconds cover steps 1-3 (the method's own work).
The settings alternate (``ours`` first for even seeds, ``reference`` first for odd ones) in one
process, with one torch thread. Each cell is the mean over seeds and a 95 % t-interval
(mean ± t_{0.975,n−1}·sd/√n); ``X − ours`` is the paired difference over seeds. ``--settings``
adds the two one-option-at-a-time settings ``ema-linear`` and ``raw-constant``.

**EMA age.** In a two-fit run the EMA is still warming up (diffusers' decay min(0.995,
(1+n)/(10+n)) stays below 0.995 until step ~1800), so almost none of the previous model survives
in it. From the 5th experience of a DDGR run on the cpu-small preset on, the decay is capped and
0.995^400 = 13 % of the sampling weights after a fit are the previous model's. To measure that
regime, the EMA's step count is set before fit 2 to ``--ema-age`` (default 4·steps, as at the 5th
experience); the printed ``prev share`` is the weight the sampling EMA gives the pre-fit-2 weights.
``--ema-age 0`` runs the plain two-fit protocol.

**Sizes.** The preset's DDGR generator runs 400 steps per experience; ``--steps`` defaults to 400
(the same); ``--steps 200`` halves the run time. Defaults (2 settings, 3 seeds) took 504 CPU-s
(508 s wall) on one core of the 2-core dev box; each extra setting adds ~200 s:

    .venv/bin/python bench/ddgr_reference_training.py                  # 3 seeds, 400 steps per fit
    .venv/bin/python bench/ddgr_reference_training.py --seeds 0 1 2 3 --json out.json
    .venv/bin/python bench/ddgr_reference_training.py --settings ours ema-linear raw-constant
    .venv/bin/python bench/ddgr_reference_training.py --ema-age 0    # plain two fits

Measured figures and the conclusion: the ``generators.ddpm`` package docstring and
``docs/ddpm_guidance_and_training.md``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reproduce_paper import cpu_seconds, t_interval  # noqa: E402  (one definition, in the bench that records every run)

SETTINGS = {
    "ours": dict(sample_with_ema=True, lr_schedule="constant"),
    "reference": dict(sample_with_ema=False, lr_schedule="linear"),
    # one option at a time (``--settings ours ema-linear raw-constant``), to tell which one matters
    "ema-linear": dict(sample_with_ema=True, lr_schedule="linear"),
    "raw-constant": dict(sample_with_ema=False, lr_schedule="constant"),
}
METRICS = ("acc_old", "acc_new", "fid_old", "fid_new", "pixfid_old", "pixfid_new", "prev_share",
           "cpu_s", "wall_s")
HEADERS = ("acc 0-4", "acc 5-9", "FID 0-4", "FID 5-9", "pixFID 0-4", "pixFID 5-9", "prev share",
           "CPU s", "wall s")


def run_setting(name: str, seed: int, data, judge, learner, args) -> Dict[str, float]:
    import torch

    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.generators.ddpm import DDPMGenerator
    from bootdrift_avalanche.metrics import frechet_distance
    from bootdrift_avalanche.nets import predict

    x_tr, y_tr, x_te, y_te = data
    cfg = PRESETS["cpu-small"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, seed=seed, **SETTINGS[name])
    old_classes = list(range(5))
    old_tr = y_tr < 5

    t0, c0 = time.perf_counter(), cpu_seconds()
    g = DDPMGenerator(cfg)
    g.fit(x_tr[old_tr], y_tr[old_tr], steps=args.steps)  # experience 1: real classes 0-4
    replay_y = torch.arange(5).repeat_interleave(args.replay_per_class)
    replay_x = g.generate(replay_y, seed=1000 + seed, guidance=learner, guidance_scale=1.0,
                          guidance_classes=old_classes)
    if args.ema_age is not None:
        age = 4 * args.steps if args.ema_age < 0 else args.ema_age
        g.ema.optimization_step = max(g.ema_updates, age)
    start = g.ema_updates
    g.fit(torch.cat([x_tr[~old_tr], replay_x]), torch.cat([y_tr[~old_tr], replay_y]), steps=args.steps)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    share = math.prod(g.ema.get_decay(n) for n in range(start + 1, g.ema_updates + 1)) if cfg.sample_with_ema else 0.0

    labels = torch.arange(10).repeat_interleave(args.eval_per_class)
    x_gen = g.generate(labels, seed=2000 + seed)  # unguided: the generator's own class conditioning
    pred = predict(judge, x_gen)
    with torch.no_grad():
        f_gen, f_te = judge.features(x_gen), judge.features(x_te)
    out = {"prev_share": share, "cpu_s": cpu, "wall_s": wall}
    for group, mask_gen, mask_te in (("old", labels < 5, y_te < 5), ("new", labels >= 5, y_te >= 5)):
        out[f"acc_{group}"] = float((pred[mask_gen] == labels[mask_gen]).float().mean())
        out[f"fid_{group}"] = frechet_distance(f_gen[mask_gen].double(), f_te[mask_te].double())
        out[f"pixfid_{group}"] = frechet_distance(x_gen[mask_gen].flatten(1).double(),
                                                  x_te[mask_te].flatten(1).double())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=400, help="DDPM steps per fit (cpu-small DDGR: 400)")
    p.add_argument("--replay-per-class", type=int, default=60, help="replays per old class (cpu-small: 60)")
    p.add_argument("--eval-per-class", type=int, default=100, help="unguided samples per class for the judge")
    p.add_argument("--judge-epochs", type=int, default=30, help="epochs of the judge and of the learner C(1)")
    p.add_argument("--ema-age", type=int, default=-1,
                   help="EMA step count before fit 2 (-1: 4*steps, as at the 5th experience; 0: as it is)")
    p.add_argument("--settings", nargs="+", default=["ours", "reference"], choices=list(SETTINGS),
                   help="settings to compare; the first is the baseline of the paired differences")
    p.add_argument("--json", help="write per-seed figures and the summary here")
    args = p.parse_args()

    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu")
    import torch

    from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
    from bootdrift_avalanche.nets import make_classifier, predict, train_classifier

    torch.set_flush_denormal(True)
    names = list(dict.fromkeys(args.settings))
    base = names[0]
    per_seed: Dict[str, List[Dict[str, float]]] = {k: [] for k in names}
    t_start = time.perf_counter()
    for i, seed in enumerate(args.seeds):
        data = load_digits_tensors()
        x_tr, y_tr, x_te, y_te = data
        judge = train_classifier(make_classifier((1, 8, 8), 10), x_tr, y_tr, epochs=args.judge_epochs, seed=seed)
        judge.requires_grad_(False)
        judge_acc = float((predict(judge, x_te) == y_te).float().mean())
        old = y_tr < 5
        learner = train_classifier(make_classifier((1, 8, 8), 10), x_tr[old], y_tr[old],
                                   epochs=args.judge_epochs, seed=100 + seed).requires_grad_(False)
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            r = run_setting(name, seed, data, judge, learner, args)
            r["judge_test_acc"] = judge_acc
            per_seed[name].append(r)
            print(f"seed {seed} {name:>12}: " + "  ".join(f"{k} {r[k]:.3f}" for k in METRICS)
                  + f"  (judge test acc {judge_acc:.3f})", flush=True)

    n = len(args.seeds)
    print(f"\nSplit Digits, cpu-small DDPM, {args.steps} steps per fit, {args.replay_per_class} replays/class, "
          f"{args.eval_per_class} samples/class, EMA age {args.ema_age}; mean ± 95% t-interval over {n} seeds")
    w = 15
    print(f"{'setting':>24} | " + " | ".join(f"{h:>{w}}" for h in HEADERS))
    summary: Dict[str, Dict[str, list]] = {}
    rows = [(n, n, None) for n in names] + [(f"{n} − {base}", n, base) for n in names[1:]]
    for label, name, minus in rows:
        cells, summary[label] = [], {}
        for k in METRICS:
            if minus is not None:  # paired over seeds
                vals = [b[k] - a[k] for a, b in zip(per_seed[minus], per_seed[name])]
            else:
                vals = [r[k] for r in per_seed[name]]
            m, h = t_interval(vals)
            summary[label][k] = [m, h]
            digits = 1 if k in ("cpu_s", "wall_s") else 2 if "fid" in k else 3
            cells.append(f"{m:.{digits}f} ± {h:.{digits}f}")
        print(f"{label:>24} | " + " | ".join(f"{c:>{w}}" for c in cells))
    print(f"total wall {time.perf_counter() - t_start:.0f} s, CPU {cpu_seconds():.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "per_seed": per_seed, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
