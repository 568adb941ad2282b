"""The worked example of ``docs/extending.md``: a random walk in weight space, one observable.

Q walkers start at random weight vectors w ∈ R^P and take Gaussian strides of size σ; the one
observable is their mean distance from where they started (≈ σ·√(P·t) after t strides). The
whole kind is this module: its file vocabulary, config, model and the two registrations. The
conftest imports it, and ``tests/test_every_kind.py`` then checks it like every built-in kind
(same seed → same file, resume ≡ uninterrupted, ``run``/``show``/``analyse``/``plot``, a bad
``--set`` key): no test file names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from neurosoup.chemistry.checks import check_int
from neurosoup.chemistry.config_base import ConfigBase
from neurosoup.chemistry.model_kinds import KindTest, Layout, ModelBase, Series, register_kind
from neurosoup.particles import ConfigError
from neurosoup.scenarios import register

# ---- the run-file vocabulary (a built-in kind keeps it in particles/runformat/<kind>.py) ------
KIND = "random_walk"
WALKERS = "walkers/weights"  # series, every snapshot: [S, Q, P]
DISTANCE = "distance"  # observable, every stride: mean ‖w − w₀‖ over the walkers


@dataclass(frozen=True)
class RandomWalkConfig(ConfigBase):
    """Q walkers of P weights, stride σ; the cadences every kind's config carries.

    ``ConfigBase`` gives ``to_dict``/``from_dict`` (unknown keys: a did-you-mean line)/``replace``.
    """

    walkers: int = 4
    n_weights: int = 14
    sigma: float = 0.1
    steps: int = 20
    snapshot_every: int = 5
    checkpoint_every: int = 10
    noun: ClassVar[str] = KIND  # "unknown random_walk setting `x`"

    def __post_init__(self) -> None:
        for name in ("walkers", "n_weights", "steps", "snapshot_every", "checkpoint_every"):
            check_int(name, getattr(self, name), 1)
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, int | float):
            raise ConfigError(f"sigma must be a number > 0, got {self.sigma!r}")
        if not self.sigma > 0:
            raise ConfigError(f"sigma must be > 0, got {self.sigma}; pass e.g. 0.1")


class RandomWalk(ModelBase):
    """Q walkers in weight space: one ``step()`` is one Gaussian stride of every walker."""

    kind = KIND
    unit = "stride"

    def __init__(self, config: RandomWalkConfig, seed: int = 0, device: Any = None, *,
                 scenario: str | None = None) -> None:  # fmt: skip
        super().__init__(config, seed, device, scenario=scenario)
        shape = (config.walkers, config.n_weights)
        self.start = torch.randn(shape, generator=self.rngs.torch, dtype=torch.float64,
                                 device=self.device)  # fmt: skip
        self.w = self.start.clone()  # [Q, P]
        self._observe()

    @classmethod
    def memory_need(cls, config: RandomWalkConfig) -> tuple[int, str]:
        """Positions and starts, [Q, P] float64 each: refused before allocating if too big."""
        return 2 * config.walkers * config.n_weights * 8, "walkers or n_weights"

    def step(self) -> None:
        """One stride: w ← w + σ·ε, ε ~ N(0, I) from the run's generator."""
        noise = torch.randn(self.w.shape, generator=self.rngs.torch, dtype=self.w.dtype,
                            device=self.device)  # fmt: skip
        self.w = self.w + self.config.sigma * noise
        self._observe()

    def _observe(self) -> None:
        self.observables = {DISTANCE: float((self.w - self.start).norm(dim=1).mean())}

    # ---- what the run file holds ---------------------------------------------------------
    def layout(self) -> Layout:
        """One scalar observable; walker weights per snapshot, frames [Q, P] (declared (P,))."""
        series = (Series(WALKERS, np.float64, (self.config.n_weights,)),)
        return Layout({DISTANCE: ()}, series)

    def step_records(self) -> dict[str, Any]:
        """No tables."""
        return {}

    def snapshot(self) -> dict[str, np.ndarray]:
        """Walker weights [Q, P]."""
        return {WALKERS: self.w.cpu().numpy().copy()}

    # ---- checkpoints: everything needed to continue exactly -------------------------------
    def state(self) -> dict[str, Any]:
        """Step, positions, starts and the generators' states (arrays and plain scalars)."""
        return {"steps": int(self.steps), "w": self.w.cpu().numpy().copy(),
                "start": self.start.cpu().numpy().copy(), "rng": self.rngs.state()}  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()``; sets ``steps`` (Mesa's counter) as the protocol asks."""
        self.steps = int(state["steps"])
        self.w = torch.as_tensor(np.asarray(state["w"]), device=self.device)
        self.start = torch.as_tensor(np.asarray(state["start"]), device=self.device)
        self.rngs.restore(state["rng"])
        self._observe()


register_kind(KIND, RandomWalkConfig, RandomWalk, test=KindTest("example/random-walk-v1",
                                                                 {"walkers": 3}, steps=3))
register("example/random-walk-v1", kind=KIND, config={"steps": 20},
         description="worked example kind (tests/kinds): 4 walkers in weight space, σ = 0.1")
