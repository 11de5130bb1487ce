"""A user's own script with Avalanche's two checkpoint lines: Naive + DDGRPlugin + drift metrics on
Split Digits (3 experiences, tiny sizes). ``python avalanche_resume_script.py CKPT OUT [KILL_AFTER]``
trains from the checkpoint ``CKPT`` (if any), saves it after every experience, SIGKILLs itself after
experience ``KILL_AFTER``, and writes the last metric values to ``OUT`` (JSON)."""
import json
import os
import signal
import sys

import torch
from avalanche.checkpointing import maybe_load_checkpoint, save_checkpoint
from avalanche.evaluation.metrics import accuracy_metrics
from avalanche.models import SimpleMLP
from avalanche.training.determinism.rng_manager import RNGManager
from avalanche.training.plugins import EvaluationPlugin
from avalanche.training.supervised import Naive

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import DDGRPlugin, drift_metrics

torch.set_num_threads(1)
ckpt, out = sys.argv[1], sys.argv[2]
kill_after = int(sys.argv[3]) if len(sys.argv) > 3 else None

RNGManager.set_random_seeds(0)
bm = split_digits(n_experiences=3)
model = SimpleMLP(num_classes=10, input_size=64, hidden_size=32)
ddpm = DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, train_steps=20))
evaluator = EvaluationPlugin(accuracy_metrics(experience=True, stream=True),
                             *drift_metrics(reference_stream=bm.test_stream, n_per_class=8, features="random",
                                            suite=SuiteConfig(real_acc_epochs=2, samples=False)),
                             loggers=[])
strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                 criterion=torch.nn.CrossEntropyLoss(), train_mb_size=32, train_epochs=1,
                 plugins=[DDGRPlugin(ddpm, replay_per_class=4, seed=0)], evaluator=evaluator)

strategy, start = maybe_load_checkpoint(strategy, ckpt)
for exp in bm.train_stream[start:]:
    strategy.train(exp)
    strategy.eval(bm.test_stream)
    save_checkpoint(strategy, ckpt)
    if kill_after == exp.current_experience:
        os.kill(os.getpid(), signal.SIGKILL)

last = strategy.evaluator.get_last_metrics()
values = {k: float(v) for k, v in last.items() if isinstance(v, (int, float))}
values["train_iterations"] = strategy.clock.train_iterations
with open(out, "w") as f:
    json.dump(values, f, indent=1, sort_keys=True)
