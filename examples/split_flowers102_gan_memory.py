"""GAN Memory on Split Flowers102 at 64x64 (10 experiences; 102 classes, so the first two
experiences get 11 classes), with the drift of its generator memory measured after every experience.

Presets: `paper` (default; a 64x64 ResNet GAN with the reference's long training: meant for a GPU),
`cpu-small` (small networks, runs on a CPU), `tiny` (a smoke test). The base GAN is trained on the
first experience and frozen; every later experience learns only a style modulation of it.

Data: torchvision's Flowers102 files (`flowers-102/{jpg/, imagelabels.mat, setid.mat}`) under
--data-root (default: Avalanche's ~/.avalanche/data/flowers102); training data = the train and val
splits, test data = the test split. Missing files are downloaded on first use, as Avalanche's
benchmarks do; --no-download forbids it. Files that are missing and cannot be fetched: one clear error.
Device: the GPU when torch sees one, else the CPU (printed; --device to choose), for the drift
metrics too.

    python examples/split_flowers102_gan_memory.py --data-root ~/data
    tensorboard --logdir runs/split_flowers102_gan_memory

Run directories with checkpoints, resume and reports are the CLI's job: `bootdrift replay --help`.
"""
import argparse
import time

import torch
from avalanche.evaluation.metrics import accuracy_metrics, forgetting_metrics
from avalanche.logging import InteractiveLogger, TensorboardLogger
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import MissingDataError, split_flowers102
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.experiments.tables import eval_results_table
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.logging import JSONLinesLogger
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.runtime.device import resolve_device
from bootdrift_avalanche.runtime.threads import configure_threads
from bootdrift_avalanche.strategies import GANMemory


def main(args):
    args.device = resolve_device(args.device)  # the GPU when there is one; printed
    threads = configure_threads(args.device, args.threads)  # CPU: 1 unless --threads; the generator uses it too
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]  # every size of the run: solver, generator, drift evaluation

    # --- benchmark, solver and generator
    try:
        benchmark = split_flowers102(args.experiences, dataset_root=args.data_root, download=not args.no_download,
                                     image_size=64, seed=args.seed)
    except MissingDataError as exc:
        raise SystemExit(f"error: {exc}")
    model = p.solver((3, 64, 64), 102)  # SmallCNN; ResNet-18 in the paper preset
    generator = GANMemoryGenerator(p.gan_memory_config(image_shape=(3, 64, 64), num_classes=102, seed=args.seed,
                                                       device=args.device, threads=threads))

    # --- metrics and loggers: the drift metrics sit beside Avalanche's own
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, feature_stream=benchmark.train_stream,
                       n_per_class=p.n_per_class, seed=args.seed, feature_cache_dir=f"{args.log_dir}/cache",
                       device=args.device,
                       suite=SuiteConfig(real_acc_epochs=p.real_acc_epochs, umap=not args.no_umap,
                                         real_acc_classifier=p.classifier_name((3, 64, 64)))),
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
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS), help="sizes (default: paper)")
    parser.add_argument("--experiences", type=int, default=10)
    parser.add_argument("--device", help="torch device, e.g. cuda or cpu (default: cuda when available, else cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    parser.add_argument("--data-root", help="parent of flowers-102/ (default: Avalanche's)")
    parser.add_argument("--no-download", action="store_true", help="never download: missing files are an error")
    parser.add_argument("--log-dir", default="runs/split_flowers102_gan_memory",
                        help="TensorBoard events and metrics.jsonl")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    main(parser.parse_args())
