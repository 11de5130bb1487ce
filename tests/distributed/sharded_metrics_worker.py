"""Run under torchrun: the drift suite's values (FID, CFID, OTDD, RealAcc) of a tiny labelled set, a
tiny RealAcc-style classifier fit, and an Avalanche strategy's classifier trained with
DataParallelPlugin, all sharded over the ranks (gloo); rank 0 saves them.
Usage: torchrun --nproc_per_node=N sharded_metrics_worker.py OUT"""
import sys

import torch
import torch.distributed as dist
# Avalanche before the process group: importing it builds loggers, which it refuses on rank > 0 later
from avalanche.training import Naive
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks.digits import split_digits
from bootdrift_avalanche.metrics import DriftSuite, IdentityFeatures, SuiteConfig
from bootdrift_avalanche.nets import build_classifier, train_classifier
from bootdrift_avalanche.plugins.data_parallel import DataParallelPlugin
from bootdrift_avalanche.runtime import distributed as D

D_FEAT = 12  # class 2 has fewer rows than dimensions (rows gathered, nuclear route), the rest more


def tiny_sets():
    """Real: classes 0, 1, 2 with 25, 28, 8 rows; synthetic: 0, 1, 2, 3 with 20, 30, 8, 3 rows (class 3
    is synthetic only: skipped by CFID). Odd sizes, so the shards differ in length."""
    g = torch.Generator().manual_seed(5)
    def make(sizes, shift):
        y = torch.cat([torch.full((n,), c) for c, n in enumerate(sizes)])
        x = torch.randn(len(y), D_FEAT, generator=g) + 3.0 * y[:, None] + shift  # a large common offset too
        perm = torch.randperm(len(y), generator=g)
        return x[perm], y[perm]
    return make((25, 28, 8), 100.0), make((20, 30, 8, 3), 100.3)


def suite_values():
    (rx, ry), (sx, sy) = tiny_sets()
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(samples=False, real_acc_epochs=3, seed=1, intervals=0))
    return suite.evaluate(rx, ry, sx, sy, real_features=suite.real_features(rx)).scalars


def tiny_fit():
    """37 rows in batches of 12: the last global batch has 1 row, so one rank's share is empty."""
    (rx, ry), _ = tiny_sets()
    model = build_classifier("small", (D_FEAT,), 3)
    return train_classifier(model, rx[:37] - 100.0, ry[:37], epochs=2, batch_size=12, seed=3)


def strategy_fit():
    """Two epochs of Naive (SmallCNN) on the first Split Digits experience (725 images) in mini-batches
    of 181 (odd: the ranks' shares differ; the last batch of each epoch has 1 image, so rank 1's share
    is empty), with DataParallelPlugin (inert in one process)."""
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    model = build_classifier("small", (1, 8, 8), 10)
    strategy = Naive(model=model, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=181, train_epochs=2,
                     plugins=[DataParallelPlugin()],
                     evaluator=EvaluationPlugin(loggers=[]))  # Avalanche's default logger refuses rank 1
    assert len(bm.train_stream[0].dataset) % 181 == 1
    strategy.train(bm.train_stream[0])
    return model


if __name__ == "__main__":
    torch.set_num_threads(1)
    assert D.init_from_env("cpu") and D.sharded(), "start me with torchrun --nproc_per_node=N (N > 1)"
    values = suite_values()
    model = tiny_fit()
    solver = strategy_fit()
    agree = D.ranks_agree(model) and D.ranks_agree(solver)
    if D.is_main_process():
        torch.save({"values": values, "state": model.state_dict(), "solver": solver.state_dict(),
                    "ranks_agree": agree, "world": D.world_size()}, sys.argv[1])
    dist.destroy_process_group()
