"""What a real-vs-real floor of the text loop's distances would be, and what it costs (docs/TEXT_LOOP.md).

The text loop (``examples/text_bootstrap.py``) scores every synthetic set (as many chunks as the
training text: 2,244 on pydoc) against the 627 held-out chunks, with an encoder trained on all the
training text; pydoc has no unseen real text of that size, so no floor exists at the loop's n. This
bench measures one at half of it: per seed, each topic's training chunks split in two halves
(seeded); the suite (encoder, tail) is built on half A, and half B, which neither the encoder nor
the reference has seen, is scored as if it were generated: the floor at n = |B|. Half A scored the
same way shows what scoring text the encoder was trained on does. Last, the loop's own suite
(encoder on all the training text) scores all the training text: at the loop's n that is the floor
of the encoder-free values (UnigramJSD, BigramJSD: real vs real, disjoint texts) and RealAcc's
ceiling, but not of the encoder distances (the encoder was trained on that text).
Mean ± 95 % t-interval over seeds, the commit, and the CPU seconds per floor.

    python bench/text_floor.py --seeds 0 1 2
"""
import argparse
import time

import torch
from reproduce_paper import commit_info, cpu_seconds, t_interval  # bench/ is the script's directory, hence on sys.path

METRICS = ("FID_enc", "CFID_enc", "OTDD_enc", "RealAcc", "UnigramJSD", "BigramJSD")


def halves(y: torch.Tensor, seed: int):
    """Two disjoint index sets, each topic's rows split in half in a seeded order (A gets the odd one)."""
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    a = torch.zeros(len(y), dtype=torch.bool)
    for c in torch.unique(y).tolist():
        rows = perm[y[perm] == c]
        a[rows[: (len(rows) + 1) // 2]] = True
    return a.nonzero().flatten(), (~a).nonzero().flatten()


def main() -> None:
    from bootdrift_avalanche.experiments.config import BootstrapConfig, preset
    from bootdrift_avalanche.experiments.registry import tokenized_text
    from bootdrift_avalanche.text.suite import TextDriftSuite

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    a = p.parse_args()
    torch.set_num_threads(1)
    commit = commit_info()
    print(f"commit {commit['short']}{' (dirty)' if commit['dirty'] else ''}; python bench/text_floor.py --seeds "
          + " ".join(map(str, a.seeds)) + f" --preset {a.preset}")
    t = tokenized_text(BootstrapConfig(data="pydoc", preset=a.preset))
    x, y = t.x_train, t.y_train
    rows, cpu = {"B": [], "A": [], "all": []}, []
    for seed in a.seeds:
        c0 = cpu_seconds()
        ia, ib = halves(y, seed)
        suite = TextDriftSuite(x[ia], y[ia], t.vocab_size, len(t.topics), decode=t.decode,
                               encoder=preset(a.preset).encoder_config(), seed=seed)
        rows["B"].append(suite.evaluate(t.x_test, t.y_test, x[ib], y[ib]).scalars)
        cpu.append(cpu_seconds() - c0)
        rows["A"].append(suite.evaluate(t.x_test, t.y_test, x[ia], y[ia]).scalars)
        loop_suite = TextDriftSuite(x, y, t.vocab_size, len(t.topics), decode=t.decode,
                                    encoder=preset(a.preset).encoder_config(), seed=seed)
        rows["all"].append(loop_suite.evaluate(t.x_test, t.y_test, x, y).scalars)
    print(f"pydoc, {len(y)} training / {len(t.y_test)} held-out chunks; halves of {len(ia)} (A) and {len(ib)} (B) "
          f"chunks; mean ± 95 % t half-width over seeds {a.seeds}")
    print("| real set scored as generated | n chunks | " + " | ".join(METRICS) + " |")
    print("|---|---|" + "---|" * len(METRICS))
    for key, what, n in (("B", "half B, unseen by the encoder (the floor at this n)", len(ib)),
                         ("A", "half A, the encoder's training text", len(ia)),
                         ("all", "all training text, the loop's suite (JSD floor and RealAcc ceiling at the loop's n; "
                                 "encoder distances: seen text)", len(y))):
        cells = [t_interval([r[m] for r in rows[key]]) for m in METRICS]
        print(f"| {what} | {n} | " + " | ".join(f"{m:.4g} ± {h:.2g}" for m, h in cells) + " |")
    print(f"CPU s per floor (encoder + one evaluation), mean over seeds: {sum(cpu) / len(cpu):.1f}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"{time.perf_counter() - t0:.0f} s wall")
