"""The ``bootdrift`` command: one subcommand per job, each writing one run directory.

    bootdrift replay --strategy ddgr --benchmark digits --preset cpu-small --run-dir runs/ddgr
    bootdrift bootstrap --generator wgan --data gmm --stages 10 --mix-real 0 --run-dir runs/gmm
    bootdrift report runs/ddgr
    bootdrift compare runs/ddgr runs/gr --out runs/compare.html
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

EPILOG = """examples:
  bootdrift replay --strategy ddgr --benchmark digits              # DDGR on Split Digits, CPU preset
  bootdrift replay --strategy dgr-ddpm --benchmark digits          # the same DDPM replay without guidance
  bootdrift replay --strategy avalanche-gr --benchmark digits      # Avalanche's GenerativeReplay baseline
  bootdrift replay --strategy ddgr --benchmark cifar100 --data-root ~/data --device cuda --preset paper
  bootdrift replay --benchmark cifar100 --data-root ~/data --preset paper --features inception  # FID as published
  bootdrift bootstrap --generator wgan --data gmm --stages 10 --mix-real 0.25 --seed 1
  bootdrift bootstrap --regime fresh --mix-real 0.2 --data digits --generator ddpm --fresh-size 500 --stages 3
  bootdrift bootstrap --regime accumulate --stages 5 --sampling-bias 0.7   # truncated WGAN samples
  bootdrift bootstrap --data digits --generator ddpm --regime replace --guidance-scale 8 --train-size 560
  bootdrift bootstrap --data pydoc --generator ngram --regime replace --stages 5   # language-model loop
  bootdrift bootstrap --data textfile --text-dir my_texts/ --generator gpt2 --regime accumulate
  bootdrift bootstrap --data wikitext --data-root ~/data/wikitext-2-raw --generator ngram
  bootdrift bootstrap --resume runs/bootstrap-gmm-...              # continue after a crash
  bootdrift report runs/replay-ddgr-digits-...                     # HTML report + PNG figures
  bootdrift compare runs/A runs/B --out runs/compare.html
"""


def _default(cls, name: str):
    """The default of field ``name`` of the config dataclass ``cls``: the one place it is written."""
    import dataclasses

    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _default_run_dir(prefix: str) -> Path:
    return Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"


def _start(device: str, threads: Optional[int]):
    """Thread settings, then the process group when started by torchrun (a no-op otherwise).
    Returns the ``distributed`` module."""
    from .runtime.threads import configure_threads

    configure_threads(device, threads)
    import avalanche.evaluation.metrics  # noqa: F401  (it builds a logger at import: before the process group)

    from .runtime import distributed as D

    D.init_from_env(device)
    return D


def _footer(run_dir: Path) -> str:
    return (f"\nrun directory: {run_dir}\n  metrics: {run_dir / 'metrics.jsonl'}\n"
            f"  TensorBoard: tensorboard --logdir {run_dir / 'tb'}\n"
            f"  report: bootdrift report {run_dir}")


def _config(cls, a, names, run_dir: Path):
    """The run's config: the values given on the command line over (on ``--resume``) the saved ones
    or (new run) the dataclass defaults. A value given on resume that differs from the saved run
    makes ``open_run_dir`` refuse the directory."""
    from .experiments.config import config_from
    from .experiments.rundir import read_config

    given = {n: getattr(a, n) for n in names if getattr(a, n, None) is not None}
    saved = None
    if a.resume:
        saved = read_config(run_dir)
        if saved is None:
            raise FileNotFoundError(f"cannot resume {run_dir}: no config.json there")
    return config_from(cls, {**given, "progress": not a.quiet}, saved)


_COMMON = ("preset", "seed", "device", "data_root", "download", "features")


def cmd_replay(a) -> int:
    from .experiments.config import ReplayConfig
    from .experiments.replay import run_replay
    from .experiments.tables import replay_table

    strategy = a.strategy or _default(ReplayConfig, "strategy")
    benchmark = a.benchmark or _default(ReplayConfig, "benchmark")
    kind = f"replay-{strategy}-{benchmark}"
    run_dir = Path(a.resume or a.run_dir or _default_run_dir(kind))
    a.drift = False if a.no_drift else None
    a.umap = False if a.no_umap else None
    cfg = _config(ReplayConfig, a, ("strategy", "benchmark", "experiences", "epochs", "drift", "umap",
                                    "generator_steps", "guidance_scale", "n_per_class", "real_acc_epochs") + _COMMON,
                  run_dir)
    D = _start(cfg.device, a.threads)
    out = run_replay(cfg, run_dir, resume=a.resume is not None)
    if D.is_distributed():
        print(f"rank {D.rank()}/{D.world_size()}: models identical on all ranks: {out.ranks_agree}")
    if D.is_main_process():
        print(replay_table(out))
        print(_footer(run_dir))
    return 0


def cmd_bootstrap(a) -> int:
    from .experiments.bootstrap import run_bootstrap_experiment
    from .experiments.config import BootstrapConfig
    from .experiments.tables import bootstrap_table

    generator, data = a.generator or _default(BootstrapConfig, "generator"), a.data or _default(BootstrapConfig, "data")
    kind = f"bootstrap-{generator}-{data}"
    run_dir = Path(a.resume or a.run_dir or _default_run_dir(kind))
    a.continue_training = True if a.continue_training else None
    cfg = _config(BootstrapConfig, a, ("generator", "data", "stages", "regime", "mix_real", "fresh_size",
                                       "sampling_bias", "guidance_scale", "train_size", "continue_training",
                                       "generator_steps", "floor_n", "intervals")
                  + ("text_file", "text_dir", "ngram_order") + _COMMON, run_dir)
    D = _start(cfg.device, a.threads)
    result = run_bootstrap_experiment(cfg, run_dir, resume=a.resume is not None)
    if D.is_main_process():
        print(bootstrap_table(result))
        print(_footer(run_dir))
    return 0


def cmd_report(a) -> int:
    from .experiments.report import write_report

    out = write_report(a.run_dir)
    print(f"report: {out}\nfigures: {Path(a.run_dir) / 'figures'}")
    return 0


def cmd_compare(a) -> int:
    from .experiments.report import write_comparison

    out = write_comparison(a.run_dirs, a.out)
    print(f"comparison: {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .experiments.config import PRESETS, BootstrapConfig, ReplayConfig
    from .bootstrap.regimes import REGIMES
    from .experiments.registry import BENCHMARKS, DATA, GENERATORS, strategy_names
    from .metrics.features import EXTRACTOR_KINDS

    p = argparse.ArgumentParser(prog="bootdrift", description="Generative replay and drift measurements for Avalanche.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--preset", choices=list(PRESETS),
                        help=f"model sizes (default: {_default(ReplayConfig, 'preset')})")
        sp.add_argument("--seed", type=int, help=f"random seed (default: {_default(ReplayConfig, 'seed')})")
        sp.add_argument("--device", help="torch device, e.g. cpu or cuda (default: cuda when available, else cpu)")
        sp.add_argument("--run-dir", help="run directory (default: runs/<kind>-<time>)")
        sp.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR after its last checkpoint")
        sp.add_argument("--data-root", help="dataset root for cifar100 / flowers102 / wikitext (wiki.*.raw)")
        sp.add_argument("--download", action="store_true", default=None, help="allow downloading cifar100 / flowers102")
        sp.add_argument("--quiet", action="store_true", help="no progress bars")
        sp.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU, best for the small presets)")
        sp.add_argument("--features", choices=list(EXTRACTOR_KINDS),
                        help="feature space of FID/CFID/OTDD, named in every tag (default: clf for images, identity "
                             "for points; resnet50 and inception need their weights files, "
                             "see docs/FEATURE_EXTRACTORS.md)")

    r = sub.add_parser("replay", help="continual learning with generative replay + drift metrics",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--strategy", choices=strategy_names(), help=f"default: {_default(ReplayConfig, 'strategy')}")
    r.add_argument("--benchmark", choices=list(BENCHMARKS), help=f"default: {_default(ReplayConfig, 'benchmark')}")
    r.add_argument("--experiences", type=int, help=f"default: {_default(ReplayConfig, 'experiences')}")
    r.add_argument("--epochs", type=int, help="solver epochs per experience (default: the preset's)")
    r.add_argument("--generator-steps", type=int,
                   help="generator training steps per experience (default: the preset's)")
    r.add_argument("--guidance-scale", type=float,
                   help="classifier-guidance scale of the replays (ddgr: default 1.0, the published value; 0 is the "
                        "unguided dgr-ddpm); refused by strategies without guidance")
    r.add_argument("--n-per-class", type=int,
                   help="drift metrics: real and synthetic samples per class (default: the preset's)")
    r.add_argument("--real-acc-epochs", type=int, help="epochs of the RealAcc classifier (default: the preset's)")
    r.add_argument("--no-drift", action="store_true", help="skip the drift metrics")
    r.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    common(r)
    r.set_defaults(func=cmd_replay)

    b = sub.add_parser("bootstrap", help="iterative retraining of a generator on its own samples",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--generator", choices=list(GENERATORS), help=f"default: {_default(BootstrapConfig, 'generator')}")
    b.add_argument("--data", choices=list(DATA), help=f"default: {_default(BootstrapConfig, 'data')}")
    b.add_argument("--stages", type=int, help=f"default: {_default(BootstrapConfig, 'stages')}")
    b.add_argument("--regime", choices=list(REGIMES),
                   help="what later stages train on: replace (samples only), augment (a fraction --mix-real of "
                        "real points of D), fresh (that fraction of never-seen real points), accumulate (D and "
                        f"every synthetic set so far); default: {_default(BootstrapConfig, 'regime')}")
    b.add_argument("--mix-real", type=float, help="fraction of real data per stage, augment and fresh "
                                                       f"(default: {_default(BootstrapConfig, 'mix_real'):g})")
    b.add_argument("--fresh-size", type=int, help="fresh: real points set aside as the fresh pool (gmm default: "
                                                  "what the stages need; digits: required, taken out of D)")
    b.add_argument("--floor-n", type=int, help="real images per class of D kept out of the feature extractor as the "
                                               "drift floor's second set; distances at that n (default: no floor)")
    b.add_argument("--intervals", type=int, help="bootstrap replicates of the drift values' 95 %% intervals "
                                                 "(default: 0, none)")
    b.add_argument("--sampling-bias", type=float, help="sampling bias at every stage: wgan, stylegan2 truncation "
                                                     "psi in [0, 1], ddpm number of sampling steps, ngram/gpt2 "
                                                     "sampling temperature (default: none)")
    b.add_argument("--guidance-scale", type=float, help="ddpm: classifier-guidance scale at every stage, by a "
                                                      "classifier trained once on D (default: no guidance)")
    b.add_argument("--train-size", type=int, help="digits, flowers102: D is a stratified subset of this many "
                                                  "training images (default: all; fresh: the pool lies outside)")
    b.add_argument("--continue-training", action="store_true", help="keep training one generator across stages")
    b.add_argument("--generator-steps", type=int, help="generator training steps per stage")
    b.add_argument("--text-file", help="data textfile: one UTF-8 text file (one topic, split by paragraph)")
    b.add_argument("--text-dir", help="data textfile: a folder of .txt files, one topic each")
    b.add_argument("--ngram-order", type=int, help="ngram generator: n (default: the preset's, 2 in cpu-small)")
    common(b)
    b.set_defaults(func=cmd_bootstrap)

    rep = sub.add_parser("report", help="write RUN_DIR/report.html and PNG figures")
    rep.add_argument("run_dir")
    rep.set_defaults(func=cmd_report)

    c = sub.add_parser("compare", help="overlay the metrics of several runs")
    c.add_argument("run_dirs", nargs="+")
    c.add_argument("--out", default="runs/compare.html")
    c.set_defaults(func=cmd_compare)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "device", "") is None and not getattr(args, "resume", None):  # a resumed run keeps its own
        from .runtime.device import resolve_device

        args.device = resolve_device(None)  # the GPU when torch sees one, printed
    from .benchmarks.errors import MissingDataError
    from .experiments.rundir import RunDirError

    try:
        return args.func(args)
    except (MissingDataError, RunDirError, FileNotFoundError, ValueError) as exc:
        print(f"bootdrift: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
