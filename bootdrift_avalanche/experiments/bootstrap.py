"""A bootstrapping experiment in a run directory (what ``bootdrift bootstrap`` and the examples run):
the registered data and generator, sized by the preset, around ``bootstrap.loop.run_bootstrap``, with
the run's loggers, a checkpoint after every stage and resume.

Data: ``gmm`` (the paper's 5-mode 2-D mixture; training and held-out points as many as the preset's
``gmm_samples``), ``digits`` (all classes at once; 1,437 train / 360 test images), ``flowers102``
(64x64; needs the files, see ``benchmarks.flowers102``); text (``registry.TEXT_CORPORA``): ``pydoc``
(embedded), ``textfile`` (``cfg.text_file`` or ``cfg.text_dir``), ``wikitext`` (``cfg.data_root``),
as word-token chunks (``text.tokens``). Generators: ``wgan`` (points), ``ddpm`` and ``stylegan2``
(images), ``ngram`` and ``gpt2`` (text). Data with a drift suite of its own (``registry.DRIFT_SUITES``:
text) is scored by it, plus its model's held-out perplexity, and its word statistics' floor on the real
training text (``text.suite.FLOORED``). Metrics go to ``RUN_DIR/metrics.jsonl`` and
``RUN_DIR/tb`` with the stage as the step.

Regimes (``cfg.regime``, compositions in ``bootstrap.regimes``): for ``fresh`` the pool of new real
points comes from ``registry.FRESH_POOLS`` (gmm: drawn from its own seed stream, by default exactly
as many as the stages need; digits, flowers102: ``cfg.fresh_size`` training points set aside,
stratified, so D shrinks by as many). ``cfg.train_size`` (digits, flowers102) makes D a stratified
subset of that many training points, the same one in every regime (``registry.TRAIN_SUBSETS``; the
fresh pool lies outside it). The sampling-bias knobs are turned into ``generate`` keywords by
``registry.sampling_kwargs`` and applied at every stage: ``cfg.sampling_bias`` (``SAMPLING_BIAS``: wgan and
stylegan2 truncation, ddpm sampling steps, ngram and gpt2 temperature) and ``cfg.guidance_scale``
(``GUIDANCE``: ddpm classifier guidance by a classifier trained once on D).
"""
from __future__ import annotations

from .config import BootstrapConfig, as_record, preset, resolve


def run_bootstrap_experiment(cfg: BootstrapConfig, run_dir, *, resume: bool = False, on_stage=None,
                             stage0_from=None):
    """Run (or resume) the bootstrapping loop for ``cfg`` in ``run_dir``; returns the loop's result.
    ``on_stage(stage, x_syn, y_syn, values)`` is called after every stage (e.g. to keep samples).
    ``stage0_from``: the checkpoint file of stage 0 (``RUN/checkpoints/step_0000.pt``) of another run
    with the same data, generator, preset, sizes and seed, in any regime or sampling bias (stage 0
    trains on D alone); its generator is loaded instead of training stage 0 again. Only the tensors'
    shapes are checked (by ``load_state_dict``): the sameness of the rest is the caller's."""
    from ..bootstrap.loop import run_bootstrap
    from ..bootstrap.regimes import regime_class
    from ..runtime.seeds import seed_for
    from . import registry
    from .rundir import open_run

    cfg = resolve(cfg)
    p = preset(cfg.preset)
    # Data, pool and generator are checked before the run directory exists; the regime (e.g. a fresh
    # pool too small for the stages) is checked by the loop before any training, and a run that
    # fails before its first checkpoint leaves no directory behind (rundir.open_run).
    load_data = registry.bootstrap_data_loader(cfg.data)
    regime = regime_class(cfg.regime)
    train, test, extra = load_data(cfg)
    n_classes = int(max(train[1].max(), test[1].max())) + 1
    fresh_pool = None
    if cfg.train_size is not None and cfg.data not in registry.TRAIN_SUBSETS:
        raise ValueError(f"--train-size applies to {', '.join(registry.TRAIN_SUBSETS)}, not {cfg.data!r} "
                         "(the gmm toy's size is n_samples)")
    if regime.uses_fresh_pool:
        train, fresh_pool = registry.FRESH_POOLS[cfg.data](cfg, train)
    elif cfg.train_size is not None:
        train = registry.TRAIN_SUBSETS[cfg.data](cfg, train)
    make_suite = registry.DRIFT_SUITES.get(cfg.data)
    if make_suite is not None and cfg.features is not None:
        raise ValueError(f"--features does not apply to data {cfg.data!r}: its drift suite scores features of its own "
                         "(text: a fixed encoder trained on the real training text); leave --features out")
    if make_suite is not None and cfg.floor_n is not None:
        raise ValueError(f"--floor-n does not apply to data {cfg.data!r}: its drift suite's floor is always scored on "
                         "the real training text, at the synthetic set's n; leave --floor-n out")
    extractor_data = floor_set = None
    if cfg.floor_n is not None:
        from .bootstrap_splits import floor_split

        extractor_data, floor_set = floor_split(cfg, train)
    elif make_suite is not None:
        # the real training text: disjoint from the held-out reference, as many chunks of every topic as the
        # synthetic set; the floor of the suite's values without learned features (text.suite.FLOORED)
        floor_set = train
    make = registry.generator_factory(cfg, p, train[0], n_classes)
    bias = registry.sampling_kwargs(cfg, p, train, n_classes)
    stage0 = None if stage0_from is None else _stage0_generator(stage0_from)
    suite = None if make_suite is None else make_suite(cfg, p)
    with open_run(run_dir, as_record(cfg, "bootstrap"), resume=resume) as run:
        return run_bootstrap(
            lambda stage: make(seed_for("bootstrap.generator", seed=cfg.seed, stage=stage)), train, test,
            stages=cfg.stages, regime=cfg.regime, mix_real=cfg.mix_real, fresh_pool=fresh_pool,
            sample_kwargs=None if bias is None else (lambda stage: bias), continue_training=cfg.continue_training,
            features=cfg.features, loggers=run.loggers, seed=cfg.seed, real_acc_epochs=cfg.real_acc_epochs,
            real_acc_classifier=p.classifier_name(train[0].shape[1:]), extra_metrics=extra,
            progress=cfg.progress, on_stage=on_stage, checkpoint=run.checkpoint, resume_from=run.latest(),
            feature_cache_dir=str(run.cache_dir), stage0_generator=stage0, suite=suite,
            model_metrics=None if suite is None else suite.model_metrics(*test),
            floor_set=floor_set, extractor_data=extractor_data, intervals=cfg.intervals)


def _stage0_generator(path) -> dict:
    """The generator state in the stage-0 checkpoint ``path`` (checked: complete, and of stage 0)."""
    from pathlib import Path

    import torch

    from ..runtime.checkpoint import verify_checkpoint

    path = Path(path)
    ok, reason = verify_checkpoint(path)
    if not ok:
        raise ValueError(f"stage0_from={path}: not a usable checkpoint ({reason}); give a run's "
                         "checkpoints/step_0000.pt")
    obj = torch.load(path, map_location="cpu", weights_only=False)
    if int(obj["step"]) != 0 or "generator" not in obj["state"]:
        raise ValueError(f"stage0_from={path} is the checkpoint of stage {obj['step']}, not of stage 0 "
                         "(a bootstrapping run's checkpoints/step_0000.pt)")
    return obj["state"]["generator"]
