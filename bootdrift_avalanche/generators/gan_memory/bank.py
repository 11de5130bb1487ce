"""``ModulationBank``: GAN Memory's memory, one frozen generator modulation per task, whose
``state_dict`` holds only modulation parameters and loads into a fresh bank. See docs/GAN_MEMORY.md.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List

import torch
from torch import Tensor, nn

from .modulated_layers import StyleParams
from .task_modulation import GeneratorModulation

_TASK_KEY = re.compile(r"^tasks\.([^.]+)\.(.+)$")


class ModulationBank(nn.Module):
    """The generator memory: one ``GeneratorModulation`` per task, keyed by task id.

    ``state_dict()`` holds only modulation parameters (plus each task's classes and trained flag,
    and a signature of the base it was trained on). ``load_state_dict`` into an empty or partial
    bank re-creates the missing tasks from the keys, then re-freezes the trained ones.
    """

    def __init__(self):
        super().__init__()
        self.tasks = nn.ModuleDict()
        # [Σ W, Σ W²] in float64 over the frozen base generator: a loaded bank checks it was trained
        # on the same base (modulations of a different base would produce garbage silently).
        self.register_buffer("base_signature", torch.zeros(2, dtype=torch.float64))
        self.register_load_state_dict_post_hook(ModulationBank._after_load)

    # -- tasks ---------------------------------------------------------------------------------
    @staticmethod
    def key(task_id: int) -> str:
        return str(int(task_id))

    def task_ids(self) -> List[int]:
        return [int(k) for k in self.tasks.keys()]

    def __contains__(self, task_id: int) -> bool:
        return self.key(task_id) in self.tasks

    def get(self, task_id: int) -> GeneratorModulation:
        k = self.key(task_id)
        if k not in self.tasks:
            raise KeyError(f"no task {task_id} in the GAN memory (tasks: {self.task_ids()})")
        return self.tasks[k]

    def add(self, task_id: int, mod: GeneratorModulation) -> None:
        if task_id in self:
            raise ValueError(f"task {task_id} already exists in the GAN memory")
        owners = self.class_owners()
        taken = sorted(c for c in mod.classes.tolist() if c in owners)
        if taken:
            raise ValueError(
                f"classes {taken} already belong to task(s) {sorted({owners[c] for c in taken})}: GAN "
                "Memory learns each class in one task (class-incremental); use new class ids"
            )
        self.tasks[self.key(task_id)] = mod

    def class_owners(self) -> Dict[int, int]:
        """Global class id → task id, for every class in the memory."""
        return {c: int(k) for k, m in self.tasks.items() for c in m.classes.tolist()}

    def freeze(self, task_id: int) -> None:
        """Mark a task trained and stop its gradients for good: old tasks never change."""
        mod = self.get(task_id)
        mod.trained.fill_(True)
        for p in mod.parameters():
            p.requires_grad_(False)

    # -- loading into a fresh bank ---------------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Re-create the tasks named in the state dict before the children load into them (the
        # recursive loader visits ``self.tasks`` after this call), so a bank round-trips through
        # a fresh object.
        found: Dict[str, Dict[str, Tensor]] = {}
        for full_key, value in state_dict.items():
            if not full_key.startswith(prefix):
                continue
            m = _TASK_KEY.match(full_key[len(prefix):])
            if m:
                found.setdefault(m.group(1), {})[m.group(2)] = value
        for tkey, entries in found.items():
            if tkey in self.tasks:
                continue
            try:
                styles: Dict[str, StyleParams] = {}
                for sub, value in entries.items():
                    parts = sub.split(".")
                    if parts[0] == "styles" and len(parts) == 3:
                        styles.setdefault(parts[1], {})[parts[2]] = value
                built = {
                    name: StyleParams(torch.empty_like(d["gamma"]), torch.empty_like(d["beta"]),
                                      torch.empty_like(d["bias"]))
                    for name, d in styles.items()
                }
                mod = GeneratorModulation(built, torch.empty_like(entries["class_bias"]), entries["classes"])
            except KeyError as e:
                error_msgs.append(f"bank task {tkey!r} is incomplete in the state dict (missing {e})")
                continue
            self.tasks[tkey] = mod.to(self.base_signature.device)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    @staticmethod
    def _after_load(module: "ModulationBank", incompatible) -> None:
        owners: Dict[int, int] = {}
        for k, mod in module.tasks.items():
            for c in mod.classes.tolist():
                if c in owners:
                    raise ValueError(f"loaded bank assigns class {c} to tasks {owners[c]} and {k}")
                owners[c] = int(k)
            if bool(mod.trained):
                for p in mod.parameters():
                    p.requires_grad_(False)


def base_signature(params: Iterable[Tensor]) -> Tensor:
    """[Σ W, Σ W²] in float64 over ``params``: a cheap fingerprint of a frozen base."""
    s = torch.zeros(2, dtype=torch.float64)
    for p in params:
        p64 = p.detach().double().cpu()
        s[0] += p64.sum()
        s[1] += (p64 * p64).sum()
    return s
