"""GAN Memory (Cong et al., NeurIPS 2020) on Split Digits, with the drift of its generator memory
measured after every experience.

The base GAN is trained on the first experience and frozen; every later experience learns only a
style modulation of it, so the memory of earlier classes cannot be overwritten. The drift metrics
(FID, CFID, OTDD, RealAcc, sample grids, UMAP) show how close its replay stays to the real data.

    python examples/split_digits_gan_memory.py                  # cpu-small preset: a few minutes on a CPU
    python examples/split_digits_gan_memory.py --preset tiny    # seconds: a smoke test
    tensorboard --logdir runs/split_digits_gan_memory

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
from bootdrift_avalanche.experiments.tables import eval_results_table
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.logging import JSONLinesLogger
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.runtime.threads import configure_threads
from bootdrift_avalanche.strategies import GANMemory


def main(args):
    threads = configure_threads(args.device, args.threads)  # CPU: 1 unless --threads; the generator uses it too
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]  # every size of the run: solver, generator, drift evaluation

    # --- benchmark, solver and generator
    benchmark = split_digits(args.experiences, seed=args.seed)
    model = p.solver((1, 8, 8), 10)  # the preset's classifier (Preset.classifier)
    generator = GANMemoryGenerator(p.gan_memory_config(image_shape=(1, 8, 8), num_classes=10, seed=args.seed,
                                                       device=args.device, threads=threads))

    # --- metrics and loggers: the drift metrics sit beside Avalanche's own
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, feature_stream=benchmark.train_stream,
                       n_per_class=p.n_per_class, seed=args.seed, feature_cache_dir=f"{args.log_dir}/cache",
                       suite=SuiteConfig(real_acc_epochs=p.real_acc_epochs, umap=not args.no_umap)),
        loggers=[InteractiveLogger(), TensorboardLogger(args.log_dir),
                 JSONLinesLogger(f"{args.log_dir}/metrics.jsonl")],
    )

    # --- the strategy
    strategy = GANMemory(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=2e-3),
        criterion=torch.nn.CrossEntropyLoss(), generator=generator, replay_per_class=p.replay_per_class,
        train_mb_size=64, train_epochs=p.epochs, eval_mb_size=256, device=args.device, evaluator=evaluator,
        seed=args.seed, progress=True,
    )

    # --- the continual-learning loop
    start, results = time.perf_counter(), []
    for exp in benchmark.train_stream:
        strategy.train(exp)
        results.append(strategy.eval(benchmark.test_stream))
    print("\n" + eval_results_table(results, time.perf_counter() - start))
    print(f"TensorBoard: tensorboard --logdir {args.log_dir}   values: {args.log_dir}/metrics.jsonl")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu-small", choices=sorted(PRESETS), help="sizes (default: cpu-small)")
    parser.add_argument("--experiences", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    parser.add_argument("--log-dir", default="runs/split_digits_gan_memory",
                        help="TensorBoard events and metrics.jsonl")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    main(parser.parse_args())
