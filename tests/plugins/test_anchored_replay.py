"""Anchored replay: anchors are stored once per class from real data and never updated;
kernel herding lowers the Fréchet distance to the stored statistics; the moment-matching loss is the
Fréchet distance, has finite gradients and can be descended; the plugin runs on tiny Split Digits."""
import pytest
import torch
from avalanche.training.plugins import EvaluationPlugin
from avalanche.training.templates import SupervisedTemplate

from bootdrift_avalanche.anchoring import ClassAnchors, frechet_to_anchor, kernel_herding
from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.metrics import gaussian_w2_squared
from bootdrift_avalanche.metrics._gaussian import sqrtm_psd
from bootdrift_avalanche.plugins.anchored_replay import AnchoredDDGRPlugin
from bootdrift_avalanche.plugins.generator_lookup import find_sampler
from bootdrift_avalanche.plugins.replay import experience_tensors

from .test_ddgr import TinyCNN, tiny_ddpm


def _fd(x, mean, cov):
    x = x.double()
    return gaussian_w2_squared(x.mean(0), torch.cov(x.T), mean.double(), cov.double())


def test_anchors_are_stored_once_from_real_data_and_never_updated():
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    gen = tiny_ddpm(train_steps=3, num_inference_steps=3)
    plugin = AnchoredDDGRPlugin(gen, anchors=ClassAnchors(num_features=16, seed=3), oversample=2,
                                moment_weight=0.5, moment_batch=4, replay_per_class=3, guidance_scale=0.0,
                                generator_steps=3, seed=0)
    model = TinyCNN()
    strategy = SupervisedTemplate(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                                  criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64, train_epochs=1,
                                  plugins=[plugin], evaluator=EvaluationPlugin(loggers=[]))
    expected = ClassAnchors(num_features=16, seed=3)  # the same feature space, fed the real data only
    for exp in bm.train_stream:
        expected.record(*experience_tensors(exp))
    old, new = bm.classes_per_experience
    for exp in bm.train_stream:
        strategy.train(exp)
    assert plugin.anchors.classes == sorted(old + new)
    for c in old + new:
        for got, want in zip(plugin.anchors.stats(c), expected.stats(c)):
            assert torch.equal(got, want)
    # the old classes were replayed (synthetic images exist) and the moment term trained on them...
    assert plugin.replay_x is not None and sorted(set(plugin.replay_y.tolist())) == sorted(old)
    assert len(plugin.moment_log) == 1 and len(plugin.moment_log[0]) == 3
    assert all(torch.isfinite(torch.tensor(plugin.moment_log[0])))
    # ...yet recording synthetic images of an anchored class changes nothing
    before = [t.clone() for t in plugin.anchors.stats(old[0])]
    assert plugin.anchors.record(plugin.replay_x, plugin.replay_y) == []
    assert all(torch.equal(a, b) for a, b in zip(plugin.anchors.stats(old[0]), before))
    # the drift metrics sample the anchored replay itself, and resume restores the anchors
    assert find_sampler(strategy).plugin is plugin
    fresh = ClassAnchors(num_features=16, seed=3)
    fresh.load_state_dict(plugin.state_dict()["anchors"])
    assert fresh.classes == plugin.anchors.classes and fresh.nbytes() == len(old + new) * (16 + 136) * 4


def test_moment_matching_refuses_a_generator_without_a_regularizer_hook():
    class NoHook:
        def generate(self, labels, *, seed=None, guidance=None, guidance_scale=None, guidance_classes=None,
                     progress=False):
            return torch.zeros(len(labels), 1, 8, 8)

        def fit(self, x, y, *, steps=None, progress=False):
            return self

    with pytest.raises(TypeError, match="takes a regularizer"):
        AnchoredDDGRPlugin(NoHook(), anchors=ClassAnchors(num_features=4), moment_weight=0.1)
    AnchoredDDGRPlugin(NoHook(), anchors=ClassAnchors(num_features=4), moment_weight=0.0)  # selection only: fine


def test_kernel_herding_lowers_the_frechet_distance_to_the_stored_stats():
    g = torch.Generator().manual_seed(0)
    d = 6
    a = torch.randn(d, d, generator=g)
    mean, cov = torch.randn(d, generator=g), a @ a.T / d + 0.1 * torch.eye(d)
    target = mean + torch.randn(300, d, generator=g) @ torch.linalg.cholesky(cov).T
    drifted = mean + 2.0 + 0.3 * torch.randn(300, d, generator=g)  # shifted and collapsed candidates
    pool = torch.cat([target, drifted])
    pick = kernel_herding(pool, 150, mean, cov)
    assert len(set(pick.tolist())) == 150
    fd_pick, fd_all = _fd(pool[pick], mean, cov), _fd(pool, mean, cov)
    fd_random = _fd(pool[torch.randperm(600, generator=g)[:150]], mean, cov)
    assert fd_pick < 0.25 * min(fd_all, fd_random), (fd_pick, fd_all, fd_random)


def test_moment_loss_is_the_frechet_distance_with_finite_gradients_and_descends_on_a_toy():
    g = torch.Generator().manual_seed(1)
    d = 8
    a = torch.randn(d, d, generator=g)
    mean, cov = torch.randn(d, generator=g), a @ a.T / d + 0.05 * torch.eye(d)
    root, trace = sqrtm_psd(cov.double()).float(), float(cov.trace())
    x = (3.0 + 0.2 * torch.randn(32, d, generator=g)).requires_grad_(True)
    loss = frechet_to_anchor(x, mean, trace, root)
    (grad,) = torch.autograd.grad(loss, x)
    loss = float(loss.detach())
    assert abs(loss - _fd(x.detach(), mean, cov)) < 1e-3 * loss
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    few = x[:4].detach().clone().requires_grad_(True)  # n < d: a rank-deficient batch covariance
    (grad_few,) = torch.autograd.grad(frechet_to_anchor(few, mean, trace, root), few)
    assert torch.isfinite(grad_few).all()
    start = loss
    opt = torch.optim.Adam([x], lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        frechet_to_anchor(x, mean, trace, root).backward()
        opt.step()
    assert float(frechet_to_anchor(x, mean, trace, root)) < 0.05 * start


def test_anchors_of_a_task_incremental_stream_are_keyed_by_task_and_class():
    """With repeated class ids, digit 2 (task 1, class 0) gets its own anchor (generator label 2),
    not the one of digit 0 (task 0, class 0), and the moment term pulls only task 0's replayed pairs."""
    from .test_task_incremental import TwoWayCNN, task_incremental_digits, tiny_ddpm as tiny_ddpm_for
    from bootdrift_avalanche.plugins.replay import experience_task_tensors

    torch.manual_seed(0)
    bm = task_incremental_digits()
    plugin = AnchoredDDGRPlugin(tiny_ddpm_for(4, train_steps=3, num_inference_steps=3),
                                anchors=ClassAnchors(num_features=8, seed=1), oversample=2, moment_weight=0.5,
                                moment_batch=4, replay_per_class=3, guidance_scale=0.0, generator_steps=3)
    model = TwoWayCNN()
    strategy = SupervisedTemplate(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                                  criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64, train_epochs=1,
                                  plugins=[plugin], evaluator=EvaluationPlugin(loggers=[]))
    for exp in bm.train_stream:
        strategy.train(exp)
    assert plugin.anchors.classes == [0, 1, 2, 3]
    x1, y1, _ = experience_task_tensors(bm.train_stream[1])
    expected = ClassAnchors(num_features=8, seed=1)
    expected.record(x1[y1 == 0], torch.full((int((y1 == 0).sum()),), 2))
    assert all(torch.equal(a, b) for a, b in zip(plugin.anchors.stats(2), expected.stats(2)))
    assert not torch.equal(plugin.anchors.stats(0)[0], plugin.anchors.stats(2)[0])
    assert sorted(set(plugin.replay_y.tolist())) == [0, 1] and len(plugin.moment_log) == 1
