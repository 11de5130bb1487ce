"""The registries of the experiment layer: strategies (one *recipe* each), replay benchmarks, and the
data sets and generators of the bootstrapping loop. Every choice a config names by string is looked
up here and nowhere else, so adding a strategy is one recipe file plus its line in ``_RECIPES``.

Generators built here get ``threads=None``: inside an experiment the process-wide setting rules
(``runtime.threads.configure_threads``, called at start-up by the CLI and the bench scripts), so
``--threads`` reaches the generators' fit and sampling too.

A :class:`Recipe` knows, for one strategy, how to build its generator and Avalanche strategy,
whether it needs ``[x, y, t]`` mini-batches, whether there is a generator for the drift metrics to
score, and how to save and restore its state for resume. The default state covers what every
Avalanche template has (model, optimizer, clock) plus every plugin with ``state_dict`` (our replay
plugins); recipes add what is theirs.
"""
from __future__ import annotations

import abc
import functools
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import torch

from .config import BootstrapConfig, Preset, ReplayConfig
from .config import preset as preset_of

#: Strategy name -> module under ``experiments.recipes`` holding its ``RECIPE`` (or
#: ``"module:NAME"``: a module holding several recipes, variants of one method). Registering a
#: strategy is adding its line here.
_RECIPES: Mapping[str, str] = {
    "ddgr": "ddgr",
    "dgr-ddpm": "ddgr:DGR_DDPM",
    "gan-memory": "gan_memory",
    "dgr-stylegan2": "dgr_stylegan2",
    "avalanche-gr": "avalanche_gr",
    "naive": "naive",
    "joint": "joint",
    "replay-buffer": "replay_buffer",
    "ddgr-anchored": "anchored_replay:DDGR_BOTH",
    "ddgr-anchored-select": "anchored_replay:DDGR_SELECT",
    "ddgr-anchored-moment": "anchored_replay:DDGR_MOMENT",
    "gan-memory-anchored": "anchored_replay:GAN_MEMORY",
}


@dataclass
class BuildContext:
    """What a recipe gets to build its strategy from."""

    cfg: ReplayConfig  # resolved (no None sizes)
    preset: Preset
    benchmark: Any  # the Avalanche benchmark (train_stream, test_stream, image_shape, n_classes)
    model: torch.nn.Module  # the solver
    evaluator: Any  # Avalanche EvaluationPlugin with the loggers and drift metrics

    def template_kwargs(self) -> Dict[str, Any]:
        """Optimizer, criterion and the keyword arguments every Avalanche template takes."""
        cfg = self.cfg
        return dict(model=self.model, optimizer=torch.optim.Adam(self.model.parameters(), lr=cfg.lr),
                    criterion=torch.nn.CrossEntropyLoss(), train_mb_size=cfg.batch_size,
                    train_epochs=cfg.epochs, eval_mb_size=256, device=cfg.device, evaluator=self.evaluator)


class Recipe(abc.ABC):
    """How to run one strategy (see the module docstring). Subclasses implement ``build``; the
    strategy's name is its key in ``_RECIPES``."""

    task_labels: bool = False  # needs [x, y, t] mini-batches
    has_generator: bool = False  # there is a generator for the drift metrics to score
    #: The recipe's own settings and their chosen values (``bench/replay_tuning.py``); an instance
    #: built with keyword arguments overrides some (how the tuning bench builds its trials).
    SETTINGS: Mapping[str, Any] = {}

    def __init__(self, **settings):
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            raise ValueError(f"unknown {type(self).__name__} setting(s) {unknown}; known: {sorted(self.SETTINGS)}")
        self.settings = {**self.SETTINGS, **settings}

    def describe(self, cfg: ReplayConfig, preset: Preset) -> Dict[str, Any]:
        """What this recipe adds to ``cfg``, as built: its settings (bench tables print it)."""
        return dict(self.settings)

    def guidance_scale(self, given: Optional[float]) -> Optional[float]:
        """The classifier-guidance scale of a run given ``given`` (``ReplayConfig.guidance_scale``;
        ``None``: not set). A strategy without guidance takes none and refuses a value."""
        if given is not None:
            raise ValueError(f"--guidance-scale is a setting of the strategies with classifier guidance "
                             f"({', '.join(guided_strategy_names())}), not of this one")
        return None

    @abc.abstractmethod
    def build(self, ctx: BuildContext):
        """The Avalanche strategy, ready to ``train`` experience by experience."""

    def generator(self, strategy) -> Optional[torch.nn.Module]:
        """The strategy's generator (ranks must agree on it under torchrun), ``None`` without one."""
        return getattr(strategy, "generator", None) if self.has_generator else None

    def state_dict(self, strategy) -> Dict[str, Any]:
        """Everything needed to continue after the current experience."""
        return {"model": strategy.model.state_dict(), "optimizer": strategy.optimizer.state_dict(),
                "clock": dict(vars(strategy.clock)),
                "plugins": [p.state_dict() if callable(getattr(p, "state_dict", None)) else None
                            for p in strategy.plugins]}

    def load_state_dict(self, strategy, state: Dict[str, Any], ctx: BuildContext, done: int) -> None:
        """Restore :meth:`state_dict` into a freshly built strategy; ``done`` experiences are trained."""
        strategy.model.load_state_dict(state["model"])
        # Avalanche resets the optimizer state on a strategy's first training experience (when it has
        # no `optimized_param_id` yet); mark the parameters as known so the restored Adam moments stay.
        strategy.optimized_param_id = dict(strategy.model.named_parameters())
        strategy.optimizer.load_state_dict(state["optimizer"])
        for k, v in state["clock"].items():
            setattr(strategy.clock, k, v)
        for plugin, s in zip(strategy.plugins, state["plugins"]):
            if s is not None:
                plugin.load_state_dict(s)


class PluginRecipe(Recipe):
    """A recipe whose strategy is Avalanche's ``SupervisedTemplate`` with one replay plugin (built
    by :meth:`plugin`), whose generator is the one the drift metrics score."""

    has_generator = True

    @abc.abstractmethod
    def plugin(self, ctx: BuildContext):
        """The replay plugin, its generator sized for ``ctx``."""

    def build(self, ctx: BuildContext):
        from avalanche.training.templates import SupervisedTemplate

        return SupervisedTemplate(plugins=[self.plugin(ctx)], **ctx.template_kwargs())

    def generator(self, strategy):
        return strategy.plugins[0].generator


def strategy_names() -> Tuple[str, ...]:
    return tuple(_RECIPES)


def guided_strategy_names() -> Tuple[str, ...]:
    """The strategies whose recipe takes a classifier-guidance scale."""
    return tuple(n for n in _RECIPES if type(recipe(n)).guidance_scale is not Recipe.guidance_scale)


def recipe(name: str) -> Recipe:
    """The registered recipe of strategy ``name``."""
    if name not in _RECIPES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(_RECIPES)}")
    module, _, attr = _RECIPES[name].partition(":")
    return getattr(importlib.import_module(f".recipes.{module}", __package__), attr or "RECIPE")


# ---- replay benchmarks --------------------------------------------------------------------------
def _digits(cfg: ReplayConfig, task_labels: bool):
    from ..benchmarks import split_digits

    return split_digits(cfg.experiences, seed=cfg.seed, image_size=cfg.image_size or 8, task_labels=task_labels)


def _digits_validation(cfg: ReplayConfig, task_labels: bool):
    """Split Digits for tuning: the train split alone, divided again (stratified, the same division
    for every seed) into 80 % training and 20 % validation images (the test stream); the test split
    is never read."""
    from ..benchmarks.digits import load_digits_validation
    from ..benchmarks.split import tensors_class_incremental

    size = cfg.image_size or 8
    x_tr, y_tr, x_va, y_va = load_digits_validation(image_size=size)
    bm = tensors_class_incremental(x_tr, y_tr, x_va, y_va, n_experiences=cfg.experiences, seed=cfg.seed,
                                   task_labels=task_labels)
    bm.image_shape = (1, size, size)
    return bm


def _cifar100(cfg: ReplayConfig, task_labels: bool):
    from ..benchmarks import split_cifar100

    # Avalanche's SplitCIFAR100 always yields [x, y, t] mini-batches.
    return split_cifar100(cfg.experiences, dataset_root=cfg.data_root, download=cfg.download,
                          image_size=cfg.image_size or 32, seed=cfg.seed)


def _flowers102(cfg: ReplayConfig, task_labels: bool):
    from ..benchmarks import split_flowers102

    return split_flowers102(cfg.experiences, dataset_root=cfg.data_root, download=cfg.download,
                            image_size=cfg.image_size or 64, seed=cfg.seed, task_labels=task_labels)


BENCHMARKS: Mapping[str, Callable[[ReplayConfig, bool], Any]] = {
    "digits": _digits, "digits-val": _digits_validation, "cifar100": _cifar100, "flowers102": _flowers102,
}


def benchmark_builder(name: str) -> Callable[[ReplayConfig, bool], Any]:
    """``build(cfg, task_labels) -> benchmark`` for the registered benchmark ``name``."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


# ---- bootstrapping: data and generators -----------------------------------------------------------
def _gmm_data(cfg: BootstrapConfig):
    from ..benchmarks.gmm import GMMSpec, gmm_samples
    from ..metrics.modes import mode_metrics
    from ..runtime.seeds import seed_for

    spec = GMMSpec()
    train = gmm_samples(cfg.n_samples, spec=spec, seed=seed_for("gmm.train", seed=cfg.seed))
    test = gmm_samples(cfg.n_samples, spec=spec, seed=seed_for("gmm.test", seed=cfg.seed))

    def extra(x, y):  # the toy's own quality measures: modes found, samples near a mode
        m = mode_metrics(x, spec.centers(), spec.std, labels=y)
        return {"ModesCovered": float(m["modes_covered"]), "HighQuality": float(m["high_quality_fraction"]),
                **({"LabelAgreement": float(m["label_agreement"])} if "label_agreement" in m else {})}

    return train, test, extra


def _digits_data(cfg: BootstrapConfig):
    from ..benchmarks.digits import load_digits_tensors

    x_tr, y_tr, x_te, y_te = load_digits_tensors()
    return (x_tr, y_tr), (x_te, y_te), None


def _flowers102_data(cfg: BootstrapConfig):
    from ..benchmarks.flowers102 import load_flowers102

    train, ytr, test, yte = load_flowers102(cfg.data_root, download=cfg.download, image_size=64)

    def stack(ds):
        return torch.stack([ds[i][0] for i in range(len(ds))])

    return (stack(train), torch.tensor(ytr)), (stack(test), torch.tensor(yte)), None


def _textfile_corpus(cfg: BootstrapConfig):
    from ..text.corpus import text_dir_corpus, text_file_corpus

    if (cfg.text_file is None) == (cfg.text_dir is None):
        raise ValueError("data 'textfile' reads one plain text file or one folder of .txt files: give exactly one "
                         f"of --text-file and --text-dir (got text_file={cfg.text_file!r}, text_dir={cfg.text_dir!r})")
    return text_file_corpus(cfg.text_file) if cfg.text_file is not None else text_dir_corpus(cfg.text_dir)


def _wikitext_corpus(cfg: BootstrapConfig):
    from ..text.corpus import wikitext_corpus

    if cfg.data_root is None:
        raise ValueError("data 'wikitext' needs --data-root: the folder with wiki.train.raw, wiki.valid.raw, "
                         "wiki.test.raw")
    return wikitext_corpus(cfg.data_root)


def _pydoc_corpus(cfg: BootstrapConfig):
    from ..text.corpus import pydoc_corpus

    return pydoc_corpus()


#: Text data name -> ``cfg -> text.corpus.TopicCorpus`` (the language-model loop; tokenized by
#: ``tokenized_text``, scored by ``text.suite.TextDriftSuite``).
TEXT_CORPORA: Mapping[str, Callable] = {"pydoc": _pydoc_corpus, "textfile": _textfile_corpus,
                                        "wikitext": _wikitext_corpus}


@functools.lru_cache(maxsize=4)
def tokenized_text(cfg: BootstrapConfig):
    """The ``text.tokens.TokenizedText`` of text data ``cfg.data`` in chunks of the preset's length
    (cached: the data loader, the generator factory and the drift suite all read it)."""
    from ..text.tokens import tokenize_corpus

    return tokenize_corpus(TEXT_CORPORA[cfg.data](cfg), preset_of(cfg.preset).text["chunk_len"])


def _text_data(cfg: BootstrapConfig):
    t = tokenized_text(cfg)
    return (t.x_train, t.y_train), (t.x_test, t.y_test), None


def _text_suite(cfg: BootstrapConfig, preset: Preset):
    from ..text.suite import TextDriftSuite

    t = tokenized_text(cfg)
    return TextDriftSuite(t.x_train, t.y_train, t.vocab_size, len(t.topics), decode=t.decode, topics=t.topics,
                          encoder=preset.encoder_config(), seed=cfg.seed)


#: Bootstrapping data name -> ``cfg -> (train, test, extra_metrics)``.
DATA: Mapping[str, Callable] = {"gmm": _gmm_data, "digits": _digits_data, "flowers102": _flowers102_data,
                                **{name: _text_data for name in TEXT_CORPORA}}

#: Bootstrapping data name -> ``(cfg, preset) -> drift suite`` for data with a suite of its own (text);
#: the others get ``metrics.suite.DriftSuite`` on ``cfg.features``.
DRIFT_SUITES: Mapping[str, Callable] = {name: _text_suite for name in TEXT_CORPORA}


def _gmm_fresh_pool(cfg: BootstrapConfig, train):
    """New toy points from their own seed stream (disjoint from train and test with probability 1):
    ``cfg.fresh_size`` of them, by default exactly what the stages need."""
    from ..benchmarks.gmm import GMMSpec, gmm_samples
    from ..bootstrap.regimes import real_counts
    from ..runtime.seeds import seed_for

    spec = GMMSpec()
    need = max(real_counts(train[1], cfg.mix_real).values()) * max(cfg.stages - 1, 0)
    size = cfg.fresh_size if cfg.fresh_size is not None else max(spec.n_modes, spec.n_modes * need)
    pool = gmm_samples(size, spec=spec, seed=seed_for("gmm.fresh", seed=cfg.seed))
    return train, pool


def _stratified_order(cfg: BootstrapConfig, y):
    """The training split's indices in a fixed order in which every prefix (and every suffix) holds
    about the same fraction of every class: the fresh pool is a prefix, D a suffix. The order is the
    same for every run seed (``benchmarks.split.SPLIT_SEED``): D and the pool are a split of the data."""
    from ..benchmarks.split import SPLIT_SEED
    from ..runtime.seeds import seed_for

    g = torch.Generator().manual_seed(seed_for("bootstrap.fresh_split", seed=SPLIT_SEED))
    perm = torch.randperm(len(y), generator=g)
    # Rank of every point within its class in the random order, over the class size: taking the
    # smallest keys takes about the same fraction of every class.
    key = torch.empty(len(y))
    for c in torch.unique(y).tolist():
        idx = perm[y[perm] == c]
        key[idx] = (torch.arange(len(idx)) + 0.5) / len(idx)
    return torch.argsort(key, stable=True)


def _d_size(cfg: BootstrapConfig, n: int, reserved: int) -> int:
    """The number of points in D: ``cfg.train_size`` (checked against the ``n - reserved`` points
    left after the fresh pool), or all of them."""
    if cfg.train_size is None:
        return n - reserved
    if not 0 < cfg.train_size <= n - reserved:
        what = f"{n} training points" + (f" less the {reserved} of the fresh pool" if reserved else "")
        raise ValueError(f"--train-size {cfg.train_size} does not fit the {what} of {cfg.data!r}: give --train-size "
                         f"between 1 and {n - reserved}")
    return cfg.train_size


def _split_fresh_pool(cfg: BootstrapConfig, train):
    """``cfg.fresh_size`` training points set aside (stratified by class, the same for every seed) as the fresh pool;
    D is the rest, or (``cfg.train_size``) that many of the rest: the same D as ``_split_subset``
    builds for the other regimes, so every regime starts from the same stage 0."""
    x, y = train
    if cfg.fresh_size is None or not 0 < cfg.fresh_size < len(y):
        raise ValueError(f"the fresh regime on {cfg.data!r} takes its pool out of the {len(y)} training points: "
                         f"give --fresh-size between 1 and {len(y) - 1} (got {cfg.fresh_size})")
    order = _stratified_order(cfg, y)
    keep = order[len(y) - _d_size(cfg, len(y), cfg.fresh_size):].sort().values
    pool = order[:cfg.fresh_size]
    return (x[keep], y[keep]), (x[pool], y[pool])


def _split_subset(cfg: BootstrapConfig, train):
    """D = ``cfg.train_size`` training points, stratified by class (the last ones of the fixed
    order, so the fresh pool of ``_split_fresh_pool`` lies outside it)."""
    x, y = train
    keep = _stratified_order(cfg, y)[len(y) - _d_size(cfg, len(y), 0):].sort().values
    return x[keep], y[keep]


#: Bootstrapping data name -> ``(cfg, train) -> (D, fresh_pool)`` for the fresh regime.
FRESH_POOLS: Mapping[str, Callable] = {"gmm": _gmm_fresh_pool, "digits": _split_fresh_pool,
                                       "flowers102": _split_fresh_pool, **{name: _split_fresh_pool for name in TEXT_CORPORA}}

#: Bootstrapping data name -> ``(cfg, train) -> D``: a stratified subset of ``cfg.train_size`` points
#: (``--train-size``; the gmm toy sizes its data with ``n_samples`` instead).
TRAIN_SUBSETS: Mapping[str, Callable] = {"digits": _split_subset, "flowers102": _split_subset}


def bootstrap_data_loader(name: str) -> Callable:
    """``load(cfg) -> (train, test, extra_metrics)`` for the registered data set ``name``; train and
    test are ``(x, y)`` tensors."""
    if name not in DATA:
        raise ValueError(f"unknown data {name!r}; choose one of {', '.join(DATA)}")
    return DATA[name]


def _wgan_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    if x_train.dim() != 2 or not x_train.is_floating_point():
        raise ValueError("the wgan generator models points (data gmm); use --generator ddpm for images")
    from ..generators.wgan import WGANGenerator

    over = {"train_steps": cfg.generator_steps} if cfg.generator_steps else {}
    return lambda seed: WGANGenerator(preset.wgan_config(dim=x_train.shape[1], num_classes=n_classes,
                                                         seed=seed, device=cfg.device, threads=None, **over))


def _ddpm_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    if x_train.dim() != 4:
        raise ValueError("the ddpm generator models images; use --generator wgan for the gmm data")
    from ..generators.ddpm import DDPMGenerator

    over = {"train_steps": cfg.generator_steps} if cfg.generator_steps else {}
    return lambda seed: DDPMGenerator(preset.ddpm_config(image_shape=tuple(x_train.shape[1:]),
                                                         num_classes=n_classes, seed=seed, device=cfg.device, threads=None,
                                                         **over))


def _stylegan2_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    if x_train.dim() != 4:
        raise ValueError("the stylegan2 generator models images; use --generator wgan for the gmm data")
    from ..generators.stylegan2 import StyleGAN2Generator

    over = {"train_steps": cfg.generator_steps} if cfg.generator_steps else {}
    return lambda seed: StyleGAN2Generator(preset.stylegan2_config(image_shape=tuple(x_train.shape[1:]),
                                                                   num_classes=n_classes, seed=seed,
                                                                   device=cfg.device, threads=None, **over))


def _text_vocab(cfg: BootstrapConfig, generator: str) -> int:
    if cfg.data not in TEXT_CORPORA:
        raise ValueError(f"the {generator} generator models text; use --data {' or '.join(TEXT_CORPORA)}")
    return tokenized_text(cfg).vocab_size


def _ngram_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    from ..text.ngram import NGramGenerator

    vocab = _text_vocab(cfg, "ngram")
    over = {"order": cfg.ngram_order} if cfg.ngram_order else {}
    return lambda seed: NGramGenerator(preset.ngram_config(vocab_size=vocab, num_topics=n_classes, **over))


def _gpt2_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    from ..text.gpt2 import GPT2TextGenerator

    vocab = _text_vocab(cfg, "gpt2")
    over = {"train_steps": cfg.generator_steps} if cfg.generator_steps else {}
    return lambda seed: GPT2TextGenerator(preset.gpt2_config(vocab_size=vocab, num_topics=n_classes, seed=seed,
                                                             device=cfg.device, **over))


#: Bootstrapping generator name -> ``(cfg, preset, x_train, n_classes) -> (seed -> generator)``.
GENERATORS: Mapping[str, Callable] = {"wgan": _wgan_factory, "ddpm": _ddpm_factory,
                                      "stylegan2": _stylegan2_factory, "ngram": _ngram_factory,
                                      "gpt2": _gpt2_factory}

#: Bootstrapping generator name -> ``value -> generate keywords``: what ``--sampling-bias`` sets
#: (wgan, stylegan2: latent truncation psi in [0, 1]; ddpm: the number of sampling steps; ngram,
#: gpt2: temperature).
SAMPLING_BIAS: Mapping[str, Callable[[float], dict]] = {
    "wgan": lambda v: {"truncation": float(v)},
    "stylegan2": lambda v: {"truncation": float(v)},
    "ddpm": lambda v: {"num_inference_steps": int(v)},
    "ngram": lambda v: {"temperature": float(v)},
    "gpt2": lambda v: {"temperature": float(v)},
}


def _ddpm_guidance(cfg: BootstrapConfig, preset: Preset, train, n_classes: int) -> dict:
    """Classifier guidance for the loop's DDPM: a classifier of the preset's architecture for the
    image size (SmallCNN on digits), trained once, on D (the stage-0 real training set; never on the
    held-out data the drift is scored on) for the preset's RealAcc epochs from its own seed stream,
    so it is not the drift's feature extractor. Rebuilt identically on resume."""
    from ..nets import build_classifier, train_classifier
    from ..runtime.seeds import seed_for

    x, y = train
    with torch.random.fork_rng(devices=[]):  # built without moving the run's RNG (training redraws the weights)
        clf = build_classifier(preset.classifier_name(x.shape[1:]), x.shape[1:], n_classes).to(cfg.device)
    train_classifier(clf, x, y, epochs=cfg.real_acc_epochs, seed=seed_for("bootstrap.guidance", seed=cfg.seed))
    return {"guidance": clf.requires_grad_(False), "guidance_scale": float(cfg.guidance_scale)}


#: Bootstrapping generator name -> ``(cfg, preset, D, n_classes) -> generate keywords``: what
#: ``--guidance-scale`` sets (ddpm: a guidance classifier trained on D and the scale).
GUIDANCE: Mapping[str, Callable[..., dict]] = {"ddpm": _ddpm_guidance}


def sampling_kwargs(cfg: BootstrapConfig, preset: Preset, train, n_classes: int) -> Optional[dict]:
    """The ``generate`` keywords of ``cfg``'s sampling-bias knobs (``--sampling-bias``,
    ``--guidance-scale``), the same at every stage; ``None`` when neither is set."""
    kw = {}
    if cfg.sampling_bias is not None:
        kw.update(SAMPLING_BIAS[cfg.generator](cfg.sampling_bias))
    if cfg.guidance_scale is not None:
        if cfg.generator not in GUIDANCE:
            raise ValueError(f"--guidance-scale is a knob of the {', '.join(GUIDANCE)} generator(s), not "
                             f"{cfg.generator!r}; use --sampling-bias (e.g. truncation psi) instead")
        kw.update(GUIDANCE[cfg.generator](cfg, preset, train, n_classes))
    return kw or None


def generator_factory(cfg: BootstrapConfig, preset: Preset, x_train, n_classes: int):
    """``make(seed) -> a fresh generator`` of kind ``cfg.generator`` sized by ``preset``."""
    if cfg.generator not in GENERATORS:
        raise ValueError(f"unknown generator {cfg.generator!r}; choose one of {', '.join(GENERATORS)}")
    return GENERATORS[cfg.generator](cfg, preset, x_train, n_classes)
