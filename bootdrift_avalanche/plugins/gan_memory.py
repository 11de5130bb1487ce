"""GAN Memory as an Avalanche plugin: "GAN Memory with No Forgetting" (Cong, Zhao, Li, Wang, Carin,
NeurIPS 2020), on ``generators.gan_memory.GANMemoryGenerator``.

Per experience:

1. ``before_training_exp``: a replay set of ``replay_per_class`` images of every class of every
   **stored task** (all previous experiences), each drawn by its own task's modulation of the frozen
   base generator. Generated once per experience.
2. ``before_training_iteration``: replayed samples appended to every ``[x, y]`` / ``[x, y, t]``
   mini-batch (``replay_ratio`` x the batch size).
3. ``after_training_exp``: the generator memory learns the current experience as one new task from
   **real data only** (no bootstrapping: old tasks' modulations are frozen and never retrained); on
   the first experience the base GAN is trained on it and frozen (``source="first_experience"``).
   The parameter count of the new task's modulation is published as
   ``GANMemoryTaskParams/train_phase/train_stream`` (and the base's as ``GANMemoryBaseParams``).

Task-incremental streams: the memory learns generator labels, one per (task, class) pair
(``plugins.task_keys``), so class ids that restart in every task (``class_ids_from_zero_in_each_exp``)
are distinct classes to it; its ``num_classes`` must cover them, which is checked before the first
experience trains.
"""
from __future__ import annotations

from typing import Optional

from avalanche.evaluation.metric_results import MetricValue

from .replay import ReplaySetPlugin


class GANMemoryPlugin(ReplaySetPlugin):
    """Generative replay from a GAN Memory (see the module docstring).

    Args:
        generator: a ``GANMemoryGenerator`` (or any generator with ``fit(x, y, progress=)`` learning
            one task per call, ``generate(labels, seed=)``, ``task_ids`` and ``task_parameter_count``).
        replay_per_class: replayed images per old class, generated at the start of each experience.
        replay_ratio: replayed samples appended per real sample in each mini-batch (``None``: in
            proportion to the replay set's size, see ``ReplaySetPlugin``).
        progress: tqdm bars while the generator memory trains.
        seed: fixes replay generation and replay sampling.
    """

    generator_methods = ("generate", "fit", "task_ids", "task_parameter_count", "base_parameter_count")
    replay_seed_stream = "gan_memory.replay"

    def __init__(self, generator, *, replay_per_class: int = 20, replay_ratio: Optional[float] = 1.0,
                 progress: bool = False, seed: int = 0):
        super().__init__(generator, replay_per_class=replay_per_class, replay_ratio=replay_ratio, seed=seed)
        self.progress = progress

    def after_training_exp(self, strategy, **kwargs):
        x, y = self._generator_data(strategy.experience)
        first = not getattr(self.generator, "has_base", True)
        self.generator.fit(x, y, progress=self.progress)
        task = max(self.generator.task_ids)
        ev = getattr(strategy, "evaluator", None)
        if ev is not None:
            step = strategy.clock.train_iterations  # Avalanche's x_plot, as the drift metrics (plugins.drift)
            ev.publish_metric_value(MetricValue(self, "GANMemoryTaskParams/train_phase/train_stream",
                                                float(self.generator.task_parameter_count(task)), step))
            if first:
                ev.publish_metric_value(MetricValue(self, "GANMemoryBaseParams/train_phase/train_stream",
                                                    float(self.generator.base_parameter_count()), step))
