"""GUIDE's settings for ``cpu-small``, chosen on the validation split like every replay method, with
``bench/replay_tuning.py``'s trial runner (benchmark ``digits-val``: Split Digits' train split divided
80/20; the test split is never read). A trial is a dict of ``GUIDEPlugin`` keyword arguments over the
preset's ``guide`` entry. Prints each trial's validation final accuracy, forgetting and CPU seconds,
the best trial and the commit.

    python bench/guide_tuning.py --json /tmp/guide_tuning.json        # every trial
    python bench/guide_tuning.py --experiences 3 --trials 0 2         # a subset, a shorter stream
"""
import importlib.util
import json
import subprocess
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Trial 0 is the reference's setting where it fits a CPU (scale 0.5 as its CIFAR-10/5 and CIFAR-100/5
# runs, DDIM as they sample, one draw per experience); 1-2 move the scale, 3-4 move one knob from the
# best of 0-2 (scale 0.2).
TRIALS = [
    dict(guidance_scale=0.5, sampler="ddim"),
    dict(guidance_scale=0.2, sampler="ddim"),
    dict(guidance_scale=1.0, sampler="ddim"),
    dict(guidance_scale=0.2, sampler=None),  # the generator's own ancestral sampler, as DDGR replays
    dict(guidance_scale=0.05, sampler="ddim"),
]


def _replay_tuning():
    spec = importlib.util.spec_from_file_location("replay_tuning", HERE / "replay_tuning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    from bootdrift_avalanche.runtime.threads import configure_threads

    tuning = _replay_tuning()
    a = tuning.tuning_parser(__doc__).parse_args()
    configure_threads("cpu", a.threads)
    warnings.filterwarnings("ignore", message="No loggers specified")
    run_trial = tuning.run_trial
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                            cwd=HERE).stdout.strip()
    print(f"commit {commit}, preset {a.preset}, seed {a.seed}, digits-val, {a.experiences} experiences", flush=True)
    rows = []
    for i, trial in enumerate(TRIALS):
        if a.trials is not None and i not in a.trials:
            continue
        r = run_trial("guide", {"recipe": {"guide": trial}}, preset=a.preset, seed=a.seed, experiences=a.experiences)
        rows.append({"trial": i, "settings": trial, **r})
        print(f"guide trial {i}: val acc {r['val_accuracy']:.3f}  forgetting {r['val_forgetting']:.3f}  "
              f"{r['cpu_seconds']:.0f} CPU s  {r['seconds']:.0f} s wall  {trial}", flush=True)
    best = max(rows, key=lambda r: r["val_accuracy"])
    print(f"guide best: trial {best['trial']} (val acc {best['val_accuracy']:.3f}) {best['settings']}", flush=True)
    if a.json:
        tmp = Path(a.json + ".tmp")
        tmp.write_text(json.dumps({"commit": commit, "trials": rows, "best": best["trial"]}, indent=1))
        tmp.replace(a.json)
        print(f"written: {a.json}")


if __name__ == "__main__":
    main()
