"""DDGR on Avalanche's own Split CIFAR-100 benchmark (5 experiences of 20 classes, 32x32), with the
drift of its diffusion model measured after every experience: how to add the drift metrics to an
existing Avalanche benchmark and script.

Presets: `paper` (default; the DDGR reference's UNet and training: meant for a GPU), `cpu-small`
(a small UNet and short training; the drift numbers then describe a weak generator), `tiny` (a smoke
test). Images are `ToTensor()` only, in [0, 1] without normalisation: the diffusion model and the
drift metrics see what the solver sees.

Device: the GPU when torch sees one, else the CPU (printed at the start; --device to choose). The
drift metrics (feature extractor, RealAcc classifier, OTDD's label cost) run there too.

Data: torchvision's CIFAR-100 files (`cifar-100-python/{train,test,meta}`) under --data-root (default:
Avalanche's ~/.avalanche/data/cifar100). Missing files are downloaded on first use, as Avalanche's
benchmarks do (torchvision checks their MD5 sums); --no-download forbids it. When the files are
missing and cannot be fetched: one clear error naming them, the directory and how to supply them.

    python examples/split_cifar100_ddgr.py
    python examples/split_cifar100_ddgr.py --data-root ~/data/cifar100 --preset cpu-small --device cpu
    tensorboard --logdir runs/split_cifar100_ddgr

Run directories with checkpoints, resume and reports are the CLI's job: `bootdrift replay --help`.
"""
import argparse
import time
from pathlib import Path

import torch
from avalanche.benchmarks.classic import SplitCIFAR100
from avalanche.benchmarks.datasets import default_dataset_location
from avalanche.evaluation.metrics import accuracy_metrics, forgetting_metrics
from avalanche.logging import InteractiveLogger, TensorboardLogger
from avalanche.training.plugins import EvaluationPlugin
from torchvision.transforms import ToTensor

from bootdrift_avalanche.benchmarks.cifar100 import CIFAR100_FILES, CIFAR100_URL
from bootdrift_avalanche.benchmarks.errors import MissingDataError, missing_paths
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.experiments.tables import eval_results_table
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.logging import JSONLinesLogger
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.runtime.device import resolve_device
from bootdrift_avalanche.runtime.threads import configure_threads
from bootdrift_avalanche.strategies import DDGR


def main(args):
    args.device = resolve_device(args.device)  # the GPU when there is one; printed
    threads = configure_threads(args.device, args.threads)  # CPU: 1 unless --threads; the generator uses it too
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]  # every size of the run: solver, generator, drift evaluation

    # --- benchmark: Avalanche's SplitCIFAR100 (it downloads missing files; offline, say so instead)
    root = Path(args.data_root or default_dataset_location("cifar100"))
    how = (f"extract {CIFAR100_URL} into {root} (giving {root}/cifar-100-python/), point --data-root at a "
           "directory that holds cifar-100-python/, or run without --no-download on a machine with internet "
           "(missing files are then downloaded).")
    missing = missing_paths(root, CIFAR100_FILES)
    if missing and args.no_download:
        raise SystemExit(f"error: {MissingDataError('CIFAR-100', root, missing, how)}")
    try:
        benchmark = SplitCIFAR100(n_experiences=args.experiences, seed=args.seed, dataset_root=root,
                                  return_task_id=False, train_transform=ToTensor(), eval_transform=ToTensor())
    except (OSError, RuntimeError) as exc:  # no internet, or files that fail torchvision's MD5 check
        what = "CIFAR-100" if missing else "CIFAR-100 (files that pass torchvision's MD5 check)"
        raise SystemExit(f"error: {MissingDataError(what, root, missing or CIFAR100_FILES, how, cause=str(exc))}")

    # --- solver and generator
    model = p.solver((3, 32, 32), 100)  # SmallCNN; SlimResNet18 in the paper preset
    generator = DDPMGenerator(p.ddpm_config(image_shape=(3, 32, 32), num_classes=100, seed=args.seed,
                                            device=args.device, threads=threads))

    # --- metrics and loggers: the drift metrics sit beside Avalanche's own
    evaluator = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        *drift_metrics(reference_stream=benchmark.test_stream, feature_stream=benchmark.train_stream,
                       n_per_class=p.n_per_class, seed=args.seed, feature_cache_dir=f"{args.log_dir}/cache",
                       device=args.device,
                       suite=SuiteConfig(real_acc_epochs=p.real_acc_epochs, umap=not args.no_umap,
                                         real_acc_classifier=p.classifier_name((3, 32, 32)))),
        loggers=[InteractiveLogger(), TensorboardLogger(args.log_dir),
                 JSONLinesLogger(f"{args.log_dir}/metrics.jsonl")],
    )

    # --- the strategy
    strategy = DDGR(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=2e-3),
        criterion=torch.nn.CrossEntropyLoss(), generator=generator, replay_per_class=p.replay_per_class,
        guidance_scale=1.0, generator_steps=p.generator_steps, train_mb_size=64, train_epochs=p.epochs,
        eval_mb_size=256, device=args.device, evaluator=evaluator, seed=args.seed, progress=True,
    )

    # --- the continual-learning loop
    start, results = time.perf_counter(), []
    for exp in benchmark.train_stream[: args.only_experiences]:
        strategy.train(exp)
        results.append(strategy.eval(benchmark.test_stream))
    print("\n" + eval_results_table(results, time.perf_counter() - start))
    print(f"TensorBoard: tensorboard --logdir {args.log_dir}   values: {args.log_dir}/metrics.jsonl")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS), help="sizes (default: paper)")
    parser.add_argument("--experiences", type=int, default=5)
    parser.add_argument("--device", help="torch device, e.g. cuda or cpu (default: cuda when available, else cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    parser.add_argument("--data-root", help="directory holding cifar-100-python/ (default: Avalanche's)")
    parser.add_argument("--no-download", action="store_true", help="never download: missing files are an error")
    parser.add_argument("--log-dir", default="runs/split_cifar100_ddgr", help="TensorBoard events and metrics.jsonl")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figures")
    parser.add_argument("--only-experiences", type=int, metavar="K",
                        help="train only the first K experiences (to size a run: DriftTime/<part> in metrics.jsonl)")
    main(parser.parse_args())
