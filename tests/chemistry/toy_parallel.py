"""A test kind whose steps hand independent pieces to the run's executor (``map_work``).

It stands in for SeRANN evolution (a generation's architecture groups): each step draws one
seed per group from the model's numpy stream, then each group moves on its own generator
wherever it runs, so the run is the same in-process, in a process pool or on Dask.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from neurosoup.chemistry.model_kinds import KINDS, Layout, ModelBase, Series, register_kind


@dataclass(frozen=True)
class GroupsConfig:
    groups: int = 3
    size: int = 4
    steps: int = 6
    snapshot_every: int = 2
    checkpoint_every: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupsConfig:
        return cls(**data)

    def replace(self, **changes: Any) -> GroupsConfig:
        return GroupsConfig(**{**self.to_dict(), **changes})


def move_group(item: tuple[int, np.ndarray]) -> np.ndarray:
    """One independent piece of work: a group's walk step on its own generator."""
    seed, x = item
    gen = torch.Generator().manual_seed(seed)
    return x + torch.randn(x.shape, generator=gen, dtype=torch.float64).numpy()


class Groups(ModelBase):
    kind = "groups"
    unit = "generation"
    uses_executor = True

    def __init__(self, config: GroupsConfig, seed: int = 0, device=None, *, scenario=None):
        super().__init__(config, seed, device, scenario=scenario)
        self.x = np.zeros(config.groups * config.size)
        self._observe()

    def step(self) -> None:
        seeds = self.rngs.numpy.integers(0, 2**62, size=self.config.groups)
        parts = np.split(self.x, self.config.groups)
        moved = self.map_work(move_group, [(int(s), p) for s, p in zip(seeds, parts,
                                                                        strict=True)])
        self.x = np.concatenate(moved)
        self._observe()

    def _observe(self) -> None:
        self.observables = {"mean": float(self.x.mean())}

    def layout(self) -> Layout:
        return Layout({"mean": ()}, (Series("groups/x", np.float64, self.x.shape),))

    def step_records(self) -> dict[str, Any]:
        return {}

    def snapshot(self) -> dict[str, np.ndarray]:
        return {"groups/x": self.x.copy()}

    def state(self) -> dict[str, Any]:
        return {"step": int(self.steps), "x": self.x.copy(), "rng": self.rngs.state(),
                "observables": json.dumps(self.observables)}

    def restore(self, state: dict[str, Any]) -> None:
        self.steps = int(state["step"])
        self.x = np.asarray(state["x"]).copy()
        self.rngs.restore(state["rng"])
        self._observe()


if "groups" not in KINDS:
    register_kind("groups", GroupsConfig, Groups)
