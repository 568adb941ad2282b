"""One seed per run: a numpy ``Generator`` for Mesa and a ``torch.Generator`` for the soup.

``numpy.random.SeedSequence(seed).spawn(2)`` gives two independent streams: the first feeds
Mesa's ``model.rng``, the second seeds a ``torch.Generator`` on the store's device, from which
every draw of every operator is taken. Both states are captured in checkpoints and restored on
resume, so a resumed run equals an uninterrupted one. Same seed, device type and dtype give the
same result; CPU and CUDA streams differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neurosoup.particles import ConfigError, SnapshotError

_TORCH_SEED_MASK = (1 << 63) - 1


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int, or raise ``ConfigError`` (ints >= 0 only)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise ConfigError(f"seed must be an int >= 0, got {seed!r}; pass e.g. --seed 3")
    return int(seed)


def resolve_device(device: torch.device | str | None) -> torch.device:
    """The torch device of a run: ``None`` → CUDA when present, else CPU.

    Raises:
        ConfigError: unknown device names, or CUDA requested where it is not available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown device {device!r}; expected 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {str(device)!r} was requested but CUDA is not available on this machine; "
            "use --device cpu"
        )
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {str(device)!r}; expected 'cpu' or 'cuda'")
    return dev


@dataclass
class RunRng:
    """The two generators of a run.

    Attributes:
        numpy: the numpy ``Generator`` handed to ``mesa.Model(rng=...)``.
        torch: the ``torch.Generator`` on the store's device; all operator draws use it.
    """

    numpy: np.random.Generator
    torch: torch.Generator

    @classmethod
    def from_seed(cls, seed: int, device: torch.device | str = "cpu") -> RunRng:
        """Spawn both generators from one ``SeedSequence(seed)``."""
        numpy_seq, torch_seq = np.random.SeedSequence(check_seed(seed)).spawn(2)
        gen = torch.Generator(device=torch.device(device))
        torch_seed = int(torch_seq.generate_state(1, dtype=np.uint64)[0]) & _TORCH_SEED_MASK
        gen.manual_seed(torch_seed)
        return cls(numpy=np.random.default_rng(numpy_seq), torch=gen)

    def state(self) -> dict[str, Any]:
        """Both states: ``numpy`` as a JSON string, ``torch`` as a uint8 numpy array."""
        return {
            "numpy": json.dumps(_jsonable(self.numpy.bit_generator.state)),
            "torch": self.torch.get_state().cpu().numpy().copy(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Set both generators to a state captured by ``state()``."""
        try:
            self.numpy.bit_generator.state = json.loads(state["numpy"])
            self.torch.set_state(torch.as_tensor(np.asarray(state["torch"], dtype=np.uint8)))
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise SnapshotError(
                f"checkpoint RNG state is damaged ({exc}); start the run again from scratch"
            ) from None


def _jsonable(value: Any) -> Any:
    """Numpy scalars inside a bit-generator state → plain ints (PCG64 states are ints)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value


__all__ = ["RunRng", "check_seed", "resolve_device"]
