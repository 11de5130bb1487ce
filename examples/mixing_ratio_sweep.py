"""How much real data stops the drift? The bootstrapping loop at several real-data fractions
lambda (0 = the paper's setting, 1 = always real data) on the GMM toy (WGAN) and on the digits
(DDPM), beside the Gaussian MLE theory's prediction for the same number of stages and the n that one
class-conditional fit sees: the GMM's points per mode (5,000 / 5 = 1,000 on cpu-small).

Writes under --out: a run directory per (data, lambda), `sweep.png` (final-stage FID and real-data
accuracy against lambda, and the theory's final-stage variance loss and mean wander against
lambda) and `sweep.json` (every value).

    python examples/mixing_ratio_sweep.py --lambdas 0 0.1 0.25 0.5 1 --stages 10 --digits-stages 5
    python examples/mixing_ratio_sweep.py --skip-digits       # the toy only (minutes on a CPU)
"""
import argparse
import json
from pathlib import Path

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 0.1, 0.25, 0.5, 1.0])
    p.add_argument("--stages", type=int, default=10, help="stages of the GMM loop")
    p.add_argument("--digits-stages", type=int, default=5, help="stages of the digits DDPM loop")
    p.add_argument("--skip-digits", action="store_true")
    p.add_argument("--skip-gmm", action="store_true")
    p.add_argument("--digits-lambdas", type=float, nargs="+", help="lambdas of the digits loop (default: --lambdas)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--out", default="runs/mixing_ratio_sweep")
    a = p.parse_args()

    from matplotlib.figure import Figure

    from bootdrift_avalanche.benchmarks.gmm import GMMSpec
    from bootdrift_avalanche.bootstrap.theory import gaussian_closed_form
    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import PRESETS, BootstrapConfig
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)  # small models: one thread is fastest on a shared CPU

    out = Path(a.out)
    results = {}
    setups = ([] if a.skip_gmm else [("gmm", "wgan", a.stages, a.lambdas)]) + \
        ([] if a.skip_digits else [("digits", "ddpm", a.digits_stages, a.digits_lambdas or a.lambdas)])
    for data, gen, stages, lambdas in setups:
        for lam in lambdas:
            run_dir = out / f"{data}_mix{lam:g}"
            cfg = BootstrapConfig(generator=gen, data=data, stages=stages, mix_real=lam, seed=a.seed, preset=a.preset)
            res = run_bootstrap_experiment(cfg, run_dir, resume=(run_dir / "config.json").exists())
            results.setdefault(data, {})[lam] = res.stages
            fid = next(k for k in res.stages[-1] if k.startswith("FID"))
            print(f"{data} lambda={lam:g}: final {fid}={res.stages[-1][fid]:.4g} "
                  f"RealAcc={res.stages[-1]['RealAcc']:.3f}")

    # Each mode is fitted by its own class-conditional model, so the theory's n is the points per
    # class (the whole set divided by the number of modes), not the whole training set.
    n = PRESETS[a.preset].gmm_samples // GMMSpec().n_modes
    # The loop re-uses its fixed real set D: the "augment" closed form (not fresh draws).
    theory = {lam: gaussian_closed_form("augment", a.stages, n, mix_real=lam) for lam in a.lambdas}
    fig = Figure(figsize=(13, 3.4))
    ax = fig.add_subplot(1, 3, 1)
    for data, per in results.items():
        lams = sorted(per)
        fid = next(k for k in per[lams[0]][-1] if k.startswith("FID"))
        ax.plot(lams, [per[l][-1][fid] for l in lams], marker="o", label=f"{data} ({fid})")
    ax.set_xlabel("real fraction lambda")
    ax.set_ylabel("final-stage FID")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 3, 2)
    for data, per in results.items():
        ax.plot(sorted(per), [per[l][-1]["RealAcc"] for l in sorted(per)], marker="o", label=data)
    ax.set_xlabel("real fraction lambda")
    ax.set_ylabel("final-stage real-data accuracy")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 3, 3)
    ax.plot(a.lambdas, [1 - theory[l]["expected_var"][-1] for l in a.lambdas], marker="o", label="1 - E[var]/sigma^2")
    ax.plot(a.lambdas, [n * theory[l]["var_of_mean"][-1] for l in a.lambdas], marker="s", label="n Var[mean]/sigma^2")
    ax.set_xlabel("real fraction lambda")
    ax.set_title(f"Gaussian MLE theory, n={n} per class (GMM), t={a.stages}", fontsize=9)
    ax.set_yscale("symlog", linthresh=1e-4)
    ax.legend(fontsize=8)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "sweep.png", dpi=100, bbox_inches="tight")
    dump = {"results": {d: {str(l): v for l, v in per.items()} for d, per in results.items()},
            "theory": {str(l): {k: np.asarray(v).tolist() for k, v in th.items()} for l, th in theory.items()}}
    (out / "sweep.json").write_text(json.dumps(dump, indent=1))
    print(f"figure: {out / 'sweep.png'}  values: {out / 'sweep.json'}")


if __name__ == "__main__":
    main()
