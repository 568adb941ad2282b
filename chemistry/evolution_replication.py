"""Wright–Fisher selection and replication of a SeRANN generation (science/serann.md).

Pure functions of a numpy ``rng``: offspring counts ~ Multinomial(N, F/ΣF), then each parent's
offspring drawn without replacement from the P copies it made of its own genotype.

The copies come from a mutation model (config ``mutation_model``; issue 20's controls):

* ``endogenous`` — the learned copier's outputs, as they are (the paper);
* ``shuffled`` — each copy keeps its learned number of wrong bits, at uniformly random sites
  (``shuffle_errors``): the same mutation rate without the copier's bias;
* ``exogenous`` — exact copies, then Poisson(U) flips at uniformly random sites
  (``exogenous_copies``), U fixed (by default the founders' measured rate in generation 0).
"""

from __future__ import annotations

import numpy as np
import torch

from neurosoup.particles.serann.genotype import N_BITS

MUTATION_MODELS = ("endogenous", "shuffled", "exogenous")
_MUTATION_KEY = 3  # spawn_key (3, generation): the controls' flips (2: the individuals)


def mutation_rng(seed: int, generation: int) -> np.random.Generator:
    """The controls' stream of one generation: ``SeedSequence(seed, spawn_key=(3, g))``.

    Apart from the model's ``rng``, so Wright–Fisher and the offspring draws use the same
    stream under every mutation model, and a resumed run needs no extra state.
    """
    seq = np.random.SeedSequence(seed, spawn_key=(_MUTATION_KEY, int(generation)))
    return np.random.default_rng(seq)


def flip_random_sites(rng: np.random.Generator, parents: np.ndarray,
                      k: np.ndarray) -> np.ndarray:  # fmt: skip
    """Copies of ``parents [N, 100]`` with ``k [N, P]`` bits flipped at distinct uniform sites.

    Returns [N, P, 100] uint8: the sites of each copy are the first k of a uniform random
    permutation of the 100 sites (uniform keys, ranked).
    """
    n, p = k.shape
    keys = rng.random((n, p, parents.shape[1]))
    rank = keys.argsort(-1).argsort(-1)
    flip = (rank < np.minimum(k, parents.shape[1])[..., None]).astype(np.uint8)
    return parents[:, None, :].astype(np.uint8) ^ flip


def shuffle_errors(rng: np.random.Generator, parents: np.ndarray,
                   copies: np.ndarray) -> np.ndarray:  # fmt: skip
    """The ``shuffled`` control: each copy's wrong bits moved to uniformly random sites.

    parents: [N, 100], copies: [N, P, 100] → [N, P, 100] uint8 with the same number of wrong
    bits per copy as ``copies``.
    """
    k = (copies != parents[:, None, :]).sum(-1)
    return flip_random_sites(rng, parents, k)


def exogenous_copies(rng: np.random.Generator, parents: np.ndarray, n_copies: int,
                     rate: float) -> np.ndarray:  # fmt: skip
    """The ``exogenous`` control: exact copies, then Poisson(``rate``) uniform flips each.

    parents: [N, 100] → [N, P, 100] uint8 (at most 100 flips per copy).
    """
    k = rng.poisson(rate, (parents.shape[0], n_copies))
    return flip_random_sites(rng, parents, k)


def apply_mutation_model(model: str, rng: np.random.Generator, parents: np.ndarray,
                         copies: np.ndarray, alive: np.ndarray,
                         rate: float) -> np.ndarray:  # fmt: skip
    """The copies an adult's offspring are drawn from, under ``model`` (living rows only).

    parents: [N, 100], copies: [N, P, 100] (the learned copier's), alive: [N] → [N, P, 100].
    """
    if model == "endogenous" or not alive.any():
        return copies
    out = copies.copy()
    rows = np.flatnonzero(alive)
    if model == "shuffled":
        out[rows] = shuffle_errors(rng, parents[rows], copies[rows])
    else:
        out[rows] = exogenous_copies(rng, parents[rows], copies.shape[1], rate)
    return out


def wright_fisher(rng: np.random.Generator, fertility: np.ndarray) -> np.ndarray:
    """Offspring counts ~ Multinomial(N, F/ΣF): ``fertility [N]`` → ``counts [N]`` int64.

    All zeros when ΣF = 0 (an extinct population: nobody reproduces).
    """
    f = np.asarray(fertility, dtype=np.float64)
    total = float(f.sum())
    if not total > 0:
        return np.zeros(f.shape[0], np.int64)
    return rng.multinomial(f.shape[0], f / total).astype(np.int64)



def replicate(rng: np.random.Generator, counts: np.ndarray,
              copies: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:  # fmt: skip
    """Offspring genotypes [C, 100] uint8 and their parents' rows [C] (C = Σ counts).

    counts: [N] offspring per parent; copies: [N, P, 100] the copies each parent made. A
    parent's offspring are drawn without replacement from its P copies; more than P offspring
    draw the pool again, each round without replacement.
    """
    pool = copies.shape[1]
    children, parent_rows = [], []
    for i in np.flatnonzero(counts):
        c = int(counts[i])
        picks = np.concatenate([rng.permutation(pool) for _ in range(-(-c // pool))])
        children.append(copies[i, picks[:c]])
        parent_rows.extend([i] * c)
    if not children:
        return torch.zeros(0, N_BITS, dtype=torch.uint8), np.zeros(0, np.int64)
    return torch.from_numpy(np.concatenate(children)), np.asarray(parent_rows, np.int64)


__all__ = [
    "MUTATION_MODELS",
    "apply_mutation_model",
    "exogenous_copies",
    "flip_random_sites",
    "mutation_rng",
    "replicate",
    "shuffle_errors",
    "wright_fisher",
]
