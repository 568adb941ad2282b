"""What the Mesa agents of a small soup cost: a tick with agents against one without.

    .venv/bin/python benchmarks/soup_agents.py                  # N = 10³, both schedules
    .venv/bin/python benchmarks/soup_agents.py --n 1000 --ticks 20 --repeats 5

Two soups of the same seed run side by side, one with ``agent_limit=0`` (no agents), one
with the default limit (one ``ParticleAgent`` per particle, synced after every tick). Rounds
of ``--ticks`` ticks alternate between them; the best round of each is kept. ``sync`` is the
time of ``ParticleAgents.sync`` alone, measured inside the agent soup's ticks: the overhead
figure (% of a tick) is sync / tick, which does not suffer from the two soups' timing noise.

Schedules: journal = attack single(0.1) + 20 self-train steps (no births); respawn = the 2019
demo soup's attack + learn_from 10 % + 20 self-train steps + respawn of divergent and zero
particles (births and deaths every tick, so agents are created and removed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.soup import Soup

SCHEDULES = {
    "journal": [{"name": "attack", "rate": 0.1, "pairing": "single"},
                {"name": "self_train", "steps": 20}],
    "respawn": [{"name": "attack", "rate": 0.1, "pairing": "per_actor"},
                {"name": "learn_from", "rate": 0.1, "pairing": "per_actor"},
                {"name": "self_train", "steps": 20},
                {"name": "respawn", "divergent": True, "zero": True}],
}  # fmt: skip


def measure(name: str, n: int, ticks: int, repeats: int) -> dict[str, float]:
    cfg = SoupConfig(n_particles=n, steps=10**6, operators=SCHEDULES[name])
    plain = Soup(cfg, seed=0, device="cpu", agent_limit=0)
    with_agents = Soup(cfg, seed=0, device="cpu")
    sync = with_agents.particle_agents.sync
    spent = [0.0]

    def timed_sync(rebuild: bool = False) -> None:
        t = time.perf_counter()
        sync(rebuild)
        spent[0] += time.perf_counter() - t

    with_agents.particle_agents.sync = timed_sync  # type: ignore[method-assign]
    for soup in (plain, with_agents):
        soup.run(2, progress=False, threads=1)  # warm-up
    best = {"off": float("inf"), "on": float("inf"), "sync": float("inf")}
    for _ in range(repeats):
        for key, soup in (("off", plain), ("on", with_agents)):
            spent[0] = 0.0
            t = time.perf_counter()
            soup.run(ticks, progress=False, threads=1)
            best[key] = min(best[key], (time.perf_counter() - t) / ticks)
            if key == "on":
                best["sync"] = min(best["sync"], spent[0] / ticks)
    assert len(with_agents.agents) == len(with_agents.store)
    births = with_agents.store.next_uid - n
    return {**best, "births": births / with_agents.steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"N = {args.n}; best of {args.repeats} rounds of {args.ticks} ticks, 1 thread")
    print(f"{'schedule':<10}{'tick off':>11}{'tick on':>11}{'sync':>10}{'sync/tick':>11}"
          f"{'births/tick':>13}")  # fmt: skip
    for name in SCHEDULES:
        r = measure(name, args.n, args.ticks, args.repeats)
        print(f"{name:<10}{r['off'] * 1e3:>9.2f}ms{r['on'] * 1e3:>9.2f}ms"
              f"{r['sync'] * 1e6:>8.0f}µs{100 * r['sync'] / r['off']:>10.2f}%"
              f"{r['births']:>13.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
