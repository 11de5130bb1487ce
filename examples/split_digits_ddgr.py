"""DDGR (Deep Diffusion-based Generative Replay, Gao & Liu 2023) on Split Digits, with the drift of
its diffusion model measured after every experience. This is what `make demo` runs.

Split Digits is embedded in the package (scikit-learn's 1,797 real 8x8 digits, 10 classes, no
download): 5 experiences of 2 classes. The drift metrics compare the generator's samples of the
classes seen so far with the real test images: FID, CFID (per-class FID), OTDD (on the features of
a small classifier), RealAcc (a fresh classifier trained on samples only, tested on real images),
sample grids and UMAP figures. They are ordinary Avalanche metrics: they go to the loggers, here
the console, TensorBoard and a JSON-lines file.

    python examples/split_digits_ddgr.py                  # cpu-small preset: 2 minutes on an idle 2-core CPU
    python examples/split_digits_ddgr.py --preset tiny    # seconds: a smoke test
    tensorboard --logdir runs/split_digits_ddgr

It writes ``runs/split_digits_ddgr/``: ``tb/`` (TensorBoard events), ``metrics.jsonl`` and
``report.html`` (curves, sample grids and UMAP panels, ``bootdrift report``'s page). The drift
metrics' feature extractor is trained once and cached in the user's cache directory
(``$BOOTDRIFT_CACHE``, else e.g. ``~/.cache/bootdrift``), so later runs skip its training.

Run directories with checkpoints, resume and reports are the CLI's job: `bootdrift replay --help`.
"""
import argparse
import time

import torch
from avalanche.evaluation.metrics import accuracy_metrics, forgetting_metrics
from avalanche.logging import InteractiveLogger, TensorboardLogger
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.experiments.report import write_report
from bootdrift_avalanche.experiments.tables import drift_table, eval_results_table
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.logging import JSONLinesLogger, metric_table, read_metrics
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.runtime.threads import configure_threads
from bootdrift_avalanche.strategies import DDGR


def main(args):
    threads = configure_threads(args.device, args.threads)  # CPU: 1 unless --threads; the generator uses it too
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]  # every size of the run: solver, generator, drift evaluation

    # --- benchmark, solver and generator
    benchmark = split_digits(args.experiences, seed=args.seed)
    model = p.solver((1, 8, 8), 10)  # the preset's classifier (Preset.classifier)
    generator = DDPMGenerator(p.ddpm_config(image_shape=(1, 8, 8), num_classes=10, seed=args.seed,
                                            device=args.device, threads=threads))

    # --- metrics and loggers: the drift metrics sit beside Avalanche's own
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, feature_stream=benchmark.train_stream,
                       n_per_class=p.n_per_class, seed=args.seed,
                       suite=SuiteConfig(real_acc_epochs=p.real_acc_epochs, umap=not args.no_umap)),
        # (the extractor is cached in the user's cache directory)
        loggers=[InteractiveLogger(), TensorboardLogger(f"{args.log_dir}/tb"),
                 JSONLinesLogger(f"{args.log_dir}/metrics.jsonl")],
    )

    # --- the strategy
    strategy = DDGR(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=2e-3),
        criterion=torch.nn.CrossEntropyLoss(), generator=generator, replay_per_class=p.replay_per_class,
        # replays in proportion to the replay set (chosen on a validation split, bench/replay_tuning.py);
        # classifier guidance at the published scale, as DDGR does (0 is plain DDPM replay, the
        # `dgr-ddpm` recipe, which scored higher on Split Digits: docs/DDGR.md)
        replay_ratio=None, guidance_scale=1.0,
        generator_steps=p.generator_steps, train_mb_size=64, train_epochs=p.epochs,
        eval_mb_size=256, device=args.device, evaluator=evaluator, seed=args.seed, progress=True,
    )

    # --- the continual-learning loop
    start, results = time.perf_counter(), []
    for exp in benchmark.train_stream:
        strategy.train(exp)
        results.append(strategy.eval(benchmark.test_stream))
    print("\n" + eval_results_table(results, time.perf_counter() - start))
    # drift per experience: value, real-vs-real floor, excess [95 %]; the headline is cohort 0's CFID excess
    print("\n" + drift_table(metric_table(read_metrics(f"{args.log_dir}/metrics.jsonl"))))
    report = write_report(args.log_dir)
    print(f"TensorBoard logs: {args.log_dir}/tb   values: {args.log_dir}/metrics.jsonl   report: {report}")
    print(f"view them: tensorboard --logdir {args.log_dir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu-small", choices=sorted(PRESETS), help="sizes (default: cpu-small)")
    parser.add_argument("--experiences", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    parser.add_argument("--log-dir", default="runs/split_digits_ddgr", help="TensorBoard events and metrics.jsonl")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    main(parser.parse_args())
