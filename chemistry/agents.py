"""Mesa agents for small soups: one thin ``ParticleAgent`` per living particle.

The store stays the population (DESIGN.md §1); for soups up to ``AGENT_LIMIT`` living
particles the soup also keeps a Mesa ``AgentSet`` of views so that ``model.agents``,
``agents.select(...)``, ``agents_by_type`` and Mesa's components work as Mesa users expect.
An agent holds only its slot and uid; type, weights and organism are read from the store and
the organism bookkeeping when asked. ``ParticleAgents.sync`` runs once after every tick: one
tensor comparison of the slots' uids finds births and deaths, and only those slots are touched
(no loop over agents; operators never see them). Above the limit the set stays empty and one
note says why. Agents are created in increasing uid order and carry the particle's uid as
Mesa ``unique_id``, so a resumed soup holds the same agents, in the same order, as an
uninterrupted one.
"""

from __future__ import annotations

import logging
from typing import Any

import mesa
import numpy as np
import torch

from neurosoup.particles import ParticleType
from neurosoup.particles.store import STALE

log = logging.getLogger(__name__)

#: default largest number of living particles that get a Mesa agent each
AGENT_LIMIT = 1_000


class ParticleAgent(mesa.Agent):
    """A read-only Mesa view of one living particle (``unique_id`` = the particle's uid).

    Attributes:
        slot: the particle's row in the store (stable for its life).
    """

    def __init__(self, model: Any, slot: int, uid: int) -> None:
        super().__init__(model)
        self.unique_id = int(uid)
        self.slot = int(slot)

    @property
    def uid(self) -> int:
        """The particle's uid (never reused)."""
        return self.unique_id

    @property
    def ptype(self) -> ParticleType | None:
        """Latest classification (None while stale)."""
        code = int(self.model.store.ptype[self.slot])
        return None if code == STALE else ParticleType(code)

    @property
    def type_name(self) -> str:
        """The type as a name (``fixpoint``, ``other``, …; ``stale`` while unclassified)."""
        t = self.ptype
        return "stale" if t is None else t.name.lower()

    @property
    def weights(self) -> np.ndarray:
        """A read-only view of the weights, [P] (a copy off the CPU)."""
        w = self.model.store.weights[self.slot].detach()
        out = w.numpy() if w.device.type == "cpu" else w.cpu().numpy()
        out = out.view()
        out.flags.writeable = False
        return out

    @property
    def organism(self) -> int | None:
        """Id of the organism the particle belongs to, or None."""
        return self.model.organisms.organism_of(self.unique_id)

    @property
    def parent_uid(self) -> int | None:
        """The parent's uid, or None for a seeded or respawned particle."""
        p = int(self.model.store.parent_uid[self.slot])
        return None if p < 0 else p

    @property
    def born_at(self) -> int:
        """Tick of birth."""
        return int(self.model.store.born_at[self.slot])

    def __repr__(self) -> str:
        return f"ParticleAgent(uid={self.unique_id}, slot={self.slot}, type={self.type_name})"


class ParticleAgents:
    """Keeps a model's ``ParticleAgent``s in step with its store (births, deaths, regrowth).

    Args:
        model: a model with ``store`` (``ParticleStore``) and ``organisms``.
        limit: the largest number of living particles that get agents (0 turns agents off).
    """

    def __init__(self, model: Any, limit: int = AGENT_LIMIT) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            from neurosoup.particles import ConfigError

            raise ConfigError(f"agent_limit must be an int >= 0, got {limit!r}")
        self.model, self.limit = model, limit
        self._by_slot: dict[int, ParticleAgent] = {}
        self._uid = torch.zeros(0, dtype=torch.int64)  # the uid per slot at the last sync, [C]
        self.note: str | None = None
        self._noted = False

    @property
    def active(self) -> bool:
        """True while the soup keeps one agent per living particle."""
        return self.note is None

    def sync(self, rebuild: bool = False) -> None:
        """Add agents for new particles and remove those of dead ones (after each tick).

        One comparison of the uid column with the last one finds the slots whose occupant
        changed; only they are touched. ``rebuild`` starts from scratch (after ``restore``).
        """
        store = self.model.store
        n_alive = len(store)
        if n_alive > self.limit:
            if self.note is None:
                self.note = (
                    f"soup.agents is empty: {n_alive} living particles exceed agent_limit "
                    f"{self.limit} (thin Mesa agents are kept for small soups; pass "
                    "agent_limit=… to Soup to raise it, or read soup.store)"
                )
                self._noted = False
            self.clear()
            return
        self.note = None
        uid = store.uid.detach().cpu()
        if rebuild or self._uid.shape[0] > uid.shape[0]:
            self.clear()
        prev = self._uid
        if prev.shape[0] < uid.shape[0]:  # first sync, or the store grew: new slots were empty
            prev = torch.cat([prev, torch.full((uid.shape[0] - prev.shape[0],), -1)])
        changed = torch.nonzero(uid != prev, as_tuple=False)[:, 0].tolist()
        if changed:
            for slot in changed:
                agent = self._by_slot.pop(slot, None)
                if agent is not None:
                    agent.remove()
            born = [(int(uid[s]), s) for s in changed if int(uid[s]) >= 0]
            for u, slot in sorted(born):
                self._by_slot[slot] = ParticleAgent(self.model, slot, u)
        self._uid = uid.clone()

    def clear(self) -> None:
        """Remove every particle agent."""
        for agent in self._by_slot.values():
            agent.remove()
        self._by_slot = {}
        self._uid = torch.zeros(0, dtype=torch.int64)

    def note_once(self) -> None:
        """Log the note (why the set is empty) the first time the agents are asked for."""
        if self.note is not None and not self._noted:
            self._noted = True
            log.warning(self.note)


__all__ = ["AGENT_LIMIT", "ParticleAgent", "ParticleAgents"]
