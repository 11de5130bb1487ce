"""The real-image replay buffer baseline: memory matched to the DDGR generator's parameters, real
old-class images in the mini-batches, and a buffer rebuilt exactly on resume."""
import torch

from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig
from bootdrift_avalanche.experiments.recipes.replay_buffer import SeededReplayPlugin, matched_buffer_size
from bootdrift_avalanche.experiments.replay import run_replay
from bootdrift_avalanche.generators.ddpm import DDPMGenerator

from .test_registry import _ctx


def _buffer(strategy):
    plugin = next(p for p in strategy.plugins if isinstance(p, SeededReplayPlugin))
    return plugin, plugin.storage_policy.buffer


def test_buffer_bytes_equal_the_ddgr_generators_parameter_bytes():
    rec, ctx = _ctx("replay-buffer")
    gen = DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10))
    params = sum(p.numel() for p in gen.unet.parameters())
    size = matched_buffer_size(ctx)
    assert size == params // 64 and size * 64 * 4 <= params * 4 < (size + 1) * 64 * 4
    assert _buffer(rec.build(ctx))[0].mem_size == size


def test_buffer_replays_old_classes_and_is_rebuilt_on_resume():
    rec, ctx = _ctx("replay-buffer")
    strategy = rec.build(ctx)
    stream = ctx.benchmark.train_stream
    strategy.train(stream[0])
    plugin, buf = _buffer(strategy)
    old = set(ctx.benchmark.classes_per_experience[0])
    assert 0 < len(buf) <= plugin.mem_size and set(int(t) for t in buf.targets) == old

    rec2, ctx2 = _ctx("replay-buffer")
    fresh = rec2.build(ctx2)
    rec2.load_state_dict(fresh, rec.state_dict(strategy), ctx2, done=0)
    _, rebuilt = _buffer(fresh)
    assert len(rebuilt) == len(buf)
    xs = lambda b: torch.stack([b[i][0] for i in range(len(b))])  # noqa: E731
    assert torch.equal(xs(rebuilt), xs(buf)) and list(rebuilt.targets) == list(buf.targets)


def test_replay_buffer_run_end_to_end(tmp_path):
    out = run_replay(ReplayConfig(strategy="replay-buffer", preset="tiny", experiences=2, progress=False),
                     tmp_path / "run")
    assert len(out.accuracy_matrix) == 2 and 0.0 <= out.final_accuracy <= 1.0
    assert out.drift == {}  # no generator: no drift metrics
