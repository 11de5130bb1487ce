"""The self-consuming loop in all its regimes, beside the Gaussian MLE theory: on the GMM toy (WGAN,
``--data gmm``) or on the digits (class-conditional DDPM, ``--data digits``).

Runs, for every seed, the bootstrapping loop (``bootdrift_avalanche.experiments.bootstrap``) in the
regimes replace, augment (at every --lambdas value), fresh (at every --fresh-lambdas value) and
accumulate, plus replace with the data's sampling-bias knob at every --biases value (gmm: WGAN latent
truncation psi; digits: DDPM classifier-guidance scale, the classifier trained once on D). Drift is
CFID (per-class FID against held-out real data; gmm: raw coordinates, each mode one class; digits:
features of a classifier trained on D less the floor set) judged BEYOND its real-vs-real floor:
every stage scores the first --floor-n samples of each class, and its floor is --floor-n real points
of each class of D against the same held-out data (same n, classes and features; docs/DRIFT_FLOOR.md);
excess = value - floor, on all classes at every stage. Writes under --out one run directory per
(run, seed) (rerunning resumes them; complete ones are only read), and:

- ``regimes_vs_stage.png``: CFID excess vs stage, one line per regime (mean over seeds, 95 % t band);
- ``drift_vs_lambda.png``: final CFID excess vs the real fraction lambda per regime (95 % intervals),
  over the theory's prediction: final Var[fitted mean] relative to lambda = 1 (the Gaussian MLE closed
  forms of ``bootstrap.theory`` at n = points per class and t = stages), scaled to the measured lambda = 1
  excess; the lambda = 1 retraining-noise band; the smallest lambda within it, measured and predicted;
- ``sampling_bias.png``: CFID excess vs stage for every bias value, and the final excess vs the bias value;
- ``summary.json``: every number, the printed tables, the commit and the command.

On digits every regime starts from the same D: --train-size images (stratified) of the 1,437 training
images; the fresh regime draws its new real images from the other ones (--fresh-size, default 877: all
of them). A DDPM stage costs ~28 CPU s at the digits defaults; --stage0-from saves stage 0's training
(stage 0 is the same in every regime of a seed); --collect reports from partly finished runs.

    python examples/loop_regimes.py --seeds 0 1 2 --stages 5            # toy: ~25 CPU minutes on cpu-small
    python examples/loop_regimes.py --data digits --seeds 0 1 2         # digits: ~50 CPU minutes on cpu-small
    python examples/loop_regimes.py --seeds 0 --no-figures              # one seed (e.g. one per process)
    python examples/loop_regimes.py --data digits --seeds 0 --only "augment 1" accumulate --no-figures
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from reproduce_paper import command_line, commit_info, cpu_seconds, provenance, t_interval as interval  # noqa: E402  (one definition of each)

#: what each run records per stage: the value, its floor, the excess and the excess's bootstrap interval
PARTS = {"value": "", "floor": "_floor", "excess": "_excess", "excess_lo": "_excess_lo", "excess_hi": "_excess_hi"}

#: Per data set: generator, drift name, the sampling-bias knob (config field, label) and defaults.
DATA = {
    "gmm": dict(generator="wgan", drift="CFID_identity", knob="sampling_bias", knob_label="psi",
                knob_title="WGAN latent truncation psi", unbiased=1.0, title="GMM toy, WGAN",
                # points per class: what one mode's fit sees
                n_per_class=lambda a: _preset(a).gmm_samples // _gmm().n_modes,
                # the mean term of a per-class FID in raw coordinates: 2 coordinates of variance std^2
                cfid_unit=lambda n: 2 * _gmm().std ** 2 / n,
                defaults=dict(stages=5, lambdas=[0.1, 0.25, 0.5, 1.0], fresh_lambdas=[0.1, 0.5], biases=[0.7],
                              floor_n=200, out="runs/loop_regimes")),
    "digits": dict(generator="ddpm", drift="CFID_clf", knob="guidance_scale", knob_label="guidance",
                   knob_title="DDPM classifier-guidance scale", unbiased=0.0, title="digits, DDPM",
                   n_per_class=lambda a: round(a.train_size / 10), cfid_unit=None,  # no sigma in feature units
                   sizes=("train_size", "generator_steps"),
                   # 560 + 877 = the 1,437 training images; fresh 0.5 over 4 stages needs 3 x 28 per class
                   defaults=dict(stages=4, lambdas=[0.25, 0.5, 1.0], fresh_lambdas=[0.5], biases=[2.0, 8.0],
                                 train_size=560, fresh_size=877, generator_steps=300, floor_n=30,
                                 out="runs/loop_regimes_digits")),
}


def _preset(a):
    from bootdrift_avalanche.experiments.config import PRESETS

    return PRESETS[a.preset]


def _gmm():
    from bootdrift_avalanche.benchmarks.gmm import GMMSpec

    return GMMSpec()


def runs(a):
    """(label, regime, lambda, bias) of every run."""
    knob = DATA[a.data]["knob_label"]
    out = [("replace", "replace", 0.0, None)]
    out += [(f"augment {l:g}", "augment", l, None) for l in a.lambdas]
    out += [(f"fresh {l:g}", "fresh", l, None) for l in a.fresh_lambdas]
    out += [("accumulate", "accumulate", 0.0, None)] if a.accumulate else []
    out += [(f"replace {knob}={b:g}", "replace", 0.0, b) for b in a.biases]
    return out


def config(a, regime, lam, bias, seed):
    from bootdrift_avalanche.experiments.config import BootstrapConfig

    d = DATA[a.data]
    # digits: the same D in every regime; fresh draws from the rest of the training split
    sizes = {k: getattr(a, k) for k in d.get("sizes", ())}
    if regime == "fresh" and a.fresh_size is not None:
        sizes["fresh_size"] = a.fresh_size
    return BootstrapConfig(generator=d["generator"], data=a.data, stages=a.stages, regime=regime, mix_real=lam,
                           seed=seed, preset=a.preset, progress=False, floor_n=a.floor_n, intervals=a.intervals,
                           **{d["knob"]: bias}, **sizes)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=list(DATA), default="gmm")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--stages", type=int, help="default: 5 (gmm), 4 (digits)")
    p.add_argument("--lambdas", type=float, nargs="+",
                   help="augment's real fractions (must include 1: the retraining-noise band); "
                        "default: 0.1 0.25 0.5 1 (gmm), 0.25 0.5 1 (digits)")
    p.add_argument("--fresh-lambdas", type=float, nargs="*", help="fresh's real fractions (default: 0.1 0.5 / 0.5)")
    p.add_argument("--no-accumulate", dest="accumulate", action="store_false", help="skip the accumulate runs")
    p.add_argument("--biases", "--psis", dest="biases", type=float, nargs="*",
                   help="sampling-bias runs (replace): truncation psi (gmm, default 0.7) or guidance scale "
                        "(digits, default 2 8)")
    p.add_argument("--train-size", type=int, help="digits: training images in D (default 560)")
    p.add_argument("--fresh-size", type=int, help="fresh: real points of the pool (digits default: 877, the rest)")
    p.add_argument("--generator-steps", type=int, help="digits: DDPM training steps per stage (default 300)")
    p.add_argument("--floor-n", type=int,
                   help="points per class of the floor's second real set, taken out of D for the floor (the "
                        "generator still trains on all of D), and of the scored samples (default 200 gmm, 30 digits)")
    p.add_argument("--intervals", type=int, default=12, help="bootstrap replicates of each stage's 95 %% intervals")
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--out", help="default: runs/loop_regimes (gmm), runs/loop_regimes_digits")
    p.add_argument("--no-figures", action="store_true", help="only run (e.g. one seed per process)")
    p.add_argument("--replot", metavar="SUMMARY_JSON", help="redraw the figures and tables of --out from the curves "
                                                            "of an earlier summary.json instead of running")
    p.add_argument("--stage0-from", metavar="PATTERN",
                   help="stage 0's checkpoint of an earlier run of the same seed, '{seed}' in the pattern "
                        "(e.g. runs/x/replace_seed{seed}/checkpoints/step_0000.pt): every run loads its "
                        "generator instead of training stage 0 again (stage 0 trains on D in every regime)")
    p.add_argument("--collect", action="store_true",
                   help="report from the stages every run directory under --out has finished so far (their "
                        "metrics.jsonl), cut to the fewest finished stages, instead of running")
    p.add_argument("--only", nargs="+", metavar="LABEL", help="run only these runs (labels as printed, e.g. "
                                                              "'augment 1'), e.g. to split the runs over processes")
    a = p.parse_args()
    for k, v in DATA[a.data]["defaults"].items():
        if getattr(a, k) is None:
            setattr(a, k, v)

    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)
    a.commit = commit_info()  # of the code that runs, whatever is committed while it runs
    drift = DATA[a.data]["drift"]
    out = Path(a.out)
    if a.replot:
        saved = json.loads(Path(a.replot).read_text())["curves"]
        if any(isinstance(c, list) for per in saved.values() for c in per.values()):
            p.error(f"{a.replot} holds raw values only (written before the loop logged floors): there is no "
                    "excess to report; rerun the runs or --collect their directories")
        report(a, {label: {int(s): saved[label][str(s)] for s in a.seeds} for label, *_ in runs(a)}, out)
        return
    if a.collect:
        report(a, collect(a, out, drift), out)
        return
    curves = {}  # label -> seed -> part ("value", "floor", "excess", ...) -> [per stage]
    for label, regime, lam, bias in runs(a):
        if a.only and label not in a.only:
            continue
        for seed in a.seeds:
            run_dir = run_dir_of(out, label, seed)
            cpu = cpu_seconds()
            res = run_bootstrap_experiment(config(a, regime, lam, bias, seed), run_dir,
                                           resume=(run_dir / "config.json").exists(),
                                           stage0_from=a.stage0_from and a.stage0_from.format(seed=seed))
            c = {part: res.curve(drift + q) for part, q in PARTS.items()}
            c = curves.setdefault(label, {})[seed] = {k: v for k, v in c.items() if not np.isnan(v).all()}
            print(f"{label:>18} seed {seed}: {drift} excess per stage " + " ".join(f"{v:.4f}" for v in c["excess"])
                  + f" (floor {c['floor'][0]:.4f})  ({cpu_seconds() - cpu:.0f} CPU s)", flush=True)
    if not a.no_figures:
        report(a, curves, out)


def run_dir_of(out, label, seed):
    return out / f"{label.replace(' ', '_').replace('=', '')}_seed{seed}"


def collect(a, out, drift):
    """Every run's curves as logged so far (``metrics.jsonl``), all cut to the fewest finished
    stages, which becomes ``a.stages``: the first stages of a run do not depend on how many follow."""
    from bootdrift_avalanche.logging import metric_table, read_metrics
    from bootdrift_avalanche.tags import tag_for

    curves = {}
    for label, *_ in runs(a):
        for seed in a.seeds:
            table = metric_table(read_metrics(run_dir_of(out, label, seed) / "metrics.jsonl"))
            if tag_for(drift + PARTS["floor"]) not in table:
                raise SystemExit(f"{run_dir_of(out, label, seed)} logged no {drift}{PARTS['floor']}: a run without "
                                 "a floor (--floor-n) cannot be judged beyond it; rerun it in a new --out")
            curves.setdefault(label, {})[seed] = {part: [v for _, v in sorted(table[tag_for(drift + q)].items())]
                                                  for part, q in PARTS.items() if tag_for(drift + q) in table}
    a.stages = min(len(c["excess"]) for per in curves.values() for c in per.values())
    print(f"collected {len(curves)} runs x {len(a.seeds)} seeds from {out}, cut to their first {a.stages} stages")
    return {label: {seed: {part: v[:a.stages] for part, v in c.items()} for seed, c in per.items()}
            for label, per in curves.items()}


def theory_ratio(regime, lam, stages, n):
    """Predicted final drift relative to augment at lambda = 1: Var[fitted mean] after the last stage
    (loop stage s is fit t = s + 1) over its lambda = 1 value, sigma^2/n."""
    from bootdrift_avalanche.bootstrap.theory import gaussian_closed_form

    t = stages  # stages 0 .. stages-1 are fits 1 .. stages
    return float(gaussian_closed_form(regime, t, n, mix_real=lam)["var_of_mean"][t] * n)


def curve_band(ax, curves, label, legend, stages):
    """Mean over seeds of a drift curve, with its 95 % t band."""
    c = np.array(list(curves[label].values()))
    m, h = (np.array(v) for v in zip(*(interval(c[:, s]) for s in stages)))
    ax.plot(stages, m, marker="o", label=legend)
    ax.fill_between(stages, m - np.nan_to_num(h), m + np.nan_to_num(h), alpha=0.12)


def noise_band(curves):
    """The lambda = 1 retraining-noise band, mean +- 2 sd of augment 1's values at every stage >= 1
    of every seed (each of those stages retrains on D itself, so they measure how much retraining
    alone moves the drift), and its upper edge's excess over the mean, relative."""
    ref = np.array([v for c in curves["augment 1"].values() for v in c[1:]])
    band = (float(ref.mean() - 2 * ref.std(ddof=1)), float(ref.mean() + 2 * ref.std(ddof=1)))
    # relative to the lambda = 1 level, which must be above 0 (an excess at the floor has no scale)
    return band, band[1] / ref.mean() - 1.0 if ref.mean() > 0 else float("nan")


def thresholds(a, final, band):
    """Per regime (augment, fresh): its (lambda, mean final drift) points, lambda = 0 being replace,
    and the smallest lambda of the grid from which on every measured lambda stays within the band
    (the drift need not fall monotonically); ``None`` if not even lambda = 1 does."""
    measured = {regime: [(0.0, final["replace"][0])] + [(l, final[f"{regime} {l:g}"][0]) for l in lams]
                for regime, lams in (("augment", a.lambdas), ("fresh", a.fresh_lambdas)) if lams}
    lam_star = {r: min(l for l, _ in pts if all(m <= band[1] for l2, m in pts if l2 >= l))
                if pts[-1][1] <= band[1] else None for r, pts in measured.items()}
    return measured, lam_star


def report(a, runs_, out):
    """Print and save the tables and figures; ``runs_[label][seed][part]`` is a per-stage curve (``PARTS``).
    Every comparison is made on the excess over the floor; value and floor are printed beside it."""
    from matplotlib.figure import Figure

    d = DATA[a.data]
    drift, n, knob = d["drift"], d["n_per_class"](a), d["knob_label"]
    commit = getattr(a, "commit", None) or commit_info()  # main() takes it before running
    command = command_line("examples/loop_regimes.py")
    print("\n" + provenance(commit, command))
    curves = {label: {seed: c["excess"] for seed, c in per.items()} for label, per in runs_.items()}
    finals = {part: {label: interval([c[part][-1] for c in per.values()]) for label, per in runs_.items()}
              for part in ("value", "floor", "excess")}
    final = finals["excess"]
    # the bootstrap 95 % interval of each seed's final excess (one estimate's own uncertainty), mean half-width
    boot = {label: float(np.mean([(c["excess_hi"][-1] - c["excess_lo"][-1]) / 2 for c in per.values()]))
            if all("excess_hi" in c for c in per.values()) else float("nan") for label, per in runs_.items()}
    summary = {"data": a.data, "drift": drift, "judged_on": f"{drift}_excess", "n_per_class": n,
               "floor_n": a.floor_n, "classes": "all classes of the data at every stage", "stages": a.stages,
               "seeds": a.seeds, "commit": commit, "command": command, "curves": runs_,
               "final": final, "final_value": finals["value"], "final_floor": finals["floor"],
               "final_excess_bootstrap_halfwidth": boot}
    print(f"\nfinal stage {a.stages - 1}: {drift} excess over its real-vs-real floor ({a.floor_n} points per class, "
          f"all classes at every stage), mean over seeds {a.seeds} +- 95 % t half-width; value and floor beside")
    print(f"| run | final {drift} excess | value | floor | one seed's bootstrap ± |\n|---|---|---|---|---|")
    for label, (m, h) in final.items():
        print(f"| {label} | {m:+.4f} ± {h:.4f} | {finals['value'][label][0]:.4f} ± {finals['value'][label][1]:.4f} | "
              f"{finals['floor'][label][0]:.4f} ± {finals['floor'][label][1]:.4f} | {boot[label]:.4f} |")
    print(f"\n{drift} excess per stage, mean over seeds ± 95 % t half-width")
    print("| run | " + " | ".join(f"stage {s}" for s in range(a.stages)) + " |\n|---|" + "---|" * a.stages)
    for label, per in curves.items():
        print(f"| {label} | " + " | ".join("{:+.4f} ± {:.4f}".format(*interval([c[s] for c in per.values()]))
                                         for s in range(a.stages)) + " |")

    band, rel_width = noise_band(curves)
    measured, lam_star = thresholds(a, final, band)
    grid = np.linspace(0.0, 1.0, 1001)
    pred = {r: [theory_ratio(r, l, a.stages, n) for l in grid] for r in measured}
    pred_star = {r: next((float(l) for l, v in zip(grid, pred[r]) if v <= 1.0 + rel_width), None) for r in pred}
    # (rel_width is nan when the lambda = 1 excess is not above 0: then no lambda is predicted)
    summary.update(band=band, band_rel_width=rel_width, lambda_star_measured=lam_star, lambda_star_theory=pred_star,
                   theory_accumulate=theory_ratio("accumulate", 0.0, a.stages, n),
                   theory_replace=theory_ratio("replace", 0.0, a.stages, n))
    print(f"\nlambda=1 retraining-noise band of the excess (mean +- 2 sd over seeds x stages 1..{a.stages - 1}): "
          f"[{band[0]:.4f}, {band[1]:.4f}] (upper = mean x {1 + rel_width:.2f})")
    for r in lam_star:
        print(f"{r}: smallest lambda with final excess in the band: measured {lam_star[r]}, "
              f"theory (n={n}, t={a.stages}) " + ("never" if pred_star[r] is None else f"{pred_star[r]:.3f}"))
    print(f"theory, final Var[mean] x n/sigma^2: replace {summary['theory_replace']:.3f}, "
          f"accumulate {summary['theory_accumulate']:.3f}, augment 1 = 1")
    if d["cfid_unit"] is not None:
        summary["theory_cfid_excess_replace"] = d["cfid_unit"](n) * (summary["theory_replace"] - 1.0)
        print(f"theory, final CFID excess over lambda=1 in CFID units (mean term, 2 x std^2/n x (ratio - 1)): "
              f"replace {summary['theory_cfid_excess_replace']:.2e}; measured excess replace - augment 1: "
              f"{final['replace'][0] - final['augment 1'][0]:.2e}")
    biased = [(d["unbiased"], "replace")] + [(b, f"replace {knob}={b:g}") for b in a.biases]
    if a.biases:
        print(f"\nsampling bias ({d['knob_title']}, replace): final {drift} excess per value")
        for b, label in biased:
            print(f"{knob} = {b:g}: {final[label][0]:.4f} +- {final[label][1]:.4f}")

    # Paired by seed: stage 0 is the same in every regime of a seed (same D, generator and sampling
    # seeds; a sampling bias changes its samples), so subtracting each seed's stage-0 drift removes
    # the seed's own level, which is most of the spread between seeds.
    paired = {label: {seed: [v - c[0] for v in c] for seed, c in per.items()} for label, per in curves.items()}
    final_p = {label: interval([c[-1] for c in per.values()]) for label, per in paired.items()}
    band_p, _ = noise_band(paired)
    _, lam_star_p = thresholds(a, final_p, band_p)
    summary.update(final_minus_stage0=final_p, band_minus_stage0=band_p, lambda_star_measured_paired=lam_star_p)
    print(f"\npaired by seed: final {drift} excess minus the seed's stage-0 excess (the floor is the seed's in "
          "every regime, so this is also value minus value), mean +- 95 % t half-width")
    for label, (m, h) in final_p.items():
        print(f"{label:>18}: {m:+.4f} +- {h:.4f}")
    print(f"lambda=1 band of the paired values: [{band_p[0]:.4f}, {band_p[1]:.4f}]; smallest lambda within it: "
          + ", ".join(f"{r} {v}" for r, v in lam_star_p.items()))

    stages = np.arange(a.stages)
    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for label in [l for l, _, _, b in runs(a) if b is None]:
        curve_band(ax, curves, label, label, stages)
    ax.set_xlabel("stage")
    ax.set_ylabel(f"{drift} excess over the floor (held-out)")
    ax.set_title(f"{d['title']}, {a.preset}: regimes ({len(a.seeds)} seeds, 95 % bands)", fontsize=9)
    ax.legend(fontsize=7)
    fig.savefig(out / "regimes_vs_stage.png", dpi=110, bbox_inches="tight")

    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    level = final["augment 1"][0]
    for r, color in (("augment", "C0"), ("fresh", "C1"))[:len(measured)]:
        lams = [l for l, _ in measured[r][1:]]  # lambda = 0 is the replace point
        m = [final[f"{r} {l:g}"] for l in lams]
        ax.errorbar(lams, [x for x, _ in m], yerr=[h for _, h in m], fmt="o", color=color, capsize=3,
                    label=f"{r}: measured")
        ax.plot(grid, level * np.array(pred[r]), color=color, lw=1, ls="--",
                label=f"{r}: theory ratio x measured level(1)")
    for label, color, lam in (("replace", "C3", 0.0), ("accumulate", "C2", 0.0))[:1 + a.accumulate]:
        m, h = final[label]
        ax.errorbar([lam], [m], yerr=[h], fmt="s", color=color, capsize=3, label=f"{label}: measured")
    if a.accumulate:
        ax.axhline(level * summary["theory_accumulate"], color="C2", lw=1, ls="--",
                   label="accumulate: theory ratio x level(1)")
    ax.axhspan(*band, color="grey", alpha=0.2, label="lambda=1 retraining-noise band")
    ax.axhline(0.0, color="k", lw=0.5)  # the floor: an excess can be below it
    ax.set_xlabel("real fraction lambda")
    ax.set_ylabel(f"final {drift} excess (stage {a.stages - 1})")
    ax.set_title(f"{d['title']}: drift after {a.stages} stages vs lambda (n={n} per class)", fontsize=9)
    ax.legend(fontsize=6)
    fig.savefig(out / "drift_vs_lambda.png", dpi=110, bbox_inches="tight")

    if a.biases:
        fig = Figure(figsize=(10, 4.2))
        ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        for b, label in biased:
            curve_band(ax, curves, label, f"{knob} = {b:g}", stages)
        ax.set_xlabel("stage")
        ax.set_ylabel(f"{drift} excess over the floor (held-out)")
        ax.set_title(f"sampling bias: {d['knob_title']}, replace regime", fontsize=9)
        ax.legend(fontsize=8)
        m = [final[label] for _, label in biased]
        ax2.errorbar([b for b, _ in biased], [x for x, _ in m], yerr=[h for _, h in m], fmt="o-", capsize=3)
        ax2.axhspan(*band, color="grey", alpha=0.2, label="lambda=1 retraining-noise band")
        ax2.set_xlabel(d["knob_title"])
        ax2.set_ylabel(f"final {drift} excess (stage {a.stages - 1})")
        ax2.set_title(f"final drift vs {knob} ({len(a.seeds)} seeds, 95 % intervals)", fontsize=9)
        ax2.legend(fontsize=7)
        fig.savefig(out / "sampling_bias.png", dpi=110, bbox_inches="tight")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(f"\nfigures and summary.json in {out}")


if __name__ == "__main__":
    main()
