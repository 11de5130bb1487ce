"""The self-consuming loop in all its regimes on the GMM toy (WGAN), beside the Gaussian MLE theory.

Runs, for every seed, the bootstrapping loop (``bootdrift_avalanche.experiments.bootstrap``) in the
regimes replace, augment (at every --lambdas value), fresh (at every --fresh-lambdas value) and
accumulate, plus replace with the sampling-bias knob (WGAN latent truncation psi, --psis). Drift is the
final stage's CFID on raw coordinates (per-class FID against held-out real points; each mode is one
class, fitted by the class-conditional WGAN). Writes under --out one run directory per (run, seed)
(rerunning resumes them; complete ones are only read), and:

- ``regimes_vs_stage.png``: CFID vs stage, one line per regime (mean over seeds, band = 95 % t-interval);
- ``drift_vs_lambda.png``: final CFID vs the real fraction lambda per regime (points, 95 % intervals),
  over the theory's prediction: final Var[fitted mean] relative to lambda = 1 (the Gaussian MLE closed
  forms of ``bootstrap.theory`` at n = points per class and t = stages), scaled to the measured lambda = 1
  level; the lambda = 1 retraining-noise band; the smallest lambda within it, measured and predicted;
- ``sampling_bias.png``: CFID vs stage for every psi;
- ``summary.json``: every number, and the printed tables.

    python examples/loop_regimes.py --seeds 0 1 2 --stages 5            # ~25 CPU minutes on cpu-small
    python examples/loop_regimes.py --seeds 0 --no-figures              # one seed (e.g. one per process)
"""
import argparse
import json
from pathlib import Path

import numpy as np

DRIFT = "CFID_identity"


def interval(values):
    """Mean and half-width of the 95 % Student-t interval over seeds."""
    from scipy import stats

    v = np.asarray(values, float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def runs(a):
    """(label, regime, lambda, psi) of every run."""
    out = [("replace", "replace", 0.0, None)]
    out += [(f"augment {l:g}", "augment", l, None) for l in a.lambdas]
    out += [(f"fresh {l:g}", "fresh", l, None) for l in a.fresh_lambdas]
    out += [("accumulate", "accumulate", 0.0, None)] if a.accumulate else []
    out += [(f"replace psi={p:g}", "replace", 0.0, p) for p in a.psis]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--stages", type=int, default=5)
    p.add_argument("--lambdas", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0],
                   help="augment's real fractions (must include 1: the retraining-noise band)")
    p.add_argument("--fresh-lambdas", type=float, nargs="*", default=[0.1, 0.5], help="fresh's real fractions")
    p.add_argument("--no-accumulate", dest="accumulate", action="store_false", help="skip the accumulate runs")
    p.add_argument("--psis", type=float, nargs="*", default=[0.7], help="truncation psi of the sampling-bias runs")
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--out", default="runs/loop_regimes")
    p.add_argument("--no-figures", action="store_true", help="only run (e.g. one seed per process)")
    a = p.parse_args()

    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)
    out = Path(a.out)
    curves = {}  # label -> seed -> [drift per stage]
    for label, regime, lam, psi in runs(a):
        for seed in a.seeds:
            run_dir = out / f"{label.replace(' ', '_').replace('=', '')}_seed{seed}"
            cfg = BootstrapConfig(generator="wgan", data="gmm", stages=a.stages, regime=regime, mix_real=lam,
                                  sampling_bias=psi, seed=seed, preset=a.preset, progress=False)
            res = run_bootstrap_experiment(cfg, run_dir, resume=(run_dir / "config.json").exists())
            curves.setdefault(label, {})[seed] = res.curve(DRIFT)
            print(f"{label:>18} seed {seed}: {DRIFT} per stage " + " ".join(f"{v:.4f}" for v in res.curve(DRIFT)),
                  flush=True)
    if not a.no_figures:
        report(a, curves, out)


def theory_ratio(regime, lam, stages, n):
    """Predicted final drift relative to augment at lambda = 1: Var[fitted mean] after the last stage
    (loop stage s is fit t = s + 1) over its lambda = 1 value, sigma^2/n."""
    from bootdrift_avalanche.bootstrap.theory import gaussian_closed_form

    t = stages  # stages 0 .. stages-1 are fits 1 .. stages
    return float(gaussian_closed_form(regime, t, n, mix_real=lam)["var_of_mean"][t] * n)


def report(a, curves, out):
    from matplotlib.figure import Figure

    from bootdrift_avalanche.benchmarks.gmm import GMMSpec
    from bootdrift_avalanche.experiments.config import PRESETS

    n = PRESETS[a.preset].gmm_samples // GMMSpec().n_modes  # points per class: what one mode's fit sees
    final = {label: interval([c[-1] for c in per.values()]) for label, per in curves.items()}
    summary = {"drift": DRIFT, "n_per_class": n, "stages": a.stages, "seeds": a.seeds,
               "curves": curves, "final": final}
    print(f"\nfinal-stage {DRIFT} (stage {a.stages - 1}), mean over seeds {a.seeds} +- 95 % t half-width")
    for label, (m, h) in final.items():
        print(f"{label:>18}: {m:.4f} +- {h:.4f}")

    # The lambda = 1 retraining-noise band: every stage >= 1 of augment at lambda = 1 retrains on D
    # itself, so those values (all seeds) measure how much retraining alone moves the drift.
    ref = np.array([v for c in curves["augment 1"].values() for v in c[1:]])
    band = (float(ref.mean() - 2 * ref.std(ddof=1)), float(ref.mean() + 2 * ref.std(ddof=1)))
    rel_width = band[1] / ref.mean() - 1.0
    # lambda = 0 is replace in both regimes. The threshold: the smallest lambda of the grid from which
    # on every measured lambda stays within the band (the drift need not fall monotonically).
    measured = {regime: [(0.0, final["replace"][0])] + [(l, final[f"{regime} {l:g}"][0]) for l in lams]
                for regime, lams in (("augment", a.lambdas), ("fresh", a.fresh_lambdas)) if lams}
    lam_star = {r: min(l for l, _ in pts if all(m <= band[1] for l2, m in pts if l2 >= l))
                if pts[-1][1] <= band[1] else None for r, pts in measured.items()}
    grid = np.linspace(0.0, 1.0, 1001)
    pred = {r: [theory_ratio(r, l, a.stages, n) for l in grid] for r in measured}
    pred_star = {r: float(next(l for l, v in zip(grid, pred[r]) if v <= 1.0 + rel_width)) for r in pred}
    summary.update(band=band, band_rel_width=rel_width, lambda_star_measured=lam_star, lambda_star_theory=pred_star,
                   theory_accumulate=theory_ratio("accumulate", 0.0, a.stages, n),
                   theory_replace=theory_ratio("replace", 0.0, a.stages, n))
    print(f"\nlambda=1 retraining-noise band (mean +- 2 sd over seeds x stages 1..{a.stages - 1}): "
          f"[{band[0]:.4f}, {band[1]:.4f}] (upper = mean x {1 + rel_width:.2f})")
    for r in lam_star:
        print(f"{r}: smallest lambda with final drift in the band: measured {lam_star[r]}, "
              f"theory (n={n}, t={a.stages}) {pred_star[r]:.3f}")
    print(f"theory, final Var[mean] x n/sigma^2: replace {summary['theory_replace']:.3f}, "
          f"accumulate {summary['theory_accumulate']:.3f}, augment 1 = 1")
    # In the drift's own units: the mean term of a per-class FID, 2 coordinates of variance std^2 each.
    unit = 2 * GMMSpec().std ** 2 / n
    summary["theory_cfid_excess_replace"] = unit * (summary["theory_replace"] - 1.0)
    print(f"theory, final CFID excess over lambda=1 in CFID units (mean term, 2 x std^2/n x (ratio - 1)): "
          f"replace {summary['theory_cfid_excess_replace']:.2e}; measured replace - augment 1: "
          f"{final['replace'][0] - final['augment 1'][0]:.2e}")

    stages = np.arange(a.stages)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for label in ["replace", "augment 0.1", "augment 0.5", "fresh 0.1", "fresh 0.5", "accumulate", "augment 1"]:
        if label not in curves:
            continue
        c = np.array(list(curves[label].values()))
        m, h = zip(*(interval(c[:, s]) for s in stages))
        ax.plot(stages, m, marker="o", label=label)
        ax.fill_between(stages, np.maximum(np.array(m) - h, 0), np.array(m) + h, alpha=0.12)
    ax.set_xlabel("stage"); ax.set_ylabel(f"{DRIFT} (held-out)")
    ax.set_title(f"GMM toy, WGAN, {a.preset}: regimes ({len(a.seeds)} seeds, 95 % bands)", fontsize=9)
    ax.legend(fontsize=7)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "regimes_vs_stage.png", dpi=110, bbox_inches="tight")

    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    level = final["augment 1"][0]
    for r, color in (("augment", "C0"), ("fresh", "C1"))[:len(measured)]:
        lams = [l for l, _ in measured[r][1:]]  # lambda = 0 is the replace point
        m = [final[f"{r} {l:g}"] for l in lams]
        ax.errorbar(lams, [x for x, _ in m], yerr=[h for _, h in m], fmt="o", color=color, capsize=3,
                    label=f"{r}: measured")
        ax.plot(grid, level * np.array(pred[r]), color=color, lw=1, ls="--", label=f"{r}: theory ratio x measured level(1)")
    for label, color, lam in (("replace", "C3", 0.0), ("accumulate", "C2", 0.0))[:1 + a.accumulate]:
        m, h = final[label]
        ax.errorbar([lam], [m], yerr=[h], fmt="s", color=color, capsize=3, label=f"{label}: measured")
    if a.accumulate:
        ax.axhline(level * summary["theory_accumulate"], color="C2", lw=1, ls="--",
                   label="accumulate: theory ratio x level(1)")
    ax.axhspan(*band, color="grey", alpha=0.2, label="lambda=1 retraining-noise band")
    ax.set_yscale("log"); ax.set_xlabel("real fraction lambda"); ax.set_ylabel(f"final {DRIFT} (stage {a.stages - 1})")
    ax.set_title(f"drift after {a.stages} stages vs lambda (n={n} per class)", fontsize=9)
    ax.legend(fontsize=6)
    fig.savefig(out / "drift_vs_lambda.png", dpi=110, bbox_inches="tight")

    if a.psis:
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.add_subplot(1, 1, 1)
        for psi, label in [(1.0, "replace")] + [(p, f"replace psi={p:g}") for p in a.psis]:
            c = np.array(list(curves[label].values()))
            m, h = zip(*(interval(c[:, s]) for s in stages))
            ax.plot(stages, m, marker="o", label=f"psi = {psi:g}")
            ax.fill_between(stages, np.maximum(np.array(m) - h, 0), np.array(m) + h, alpha=0.12)
        ax.set_xlabel("stage"); ax.set_ylabel(f"{DRIFT} (held-out)")
        ax.set_title("sampling bias: WGAN latent truncation psi, replace regime", fontsize=9)
        ax.legend(fontsize=8)
        fig.savefig(out / "sampling_bias.png", dpi=110, bbox_inches="tight")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(f"\nfigures and summary.json in {out}")


if __name__ == "__main__":
    main()
