"""The bootstrapping loop for language models (the seed paper's open question 2).

For every generator (``ngram``, ``gpt2``), regime (``replace``, ``accumulate``) and seed, runs the
loop on the embedded pydoc corpus (``bootdrift bootstrap --data pydoc ...``: one run directory each
under --out with metrics.jsonl, TensorBoard and checkpoints; rerunning resumes them and only reads
the complete ones), then prints, per generator and regime, the per-stage table of every metric:
mean over the seeds ± the half-width of the 95 % Student-t interval (markdown tables). For the n-gram under replace
it also prints the measured TailSurvival beside the categorical closed form's expectation
(``text.tail_theory``: exact for a unigram model, ``--ngram-order 1``; an approximation above).
Beside it, the drift beyond the real-vs-real floor of the values that have one (``text.suite.FLOORED``:
UnigramJSD, BigramJSD, whose floor is the real training text against the held-out text at the same n;
RealAcc's ceiling), as value, floor and excess with its 95 % interval, and whether the excess grows:
each seed's least-squares slope of the excess over the stages, mean and 95 % t-interval over the seeds.
The encoder distances (FID_enc, CFID_enc, OTDD_enc) have no floor at the loop's n (the encoder trains on
all the training text): their values are raw and the output says so.
Writes ``text_curves.png`` (one panel per metric, bands = 95 % intervals) and ``summary.json`` (the
tables, the commit and the command: the record ``bench/findings.py --text-loop`` reads).

    python examples/text_bootstrap.py --generators ngram --seeds 0 1 2 3 4      # ~1 CPU minute
    python examples/text_bootstrap.py --generators gpt2 --regimes replace       # ~14 CPU minutes (cpu-small)
    python examples/text_bootstrap.py --generators ngram gpt2 --tables-only     # print what is there
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from reproduce_paper import (command_line, commit_info, provenance, slope, t_interval as interval,  # noqa: E402
                             trend)  # one definition of each

METRICS = ("Perplexity", "FID_enc", "CFID_enc", "OTDD_enc", "RealAcc", "UnigramJSD", "BigramJSD", "TailSurvival",
           "Distinct1", "Distinct2", "Zipf")
#: the encoder distances: no real-vs-real floor at the loop's n (the encoder trains on all the training text)
NO_FLOOR = ("FID_enc", "CFID_enc", "OTDD_enc")


def run_dir(a, gen, regime, seed):
    order = f"_n{a.ngram_order}" if gen == "ngram" and a.ngram_order else ""
    return Path(a.out) / f"{gen}{order}_{regime}_seed{seed}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generators", nargs="+", default=["ngram"], choices=("ngram", "gpt2"))
    p.add_argument("--regimes", nargs="+", default=["replace", "accumulate"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--stages", type=int, default=5)
    p.add_argument("--ngram-order", type=int, help="n of the n-gram (default: the preset's, 2)")
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--intervals", type=int, default=0,
                   help="bootstrap replicates of each run's 95 %% intervals of the word statistics, their floor and "
                        "excess (0: none)")
    p.add_argument("--out", default="runs/text_bootstrap")
    p.add_argument("--tables-only", action="store_true",
                   help="run nothing; tabulate the stages the runs under --out have finished (a stage's row is over "
                        "the seeds that reached it, n = their number)")
    a = p.parse_args()

    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)
    a.commit, a.command = commit_info(), command_line("examples/text_bootstrap.py")
    print(provenance(a.commit, a.command), flush=True)
    results = {}  # (gen, regime) -> seed -> list of per-stage dicts
    for gen in a.generators:
        for regime in a.regimes:
            for seed in a.seeds:
                d = run_dir(a, gen, regime, seed)
                cfg = BootstrapConfig(generator=gen, data="pydoc", stages=a.stages, regime=regime, mix_real=0.0,
                                      seed=seed, preset=a.preset, ngram_order=a.ngram_order if gen == "ngram" else None,
                                      intervals=a.intervals, progress=False)
                if a.tables_only:
                    stages = _read_stages(d, a.stages)
                    if not stages:
                        continue
                else:
                    t0 = time.process_time()
                    stages = run_bootstrap_experiment(cfg, d, resume=(d / "config.json").exists()).stages
                    print(f"{d.name}: {len(stages)} stages, {time.process_time() - t0:.0f} CPU s in this process",
                          flush=True)
                results.setdefault((gen, regime), {})[seed] = stages
    report(a, results)


def _read_stages(d: Path, stages: int):
    """Per-stage scalars of the stages a run has finished (its checkpointed ones), from metrics.jsonl."""
    from bootdrift_avalanche.logging import metric_table, read_metrics

    # the newest checkpoint's step (older ones are pruned) says how many stages are finished
    steps = [int(f.name.split("_")[1].split(".")[0]) for f in (d / "checkpoints").glob("step_*.pt.sha256")]
    done = max(steps) + 1 if steps else 0
    if done == 0 or not (d / "metrics.jsonl").exists():
        return []
    table = metric_table(read_metrics(d / "metrics.jsonl"))
    out = [{} for _ in range(min(done, stages))]
    for name, per_stage in table.items():
        if name.count("/") > 2:  # a per-topic value (CFID_enc/train_phase/train_stream/Class003), not the mean
            continue
        for s, v in per_stage.items():
            if s < len(out):
                out[s][name.split("/")[0]] = v
    return out


def report(a, results):
    from bootdrift_avalanche.experiments.registry import tokenized_text
    from bootdrift_avalanche.experiments.config import BootstrapConfig, PRESETS
    from bootdrift_avalanche.text.stats import tail_tokens
    from bootdrift_avalanche.text.tail_theory import expected_tail_survival

    order = a.ngram_order or PRESETS[a.preset].text["ngram"]["order"]
    summary = {"stages": a.stages, "preset": a.preset, "ngram_order": order, "tables": {}, "commit": a.commit,
               "command": a.command, "tables_only": a.tables_only}
    for (gen, regime), per_seed in results.items():
        seeds = sorted(per_seed)
        print(f"\n{gen}, {regime}, pydoc, {a.preset}: mean ± 95 % t half-width over seeds {seeds}")
        print("| stage | n | " + " | ".join(METRICS) + " |")
        print("|---|---|" + "---|" * len(METRICS))
        table, counts = {}, {}
        for s in range(a.stages):
            have = [k for k in seeds if len(per_seed[k]) > s]
            if not have:
                break
            row = {m: interval([per_seed[k][s][m] for k in have]) for m in METRICS}
            table[s], counts[s] = row, len(have)
            print(f"| {s} | {len(have)} | " + " | ".join(f"{row[m][0]:.4g} ± {row[m][1]:.2g}" for m in METRICS) + " |")
        # Paired over seeds (every seed's own stage 0 as its baseline): the change by the last stage
        # that at least two seeds reached, which seed-to-seed differences of stage 0 do not blur.
        last = max((s for s, n in counts.items() if n >= 2 and s > 0), default=None)
        if last is not None:
            have = [k for k in seeds if len(per_seed[k]) > last]
            change = {m: interval([per_seed[k][last][m] - per_seed[k][0][m] for k in have]) for m in METRICS}
            print(f"| stage {last} − stage 0, paired over seeds {have} | {len(have)} | "
                  + " | ".join(f"{change[m][0]:+.4g} ± {change[m][1]:.2g}" for m in METRICS) + " |")
            table[f"change_{last}_minus_0"] = change
        chance = per_seed[seeds[0]][0]["RealAccChance"]
        print(f"RealAcc chance level: {chance:.4f}")
        summary["tables"][f"{gen}/{regime}"] = {"seeds": seeds, "per_stage": table, "n": counts, "chance": chance,
                                               "beyond_floor": beyond_floor(per_seed, seeds, counts)}
        if gen == "ngram" and regime == "replace" and len(counts) == a.stages:
            t = tokenized_text(BootstrapConfig(data="pydoc", preset=a.preset))
            tail = tail_tokens(t.x_train, t.vocab_size)
            theory = expected_tail_survival(t.x_train, t.y_train, tail, t.vocab_size, a.stages)
            print(f"TailSurvival vs the categorical closed form (n-gram order {order}; exact at order 1; "
                  f"{len(tail)} tail types):")
            for s in range(a.stages):
                m, h = table[s]["TailSurvival"]
                inside = "inside" if abs(m - theory[s]) <= h else "OUTSIDE"
                print(f"  stage {s}: measured {m:.4f} ± {h:.4f}, closed form {theory[s]:.4f} ({inside} the interval)")
            summary["tables"][f"{gen}/{regime}"]["tail_closed_form"] = theory.tolist()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    _figure(a, summary, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(f"\nfigure and summary.json in {out}")


def beyond_floor(per_seed, seeds, counts):
    """Print (markdown) and return, per stage, value, floor and excess (mean ± 95 % t half-width over
    the seeds) of the floored values and RealAcc's ceiling, and the trend of each excess over the stages
    (per-seed least-squares slope; mean, half-width and verdict over the seeds); {} for runs without floors."""
    from bootdrift_avalanche.text.suite import FLOORED

    first = per_seed[seeds[0]][0]
    stages = [(k, s, st) for k in seeds for s, st in enumerate(per_seed[k])]
    bare = [(k, s) for k, s, st in stages if not all(f"{m}_floor" in st for m in FLOORED)]
    if len(bare) == len(stages):
        print("no real-vs-real floor logged in these runs")
        return {}
    if bare:  # runs begun before the floor was logged and resumed after it was
        raise SystemExit(f"some stages log no real-vs-real floor (seed, stage: {bare[:6]}): these runs were begun "
                         "by code that did not log it; rerun them in a new --out")
    print(f"beyond the real-vs-real floor (real training text vs held-out text at the same n): "
          f"mean ± 95 % t half-width over seeds {seeds}")
    print("| stage | n | " + " | ".join(f"{m} | {m} floor | {m} excess" for m in FLOORED)
          + " | RealAcc | RealAcc ceiling |")
    print("|---|---|" + "---|---|---|" * len(FLOORED) + "---|---|")
    out = {"per_stage": {}, "trend": {}}
    for s in sorted(counts):
        have = [k for k in seeds if len(per_seed[k]) > s]
        row = {f"{m}{q}": interval([per_seed[k][s][f"{m}{q}"] for k in have])
               for m in FLOORED for q in ("", "_floor", "_excess")}
        row.update({q: interval([per_seed[k][s][q] for k in have]) for q in ("RealAcc", "RealAcc_ceiling")})
        out["per_stage"][s] = row
        cells = [f"{row[m][0]:.4g} ± {row[m][1]:.2g}" for m in row]
        print(f"| {s} | {len(have)} | " + " | ".join(cells) + " |")
    if all(f"{m}_excess_lo" in st for m in FLOORED for _, _, st in stages):
        for m in FLOORED:
            lo, hi = first[f"{m}_floor_lo"], first[f"{m}_floor_hi"]
            halves = [(st[f"{m}_excess_hi"] - st[f"{m}_excess_lo"]) / 2 for _, _, st in stages]
            print(f"{m}: one run's bootstrap 95 % interval (reference and set resampled) of the floor "
                  f"[{lo:.4g}, {hi:.4g}], of the excess ± {np.mean(halves):.2g} (mean half-width over runs and stages)")
    full = [k for k in seeds if len(per_seed[k]) == len(counts)]
    for m in FLOORED:
        slopes = [slope([st[f"{m}_excess"] for st in per_seed[k]]) for k in full]
        mean, half, verdict = trend(slopes, +1)
        out["trend"][m] = {"slopes": slopes, "mean": mean, "half": half, "verdict": verdict}
        print(f"{m}_excess per stage, least-squares slope over stages 0-{len(counts) - 1} (seeds {full}): "
              f"{mean:+.4g} ± {half:.2g}; drift beyond the floor grows: {verdict}")
    print(f"{', '.join(NO_FLOOR)}: no real-vs-real floor at the loop's n (the encoder trains on all the training "
          "text, and no unseen real text of that n exists): raw values, not drift beyond a floor")
    return out


def _figure(a, summary, out):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 8))
    for i, m in enumerate(METRICS):
        ax, drawn = fig.add_subplot(3, 4, i + 1), None
        for label, tab in summary["tables"].items():
            stages = np.arange(len([s for s in tab["per_stage"] if isinstance(s, int)]))
            mean = np.array([tab["per_stage"][s][m][0] for s in stages])
            half = np.nan_to_num(np.array([tab["per_stage"][s][m][1] for s in stages]))
            ax.plot(stages, mean, marker="o", ms=3, label=label)
            ax.fill_between(stages, mean - half, mean + half, alpha=0.15)
            if m == "TailSurvival" and "tail_closed_form" in tab:
                ax.plot(stages, tab["tail_closed_form"], ls="--", color="k", lw=1, label="closed form")
            if m == "RealAcc":
                ax.axhline(tab["chance"], color="grey", lw=0.8, ls=":")
            floor = tab["beyond_floor"].get("per_stage", {}).get(0, {}).get(
                "RealAcc_ceiling" if m == "RealAcc" else f"{m}_floor") if tab.get("beyond_floor") else None
            if floor is not None and not drawn:  # the same at every stage and in every regime: drawn once
                drawn = ax.axhline(floor[0], color="k", lw=0.8, ls=":",
                                   label=f"{'ceiling' if m == 'RealAcc' else 'floor'} (real vs real)")
        if drawn:
            ax.legend(fontsize=6)
        ax.set_title(f"{m} (raw: no floor)" if m in NO_FLOOR else m, fontsize=9)
        ax.set_xticks(np.arange(a.stages))
        ax.tick_params(labelsize=7)
    fig.axes[0].legend(fontsize=6)
    fig.suptitle(f"language-model bootstrapping on pydoc ({a.preset}; mean over seeds, 95 % bands)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "text_curves.png", dpi=100)


if __name__ == "__main__":
    main()
