"""Bootstrapping a class-conditional DDPM on Flowers102 at 64x64 (102 classes, train+val splits as
training data, the test split as held-out data).

Presets: `paper` (default; GPU-sized UNet and training, --device cuda), `cpu-small` (small UNet,
short training; a CPU run of a few stages takes hours at 64x64), `tiny` (smoke test).
Data: torchvision's Flowers102 files under --data-root (default ~/.avalanche/data/flowers102);
--download fetches them where there is internet; offline without the files: one clear error.

    python examples/flowers102_ddpm_bootstrap.py --data-root ~/data --device cuda --stages 5
"""
import argparse
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stages", type=int, default=5)
    p.add_argument("--mix-real", type=float, default=0.0)
    p.add_argument("--preset", default="paper", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root")
    p.add_argument("--download", action="store_true")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--run-dir", default=f"runs/flowers102_ddpm_bootstrap-{time.strftime('%Y%m%d-%H%M%S')}")
    p.add_argument("--resume", action="store_true")
    a = p.parse_args()

    from bootdrift_avalanche.benchmarks.errors import MissingDataError
    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.experiments.tables import bootstrap_table
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads(a.device, a.threads)  # 1 thread on a CPU unless --threads; a GPU keeps torch's default

    cfg = BootstrapConfig(generator="ddpm", data="flowers102", stages=a.stages, mix_real=a.mix_real,
                          preset=a.preset, seed=a.seed, device=a.device, data_root=a.data_root,
                          download=a.download)
    try:
        res = run_bootstrap_experiment(cfg, a.run_dir, resume=a.resume)
    except MissingDataError as exc:
        raise SystemExit(f"error: {exc}")
    print(bootstrap_table(res))
    print(f"\nTensorBoard: tensorboard --logdir {a.run_dir}/tb   report: bootdrift report {a.run_dir}")


if __name__ == "__main__":
    main()
