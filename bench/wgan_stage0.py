"""Stage 0 of the GMM bootstrapping toy: does the default WGAN-GP fit the real data well?

Fits the default ``WGANConfig`` on ``gmm_samples(5000)`` (5 modes on a circle of radius 2, std 0.1)
for a few seeds and prints, per seed: the fit time (wall clock and this process's CPU seconds; on a
shared machine the CPU time is the fair measure), the toy mode metrics of 5,000 class-balanced
samples (modes covered, fraction within 3 std of a mode, label agreement, per-mode std ratio) and
the FID on raw coordinates against 5,000 held-out real points. The real training data's own scores
are printed first as the reference.

    python bench/wgan_stage0.py --seeds 0 1 2 [--normalize class]
"""
import argparse
import time

import torch

from bootdrift_avalanche.benchmarks.gmm import GMMSpec, gmm_samples
from bootdrift_avalanche.generators.wgan import WGANConfig, WGANGenerator
from bootdrift_avalanche.metrics.fid import frechet_distance
from bootdrift_avalanche.metrics.modes import mode_metrics
from bootdrift_avalanche.runtime.seeds import seed_for
from bootdrift_avalanche.runtime.threads import configure_threads


def scores(samples, labels, held_out, spec):
    m = mode_metrics(samples, spec.centers(), spec.std, labels)
    return (f"modes {m['modes_covered']}/{spec.n_modes}  within-3std {m['high_quality_fraction']:.4f}  "
            f"label-agree {m['label_agreement']:.4f}  std-ratio {m['mode_std_ratio']:.3f}  "
            f"FID {frechet_distance(samples.double(), held_out.double()):.2e}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n", type=int, default=5000, help="training points (and samples scored)")
    p.add_argument("--steps", type=int, default=None, help="generator updates (default: the config's)")
    p.add_argument("--normalize", choices=("global", "class"), default="global",
                   help="WGANConfig.normalize (default: the config's default, global)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1)")
    args = p.parse_args()
    threads = configure_threads("cpu", args.threads)  # a small MLP: one thread is fastest

    spec = GMMSpec()
    x, y = gmm_samples(args.n, spec=spec, seed=seed_for("gmm.train"))
    held_out, _ = gmm_samples(args.n, spec=spec, seed=seed_for("gmm.test"))
    print(f"config: {WGANConfig(normalize=args.normalize, threads=threads)}")
    print(f"real training data       {scores(x, y, held_out, spec)}")
    # The first optimiser construction imports torch._dynamo (seconds); keep it out of the timings.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    labels = torch.arange(args.n) % spec.n_modes
    for seed in args.seeds:
        model = WGANGenerator(WGANConfig(seed=seed, normalize=args.normalize, threads=threads))
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(x, y, steps=args.steps)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        samples = model.generate(labels, seed=seed)
        print(f"seed {seed}: fit {wall:6.1f} s wall, {cpu:6.1f} s CPU  {scores(samples, labels, held_out, spec)}",
              flush=True)


if __name__ == "__main__":
    main()
