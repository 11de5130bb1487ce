"""Bootstrapping a class-conditional DDPM on the digits (all 10 classes, 8x8): stage 0 is trained on
the 1,437 real training images, every later stage on the previous stage's samples (same size and
class balance). FID/CFID/OTDD on classifier features and real-data accuracy per stage, to
TensorBoard and metrics.jsonl in the run directory.

    python examples/digits_ddpm_bootstrap.py --stages 5 --mix-real 0
"""
import argparse
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stages", type=int, default=5)
    p.add_argument("--mix-real", type=float, default=0.0)
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--run-dir", default=f"runs/digits_ddpm_bootstrap-{time.strftime('%Y%m%d-%H%M%S')}")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    a = p.parse_args()

    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.experiments.tables import bootstrap_table
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads(a.device, a.threads)  # small models on a CPU: 1 thread unless --threads

    cfg = BootstrapConfig(generator="ddpm", data="digits", stages=a.stages, mix_real=a.mix_real,
                          preset=a.preset, seed=a.seed, device=a.device)
    res = run_bootstrap_experiment(cfg, a.run_dir, resume=a.resume)
    print(bootstrap_table(res))
    print(f"\nTensorBoard: tensorboard --logdir {a.run_dir}/tb   report: bootdrift report {a.run_dir}")


if __name__ == "__main__":
    main()
