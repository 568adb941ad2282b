"""A minimal model kind for tests: a batched random walk (the protocol in a few lines)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from neurosoup.chemistry.model_kinds import KINDS, Layout, ModelBase, Series, Table, register_kind


@dataclass(frozen=True)
class WalkConfig:
    n: int = 3
    steps: int = 10
    snapshot_every: int = 2
    checkpoint_every: int = 3
    sleep: float = 0.0  # seconds per step, so a test can kill a run in the middle

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WalkConfig:
        return cls(**data)

    def replace(self, **changes: Any) -> WalkConfig:
        return WalkConfig(**{**self.to_dict(), **changes})


class Walk(ModelBase):
    kind = "walk"
    unit = "stride"

    def __init__(self, config: WalkConfig, seed: int = 0, device=None, *, scenario=None):
        super().__init__(config, seed, device, scenario=scenario)
        self.x = torch.zeros(config.n, dtype=torch.float64)
        self._observe()

    def step(self) -> None:
        self.x = self.x + torch.randn(self.config.n, generator=self.rngs.torch,
                                      dtype=torch.float64)
        time.sleep(self.config.sleep)
        self._observe()

    def _observe(self) -> None:
        self.observables = {"mean": float(self.x.mean()), "spread": self.x.numpy().copy()}

    def layout(self) -> Layout:
        return Layout({"mean": (), "spread": (self.config.n,)},
                      (Series("walk/x", np.float64, (self.config.n,)),),
                      (Table("walk/crossings", (("step", np.int64), ("walker", np.int64)),
                             "step"),))

    def step_records(self) -> dict[str, Any]:
        up = np.flatnonzero(self.x.numpy() > 0)
        return {"walk/crossings": np.stack([np.full_like(up, self.steps), up], axis=1)}

    def snapshot(self) -> dict[str, np.ndarray]:
        return {"walk/x": self.x.numpy()[None].copy()}

    def state(self) -> dict[str, Any]:
        return {"step": int(self.steps), "x": self.x.numpy().copy(), "rng": self.rngs.state(),
                "observables": json.dumps({"mean": self.observables["mean"]})}

    def restore(self, state: dict[str, Any]) -> None:
        self.steps = int(state["step"])
        self.x = torch.as_tensor(np.asarray(state["x"]))
        self.rngs.restore(state["rng"])
        self._observe()


if "walk" not in KINDS:
    register_kind("walk", WalkConfig, Walk)
