"""Memory a model needs against memory the machine has: refuse a model that cannot fit.

Each kind estimates, from its config alone, the bytes its largest allocations take
(``ModelBase.memory_need``: the soup's store, an organism's particles and activations, a quine
population and its projection, a SeRANN population); ``check_memory`` compares that with what
the run's device has free — ``MemAvailable`` of ``/proc/meminfo`` (bounded by a cgroup limit)
or ``os.sysconf`` for the CPU, ``torch.cuda.mem_get_info`` for a CUDA device — and refuses,
in one line saying how much is needed and how much there is, before anything is allocated.
Estimates are lower bounds of the real peak: a refused model would certainly not have fit.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from neurosoup.particles import ConfigError


def format_bytes(n: float) -> str:
    """``5.6e12`` → ``5.6 TB`` (decimal units, as the allocator's messages count)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover - the loop returns


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """Bytes left under a cgroup v2 memory limit (None: no limit or no cgroup v2)."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_bytes(device: torch.device) -> tuple[int | None, str]:
    """Bytes free for a model on ``device`` and what they are (None: cannot tell)."""
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except (RuntimeError, AssertionError):
            return None, f"free on {device}"
        return int(free), f"free on {device}"
    known = [n for n in (_meminfo_available(), _cgroup_room()) if n is not None]
    return (min(known) if known else None), "available RAM"


def check_memory(kind: str, need: int, settings: str, device: torch.device) -> None:
    """Refuse (``ConfigError``) a ``kind`` model needing ``need`` bytes the device lacks.

    ``settings`` names what drives the estimate (the fix: lower them).
    """
    if need <= 0:
        return
    have, what = available_bytes(torch.device(device))
    if have is not None and need > have:
        raise ConfigError(
            f"this {kind} model needs about {format_bytes(need)} of memory, but "
            f"{format_bytes(have)} is {what}; lower {settings} or use a machine with more memory"
        )


__all__ = ["available_bytes", "check_memory", "format_bytes"]
