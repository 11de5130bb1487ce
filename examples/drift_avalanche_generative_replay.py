"""Drift metrics on Avalanche's own GenerativeReplay (its MLP VAE, labels from the solver), on the
embedded Split Digits stream: the three lines you add to an existing Avalanche script are marked.

    python examples/drift_avalanche_generative_replay.py --run-dir runs/avalanche_gr
"""
import argparse
import time

import torch
from avalanche.evaluation.metrics import accuracy_metrics
from avalanche.logging import InteractiveLogger, TensorboardLogger
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.logging import JSONLinesLogger
from bootdrift_avalanche.nets import SmallCNN
from bootdrift_avalanche.plugins import drift_metrics  # (1) import
from bootdrift_avalanche.strategies import avalanche_generative_replay


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--run-dir", default=f"runs/avalanche_gr-{time.strftime('%Y%m%d-%H%M%S')}")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--experiences", type=int, default=5)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # small models: 1 thread is fastest on a shared CPU (see bootdrift_avalanche/cli.py)

    benchmark = split_digits(n_experiences=a.experiences, task_labels=True)  # GR needs [x, y, t] batches
    model = SmallCNN(in_channels=1, num_classes=10, image_size=8)
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, n_per_class=30),  # (2) the drift metrics
        loggers=[InteractiveLogger(), TensorboardLogger(f"{a.run_dir}/tb"),
                 JSONLinesLogger(f"{a.run_dir}/metrics.jsonl")],  # (3) where they go
    )
    strategy = avalanche_generative_replay(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3), criterion=torch.nn.CrossEntropyLoss(),
        image_shape=(1, 8, 8), train_mb_size=64, train_epochs=a.epochs, evaluator=evaluator)
    for exp in benchmark.train_stream:
        strategy.train(exp)
        strategy.eval(benchmark.test_stream)
    print(f"\nTensorBoard: tensorboard --logdir {a.run_dir}/tb\ndrift table: {a.run_dir}/metrics.jsonl")


if __name__ == "__main__":
    main()
