"""The registries of the experiment layer: strategies (one *recipe* each, ``experiments.recipe``),
replay benchmarks, and the data sets and generators of the bootstrapping loop. Every choice a config
names by string is looked up here and nowhere else, so adding a strategy is one recipe file plus its
line in ``_RECIPES``. The loop's data splits live in ``experiments.bootstrap_splits``, its guidance
classifier in ``experiments.loop_guidance``; the tables here name them.

Generators built here get ``threads=None``: inside an experiment the process-wide setting rules
(``runtime.threads.configure_threads``, called at start-up by the CLI and the bench scripts), so
``--threads`` reaches the generators' fit and sampling too.
"""
from __future__ import annotations

import functools
import importlib
from typing import Any, Callable, Mapping, Optional, Tuple

import torch

from .bootstrap_splits import gmm_fresh_pool, split_fresh_pool, split_subset
from .config import BootstrapConfig, Preset, ReplayConfig
from .config import preset as preset_of
from .loop_guidance import ddpm_guidance
from .recipe import BuildContext, Recipe  # noqa: F401  (BuildContext: what callers build recipes from)

#: Strategy name -> module under ``experiments.recipes`` holding its ``RECIPE`` (or
#: ``"module:NAME"``: a module holding several recipes, variants of one method). Registering a
#: strategy is adding its line here.
_RECIPES: Mapping[str, str] = {
    "ddgr": "ddgr",
    "dgr-ddpm": "ddgr:DGR_DDPM",
    "guide": "guide",
    "gan-memory": "gan_memory",
    "dgr-stylegan2": "dgr_stylegan2",
    "avalanche-gr": "avalanche_gr",
    "naive": "naive",
    "joint": "joint",
    "replay-buffer": "replay_buffer",
    "dgr-ddpm-anchored": "anchored_replay:DGR_DDPM_BOTH",
    "dgr-ddpm-anchored-select": "anchored_replay:DGR_DDPM_SELECT",
    "dgr-ddpm-anchored-moment": "anchored_replay:DGR_DDPM_MOMENT",
    "gan-memory-anchored": "anchored_replay:GAN_MEMORY",
}


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
                          encoder=preset.encoder_config(), seed=cfg.seed, intervals=cfg.intervals)


#: Bootstrapping data name -> ``cfg -> (train, test, extra_metrics)``.
DATA: Mapping[str, Callable] = {"gmm": _gmm_data, "digits": _digits_data, "flowers102": _flowers102_data,
                                **{name: _text_data for name in TEXT_CORPORA}}

#: Bootstrapping data name -> ``(cfg, preset) -> drift suite`` for data with a suite of its own (text);
#: the others get ``metrics.suite.DriftSuite`` on ``cfg.features``.
DRIFT_SUITES: Mapping[str, Callable] = {name: _text_suite for name in TEXT_CORPORA}


#: Bootstrapping data name -> ``(cfg, train) -> (D, fresh_pool)`` for the fresh regime
#: (``experiments.bootstrap_splits``).
FRESH_POOLS: Mapping[str, Callable] = {"gmm": gmm_fresh_pool, "digits": split_fresh_pool,
                                       "flowers102": split_fresh_pool,
                                       **{name: split_fresh_pool for name in TEXT_CORPORA}}

#: Bootstrapping data name -> ``(cfg, train) -> D``: a stratified subset of ``cfg.train_size`` points
#: (``--train-size``; the gmm toy sizes its data with ``n_samples`` instead).
TRAIN_SUBSETS: Mapping[str, Callable] = {"digits": split_subset, "flowers102": split_subset}


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
                                                         num_classes=n_classes, seed=seed, device=cfg.device,
                                                         threads=None, **over))


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


#: Bootstrapping generator name -> ``(cfg, preset, D, n_classes) -> generate keywords``: what
#: ``--guidance-scale`` sets (ddpm: a guidance classifier trained on D and the scale,
#: ``experiments.loop_guidance``).
GUIDANCE: Mapping[str, Callable[..., dict]] = {"ddpm": ddpm_guidance}


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
