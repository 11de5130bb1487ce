"""What the drift metrics cost, per metric and per experience, against the training they measure.

A DDGR run on Split Digits at the ``tiny`` preset (``--preset``; the recipe the CLI builds, with
classifier guidance on as ``DDGRPlugin``'s default), one thread. Two parts, each in its own process (so numba's
compilation of UMAP is paid once in each, as in a user's script):

1. ``--part per-metric``: training with no drift metrics; after each experience (after DDGR's
   generator has trained) every cost of one drift evaluation is timed on its own: sampling the
   replay (guided) and the generator alone (``_unguided``), the features of the real reference, and
   each metric alone (FID, CFID, OTDD, RealAcc, the sample grid, UMAP). The feature extractor's
   one-off training is timed before the stream.
2. ``--part total``: training with ``drift_metrics`` under a setting (``--setting``) in the
   evaluator, as a user would add it; per experience the training time (``strategy.train`` minus
   the drift evaluation) beside the drift evaluation time. Then the **check**: the mean drift time
   per experience must be below the mean training time per experience (CPU s); the script exits 1
   if not.

Settings: ``default`` (``drift_metrics``' defaults), ``umap`` (the defaults with UMAP on, the
default before this bench), ``tiny`` (the tiny preset's drift sizes, as the CLI passes them),
``cheap`` (the cheap setting the README documents), ``bare`` (the defaults without the floor, KID
and the intervals: run it beside ``default`` to see what those cost).

    python bench/drift_cost.py                       # both parts, default setting
    python bench/drift_cost.py --part total --setting cheap
    python bench/drift_cost.py --part total --setting bare --preset cpu-small   # and --setting default

Wall s and CPU s (``time.process_time``: user+sys of this process, all threads) are printed side by
side; on a loaded machine compare the CPU columns.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

SETTINGS = {
    "default": {},
    "tiny": {"n_per_class": 8, "real_acc_epochs": 2},
    "umap": {"umap": True},  # the default before this bench: UMAP on
    "cheap": {"real_accuracy": False, "unguided": False, "every": 2},
    # the defaults without the real-vs-real floor, KID and the intervals: what those add is
    # default's drift CPU s over this one's
    "bare": {"floor": False, "kid": False, "intervals": 0},
}
METRICS = ("fid", "cfid", "otdd", "kid", "real_accuracy", "samples", "umap")  # SuiteConfig fields


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w0, time.process_time() - self.c0


def build(args, metrics):
    import torch
    from avalanche.training.plugins import EvaluationPlugin

    from bootdrift_avalanche.experiments import registry
    from bootdrift_avalanche.experiments.config import ReplayConfig, preset, resolve
    from bootdrift_avalanche.experiments.replay import build_solver

    cfg = resolve(ReplayConfig(strategy="ddgr", preset=args.preset, experiences=args.experiences, seed=args.seed,
                               guidance_scale=args.guidance_scale, progress=False))
    torch.manual_seed(cfg.seed)
    bm = registry.benchmark_builder(cfg.benchmark)(cfg, registry.recipe("ddgr").task_labels)
    model = build_solver(bm, preset(cfg.preset))
    evaluator = EvaluationPlugin(*metrics(bm), loggers=[])
    ctx = registry.BuildContext(cfg=cfg, preset=preset(cfg.preset), benchmark=bm, model=model, evaluator=evaluator)
    return bm, registry.recipe("ddgr").build(ctx)


def drift(bm, args, **over):
    from bootdrift_avalanche.plugins import drift_metrics

    from bootdrift_avalanche.metrics import SuiteConfig

    own = {"n_per_class", "unguided", "every"}  # drift_metrics' own arguments; the rest is SuiteConfig's
    setting = {**SETTINGS[args.setting], **over}
    return drift_metrics(reference_stream=bm.test_stream, feature_stream=bm.train_stream, seed=args.seed,
                         feature_cache_dir=args.cache, **{k: v for k, v in setting.items() if k in own},
                         suite=SuiteConfig(**{k: v for k, v in setting.items() if k not in own}))


def part_total(args) -> int:
    holder = {}

    def metrics(bm):
        holder["m"] = drift(bm, args)
        return holder["m"]

    bm, strategy = build(args, metrics)
    comp = holder["m"][0].computation
    with Clock() as c:
        comp.prepare()
    print(f"setting {args.setting}: {SETTINGS[args.setting] or 'drift_metrics defaults'}")
    print(f"feature extractor (one-off, before the stream): {c.wall:.2f} wall s, {c.cpu:.2f} CPU s")
    spent = {}
    result = comp.result

    def timed(strategy):
        step = int(strategy.clock.train_exp_counter)
        if step in spent:
            return result(strategy)
        with Clock() as ck:
            out = result(strategy)
        spent[step] = ck
        return out

    comp.result = timed
    rows = []
    print(f"{'exp':>3} {'train wall':>10} {'train CPU':>9} {'drift wall':>10} {'drift CPU':>9}")
    for k, exp in enumerate(bm.train_stream):
        with Clock() as tot:
            strategy.train(exp)
        d = spent.get(k)
        dw, dc = (d.wall, d.cpu) if d else (0.0, 0.0)
        rows.append((tot.wall - dw, tot.cpu - dc, dw, dc))
        print(f"{k:>3} {rows[-1][0]:>10.2f} {rows[-1][1]:>9.2f} {dw:>10.2f} {dc:>9.2f}")
    n = len(rows)
    mean = [sum(r[i] for r in rows) / n for i in range(4)]
    print(f"{'mean':>3} {mean[0]:>10.2f} {mean[1]:>9.2f} {mean[2]:>10.2f} {mean[3]:>9.2f}")
    ok = mean[3] < mean[1]
    print(f"CHECK drift CPU s per experience {mean[3]:.2f} < training CPU s per experience {mean[1]:.2f}: "
          f"{'PASS' if ok else 'FAIL'} (ratio {mean[3] / max(mean[1], 1e-9):.2f})")
    return 0 if ok else 1


def part_per_metric(args) -> int:
    import torch
    from avalanche.core import SupervisedPlugin

    from bootdrift_avalanche.metrics.suite import DriftSuite
    from bootdrift_avalanche.plugins.generator_lookup import find_sampler

    # a DriftComputation of the setting, used only for its reference pool, sampling and extractor
    comp = {}
    table = []

    class PerMetric(SupervisedPlugin):
        def after_training_exp(self, strategy, **kw):
            c = comp["c"]
            c.labels.add_experience(strategy.experience)
            seen = c.seen
            row = {}
            with torch.random.fork_rng():
                sampler = find_sampler(strategy)
                keys = [c.labels.key(g) for g in seen]
                real_x, real_y = c._reference.labelled(keys, seen)
                with Clock() as ck:
                    syn = c._sample(strategy, sampler, real_y)
                row["sampling (replay)"] = ck
                if sampler.guided:
                    with Clock() as ck:
                        c._sample(strategy, sampler.unguided(), real_y)
                    row["sampling (_unguided)"] = ck
                with Clock() as ck:
                    real_f = c.suite.real_features(real_x)
                row["real features"] = ck
                for m in METRICS:
                    if not getattr(c.cfg, m):
                        continue
                    cfg = replace(c.cfg, **{k: k == m for k in METRICS})
                    suite = DriftSuite(c.suite.extractor, cfg)
                    with Clock() as ck:
                        suite.evaluate(real_x, real_y, syn, real_y, real_features=real_f,
                                       umap_projection=c._projection() if m == "umap" else None)
                    row[m] = ck
            table.append(row)

    def metrics(bm):
        comp["c"] = drift(bm, args)[0].computation
        return []

    bm, strategy = build(args, metrics)
    with Clock() as ck:
        comp["c"].prepare()
    print(f"setting {args.setting}: {SETTINGS[args.setting] or 'drift_metrics defaults'}")
    print(f"feature extractor (one-off, before the stream): {ck.wall:.2f} wall s, {ck.cpu:.2f} CPU s")
    # right after the DDGR plugin: its generator has trained, and the clock has not moved on yet
    strategy.plugins.insert(strategy.plugins.index(strategy.ddgr_plugin) + 1, PerMetric())
    train = []
    for exp in bm.train_stream:
        spent = sum(c.cpu for row in table for c in row.values())
        spent_w = sum(c.wall for row in table for c in row.values())
        with Clock() as tot:
            strategy.train(exp)
        row = table[-1]
        train.append((tot.wall - (sum(c.wall for row in table for c in row.values()) - spent_w),
                      tot.cpu - (sum(c.cpu for row in table for c in row.values()) - spent)))
    names = list(dict.fromkeys(k for row in table for k in row))
    print("seconds per metric per experience, wall / CPU "
          "(UMAP at experience 0 includes its fit and numba's compilation)")
    print(f"{'':22s}" + "".join(f"{'exp ' + str(k):>13s}" for k in range(len(table))) + f"{'mean 1..':>13s}")
    for name in names + ["training"]:
        cells = []
        for k, row in enumerate(table):
            if name == "training":
                cells.append(train[k])
            else:
                c = row.get(name)
                cells.append((c.wall, c.cpu) if c else (0.0, 0.0))
        later = cells[1:] or cells
        mw, mc = sum(w for w, _ in later) / len(later), sum(c for _, c in later) / len(later)
        print(f"{name:22s}" + "".join(f"{w:6.2f}/{c:<6.2f}" for w, c in cells) + f"{mw:6.2f}/{mc:<6.2f}")
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("both", "per-metric", "total"), default="both")
    ap.add_argument("--setting", choices=tuple(SETTINGS), default="default")
    ap.add_argument("--preset", default="tiny", help="the sizes of the DDGR run (tiny, cpu-small)")
    ap.add_argument("--experiences", type=int, default=5)
    ap.add_argument("--guidance-scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=None, help="feature extractor cache (default: a fresh temporary folder)")
    args = ap.parse_args()
    if args.part == "both":
        rc = 0
        for part in ("per-metric", "total"):
            print(f"== {part} ==", flush=True)
            rc |= subprocess.call([sys.executable, __file__] + sys.argv[1:] + ["--part", part])
        sys.exit(rc)
    args.cache = args.cache or tempfile.mkdtemp(prefix="drift-cost-")
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", args.threads)
    sys.exit(part_total(args) if args.part == "total" else part_per_metric(args))


if __name__ == "__main__":
    os.environ.setdefault("TQDM_DISABLE", "1")
    main()
