"""Process-level plumbing shared by every layer: collectives (``distributed``), the one atomic
writer and checkpoints (``checkpoint``), the one CPU thread setting (``threads``) and named seed
streams (``seeds``). Torch only: nothing here imports Avalanche."""
