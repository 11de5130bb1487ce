"""bench/generator_frontier.py: the frontier keeps exactly the points no cheaper point beats."""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "generator_frontier", Path(__file__).resolve().parents[1] / "bench" / "generator_frontier.py")
gf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gf)


def _pt(acc, train, sample):
    return {"judge_acc": acc, "train_cpu_s": train, "sample_cpu_s_per_1000": sample}


def test_frontier_keeps_the_points_no_cheaper_point_beats():
    pts = [_pt(0.90, 10, 0), _pt(0.95, 20, 10), _pt(0.93, 30, 0), _pt(0.99, 20, 200), _pt(0.97, 5, 20)]
    front = gf.frontier(pts, replay_images=500)  # costs: 10, 25, 30, 120, 15
    assert [(p["judge_acc"], p["cost_cpu_s"]) for p in front] == [(0.90, 10), (0.97, 15), (0.99, 120)]
    assert gf._ddpm_spec("16,32:128") == ((16, 32), 128) and gf._sampler("ddim-20") == ("ddim", 20)
