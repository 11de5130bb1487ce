"""The drift metrics on Avalanche's own GenerativeReplay strategy (an unconditional MLP VAE; its
samples are labelled by the solver), on Split Digits. The lines you add to an existing Avalanche
script are marked (1), (2), (3); nothing else about the strategy changes.

Avalanche's GenerativeReplay needs [x, y, t] mini-batches, hence `task_labels=True`.

    python examples/drift_avalanche_generative_replay.py                 # cpu-small preset: minutes on a CPU
    python examples/drift_avalanche_generative_replay.py --preset tiny   # seconds: a smoke test
    tensorboard --logdir runs/drift_avalanche_generative_replay
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
from bootdrift_avalanche.logging import JSONLinesLogger
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics  # (1) the import
from bootdrift_avalanche.runtime.threads import configure_threads
from bootdrift_avalanche.strategies import avalanche_generative_replay


def main(args):
    configure_threads(args.device, args.threads)  # small models on a CPU: 1 thread unless --threads
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]  # sizes of the solver and of the drift evaluation

    # --- benchmark and solver
    benchmark = split_digits(args.experiences, seed=args.seed, task_labels=True)
    model = p.solver((1, 8, 8), 10)  # the preset's classifier (Preset.classifier)

    # --- metrics and loggers
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, feature_stream=benchmark.train_stream,
                       n_per_class=p.n_per_class, seed=args.seed, feature_cache_dir=f"{args.log_dir}/cache",
                       suite=SuiteConfig(real_acc_epochs=p.real_acc_epochs, umap=not args.no_umap)),
        loggers=[InteractiveLogger(), TensorboardLogger(args.log_dir),
                 JSONLinesLogger(f"{args.log_dir}/metrics.jsonl")],  # (3) optional: the values as JSON lines
    )

    # --- the strategy: Avalanche's GenerativeReplay, its VAE sized for 1x8x8 images
    strategy = avalanche_generative_replay(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=2e-3),
        criterion=torch.nn.CrossEntropyLoss(), image_shape=(1, 8, 8), train_mb_size=64, train_epochs=p.epochs,
        eval_mb_size=256, device=args.device, evaluator=evaluator,
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
    parser.add_argument("--log-dir", default="runs/drift_avalanche_generative_replay",
                        help="TensorBoard events and metrics.jsonl")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    main(parser.parse_args())
