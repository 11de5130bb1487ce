"""GUIDE: the direction of its guidance, and the plugin on a tiny 2-experience Split Digits stream in
both mini-batch formats."""
import pytest
import torch
import torch.nn.functional as F
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.generators.ddpm.guide_guidance import NewClassGuidance
from bootdrift_avalanche.generators.ddpm.sampling import denoise_step, sampling_scheduler
from bootdrift_avalanche.plugins.generator_lookup import find_sampler
from bootdrift_avalanche.plugins.guide import GUIDEPlugin
from bootdrift_avalanche.plugins.task_keys import experience_keys
from bootdrift_avalanche.strategies.guide import GUIDE

from .test_ddgr import TinyCNN, run_tiny


def tiny_ddpm(num_classes=10, **over):
    return DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=num_classes, **over))


# -- the direction of the guidance ---------------------------------------------------------------
def _current_log_prob(clf, images, targets, columns):
    """log p(current task's classes | image) under the softmax over ``columns``."""
    logp = F.log_softmax(clf(images)[:, columns], dim=1)
    pos = [columns.index(c) for c in targets]
    return torch.logsumexp(logp[:, pos], dim=1)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_one_guided_step_raises_the_classifiers_belief_in_the_current_classes(sampler):
    """At a fixed x_t (old-class images of Split Digits, slightly noised), one guided step of the
    sampler, against the unguided step with the same noise draw, raises the classifier's log
    probability of the current task's classes (and the logit of each image's c* over the old
    classes): the reference's sign, toward the new classes (``-cross_entropy(logits, c*)``
    differentiated and added to the score)."""
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    old, new = bm.classes_per_experience
    x = torch.stack([bm.train_stream[0].dataset[i][0] for i in range(16)])
    gen = tiny_ddpm(num_train_timesteps=1000, num_inference_steps=20, sampler=sampler)
    clf = TinyCNN().eval().requires_grad_(False)
    columns = sorted(old + new)
    guidance = NewClassGuidance(clf, new, columns)
    y = torch.tensor([old[0]] * len(x))
    sched = sampling_scheduler(gen.scheduler, sampler)
    sched.set_timesteps(20)
    t = sched.timesteps[-2]  # a late step: x_t close to the image, so x̂0 follows x_t
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    x_t = sched.add_noise(x * 2 - 1, eps, t.expand(len(x)))
    step = dict(cfg=gen.config, sampler=sampler, eta=0.0, classes=None)
    guided = denoise_step(gen.ema_unet, sched, x_t, t, y, guidance=guidance, scale=50.0,
                          rng=torch.Generator().manual_seed(2), **step)
    plain = denoise_step(gen.ema_unet, sched, x_t, t, y, guidance=None, scale=50.0,
                         rng=torch.Generator().manual_seed(2), **step)
    assert not torch.equal(guided, plain)
    guided, plain = (guided + 1) / 2, (plain + 1) / 2  # the benchmark's [0, 1]
    up = _current_log_prob(clf, guided, new, columns) - _current_log_prob(clf, plain, new, columns)
    assert float(up.mean()) > 0 and float((up > 0).float().mean()) >= 0.75, up
    # the logit of c* (each image's most likely current class) gains on the old classes' logits
    lg, lp = clf(guided), clf(plain)
    c_star = torch.tensor(new)[lp[:, new].argmax(1)][:, None]
    margin_g = lg.gather(1, c_star).squeeze(1) - lg[:, old].mean(1)
    margin_p = lp.gather(1, c_star).squeeze(1) - lp[:, old].mean(1)
    assert float((margin_g - margin_p).mean()) > 0


def test_guidance_targets_the_most_likely_current_class_over_the_seen_columns():
    logits = torch.tensor([[3.0, 0.0, 1.0, 2.0, 9.0], [0.0, 5.0, 4.0, 1.0, 9.0]])
    g = NewClassGuidance(lambda x: x, targets=[2, 3], columns=[0, 1, 2, 3])  # column 4 is not seen
    want = F.log_softmax(logits[:, :4], dim=1)[[0, 1], [3, 2]]
    torch.testing.assert_close(g.target_log_prob(logits), want)
    with pytest.raises(ValueError, match="not among the softmax columns"):
        NewClassGuidance(lambda x: x, targets=[5], columns=[0, 1])
    with pytest.raises(ValueError, match="at least one target"):
        NewClassGuidance(lambda x: x, targets=[])


# -- the plugin ----------------------------------------------------------------------------------
def _run(task_labels, **guide):
    opts = dict(replay_per_class=3, guidance_scale=1.0, regenerate_every=2, sampler="ddim", generator_steps=3)
    return run_tiny(GUIDE, task_labels, guide={**opts, **guide})


@pytest.mark.parametrize("task_labels", [False, True])
def test_tiny_guide_two_experiences(task_labels):
    bm, strategy, spy, fed = _run(task_labels)
    old, new = bm.classes_per_experience
    plugin = strategy.guide_plugin
    assert sorted(plugin.replay_y.tolist()) == sorted(old * 3)
    assert 0.0 <= float(plugin.replay_x.min()) and float(plugin.replay_x.max()) <= 1.0
    iterations = sum(1 for e, _, _ in spy.batches if e == 1)
    assert plugin._draw == 1 + (iterations - 1) // 2  # drawn again every 2 iterations with the learner as it is
    exp1 = [(n, b) for e, n, b in spy.batches if e == 1]
    assert all(n == (3 if task_labels else 2) for n, _ in exp1)
    real = len(bm.train_stream[1].dataset)
    # replay_ratio None: one share per old experience, so as many replayed as real samples
    assert sum(len(b) for _, b in exp1) == 2 * real
    assert set(torch.cat([b for _, b in exp1]).tolist()) == set(old) | set(new)
    # the generator rehearses on real data plus its own unguided replays (not the guided ones)
    assert fed[1]["num_samples"] == real + len(old) * 3
    assert plugin.current_keys == experience_keys(bm.train_stream[1])  # guided toward these after training
    assert strategy.generator is plugin.generator


def test_replay_samples_are_guided_toward_the_last_experience_and_logged_unguided_beside():
    bm, strategy, _, _ = _run(False)
    plugin, gen = strategy.guide_plugin, strategy.generator
    old, new = bm.classes_per_experience
    labels = torch.tensor(old).repeat_interleave(2)
    a = plugin.replay_samples(strategy, labels, seed=4)
    assert torch.equal(a, plugin.replay_samples(strategy, labels, seed=4))
    want = gen.generate(labels, seed=4, guidance=NewClassGuidance(strategy.model.eval(), new, sorted(old + new)),
                        guidance_scale=1.0, sampler="ddim")
    torch.testing.assert_close(a, want)
    assert not torch.equal(a, gen.generate(labels, seed=4, sampler="ddim"))
    sampler = find_sampler(strategy)
    assert sampler.guided and sampler.plugin is plugin  # the drift metrics log the generator alone as _unguided
    assert all(p.requires_grad for p in strategy.model.parameters())


def test_a_multi_head_model_is_guided_through_the_current_tasks_head():
    """Class ids restart in each task (digits 0-3 as 2 tasks of {0, 1}): replays of task 0's pairs
    are guided by task 1's head (the current task), toward its classes, softmax over that head."""
    from .test_task_incremental import RecordingMTMLP, task_incremental_digits

    torch.manual_seed(0)
    bm = task_incremental_digits()
    model = RecordingMTMLP(input_size=64, hidden_size=16)
    strategy = GUIDE(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                     criterion=torch.nn.CrossEntropyLoss(),
                     generator=tiny_ddpm(num_classes=4, train_steps=2, num_inference_steps=2),
                     guide=dict(replay_per_class=2, guidance_scale=1.0, generator_steps=2),
                     train_mb_size=64, evaluator=EvaluationPlugin(loggers=[]))
    RecordingMTMLP.guidance_tasks.clear()
    for exp in bm.train_stream:
        strategy.train(exp)
    plugin = strategy.guide_plugin
    assert plugin.replay_y.tolist() == [0, 0, 1, 1]  # task 0's pairs
    assert RecordingMTMLP.guidance_tasks and all(t == [1] for t in RecordingMTMLP.guidance_tasks)
    g = plugin.guidance(strategy)
    assert g.columns.tolist() == g.targets.tolist() == plugin.labels.of_task(1) == [2, 3]


def test_bad_arguments_fail_before_training():
    gen = tiny_ddpm()
    for kw, match in [(dict(guidance_scale=-0.2), "guidance_scale"), (dict(regenerate_every=0), "regenerate_every"),
                      (dict(sampler="euler"), "sampler"), (dict(sampling_steps=0), "sampling_steps"),
                      (dict(replay_per_class=0), "replay_per_class"),
                      (dict(generator_replay_per_class=0), "generator_replay_per_class")]:
        with pytest.raises(ValueError, match=match):
            GUIDEPlugin(gen, **kw)
