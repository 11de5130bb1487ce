"""Speed-up of DDP generator training with 2 processes over 1 on this machine.

Times `DDPMGenerator.fit` (cpu-small preset, Split Digits, a fixed number of steps of the same global
batch) in one process, then under `torchrun --nproc_per_node=2` (gloo), each process on one thread,
side by side in one run, and prints seconds per step and the ratio.

    python bench/ddp_speedup.py --steps 60
"""
import argparse
import os
import subprocess
import sys
import time


def fit_seconds(steps: int, threads: int) -> float:
    from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.generators.ddpm import DDPMGenerator
    from bootdrift_avalanche.runtime import distributed as D
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", threads)
    x, y, _, _ = load_digits_tensors()
    gen = DDPMGenerator(PRESETS["cpu-small"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, threads=threads))
    gen.fit(x, y, steps=2)  # warm-up (first-call costs out of the timing)
    D.barrier()
    t0 = time.perf_counter()
    gen.fit(x, y, steps=steps)
    D.barrier()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (default: 1)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        from bootdrift_avalanche.runtime import distributed as D

        D.init_from_env("cpu")
        s = fit_seconds(a.steps, a.threads)
        if D.is_main_process():
            print(f"RESULT {s:.3f}")
        return
    one = fit_seconds(a.steps, a.threads)
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "TQDM_DISABLE": "1"}
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          __file__, "--worker", "--steps", str(a.steps), "--threads", str(a.threads)],
                         env=env, capture_output=True, text=True)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
    if not line:
        raise SystemExit(out.stderr[-2000:])
    two = float(line[0].split()[1])
    print(f"DDPM cpu-small fit, global batch 128, {a.steps} steps, {a.threads} thread(s) per process")
    print(f"1 process : {one:.1f} s  ({one / a.steps * 1000:.0f} ms/step)")
    print(f"2 processes: {two:.1f} s  ({two / a.steps * 1000:.0f} ms/step)")
    print(f"speed-up 2 over 1: {one / two:.2f}x   (load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
