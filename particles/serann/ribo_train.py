"""Training of the RiboAE on a grammar corpus, and genotype-phenotype map statistics.

Pure tensor code; the ``neurosoup ribo train|stats`` commands that write files live in
``scenarios/cli_ribo.py``.

The corpus is ``generate_corpus(corpus_size + held_out, seed)`` (8x8 grammar), filtered to
programs of at most ``SEQ_LEN`` tokens; the last ``held_out`` programs are never trained on.
Adam (lr 3e-3), batch 256, cross-entropy over all positions (``<PAD>`` included), Gumbel
temperature annealed geometrically from 1 to 0.3 over the run, KL weight 0. Outputs, all plain
arrays or JSON: ``ribo.npz`` (float16 weights), ``corpus.npz`` (packed corpus genotypes and a
held-out mask) and ``ribo.json`` (seed, command, wall time, accuracies, ancestor).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from neurosoup.particles.errors import ConfigError

from .genotype import to_hex
from .program import Death, interpret
from .ribo import RiboAE, Ribosome
from .tokens import PAD_ID, SEQ_LEN, VOCAB_SIZE, encode_ids

HELD_OUT = 2000


def reconstruction(ribo: Ribosome, ids: np.ndarray) -> dict[str, float]:
    """Token accuracy and exact-match share of encode -> decode.

    Args:
        ribo: Frozen RiboAE.
        ids: [N, L] int64 token ids of programs.

    Returns:
        ``token_acc`` (non-pad target positions), ``token_acc_all`` (all positions),
        ``exact`` (share of programs decoded with every token right) and ``median_wrong``.
    """
    with torch.no_grad():
        bits = ribo._encoder.encode_logits(torch.from_numpy(ids)).argmax(-1)
    pred = ribo.decode_ids(bits)
    right = pred == ids
    real = ids != PAD_ID
    wrong = (~right).sum(axis=1)
    return {
        "token_acc": float(right[real].mean()),
        "token_acc_all": float(right.mean()),
        "exact": float((wrong == 0).mean()),
        "median_wrong": float(np.median(wrong)),
    }


def train(
    programs: list[str],
    seed: int,
    steps: int,
    minutes: float | None = None,
    lr: float = 3e-3,
    batch: int = 256,
    t_start: float = 1.0,
    t_end: float = 0.3,
    log_every: int = 200,
) -> tuple[RiboAE, dict[str, float]]:
    """Train a RiboAE.

    Args:
        programs: Training programs (each at most ``SEQ_LEN`` tokens).
        seed: Seed of the init, batches and Gumbel noise.
        steps: Optimiser steps (the temperature schedule runs over these).
        minutes: Optional wall-clock limit; stops early when reached.
        lr: Adam learning rate.
        batch: Batch size.
        t_start: Initial Gumbel temperature.
        t_end: Final Gumbel temperature.
        log_every: Print progress every this many steps.

    Returns:
        The model and a summary (steps done, seconds, final temperature, last loss).
    """
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    torch.manual_seed(seed)  # module init only; the run's other draws use `gen`
    gen = torch.Generator().manual_seed(seed)
    ids = torch.from_numpy(encode_ids(programs, SEQ_LEN))
    model = RiboAE()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    temp, loss_value, step = t_start, float("nan"), 0
    for step in range(1, steps + 1):
        frac = (step - 1) / max(1, steps - 1)
        if minutes is not None:  # a binding time limit still anneals to t_end
            frac = max(frac, (time.perf_counter() - start) / (60 * minutes))
        temp = t_start * (t_end / t_start) ** min(1.0, frac)
        idx = torch.randint(0, ids.shape[0], (batch,), generator=gen)
        target = ids[idx]
        logits = model(target, temp, gen)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE), target.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_value = float(loss.detach())
        elapsed = time.perf_counter() - start
        if step % log_every == 0:
            print(f"step {step} loss {loss_value:.4f} T {temp:.3f} {elapsed:.0f}s", flush=True)
        if minutes is not None and elapsed > 60 * minutes:
            break
    seconds = time.perf_counter() - start
    return model, {"steps": step, "seconds": seconds, "temperature": temp, "loss": loss_value}


def map_stats(ribo: Ribosome, parents: torch.Tensor, param_cap: int = 200_000) -> dict[str, float]:
    """Robustness of the genotype-phenotype map around ``parents``.

    Every parent's 100 single-bit mutants are decoded and interpreted. Mutant shares are over
    the mutants of *valid* parents (as in science/serann.md) when there are any.

    Args:
        ribo: Frozen RiboAE.
        parents: [N, 100] genotypes.
        param_cap: Parameter cap of the interpreter.

    Returns:
        ``valid`` (share of parents whose program is valid), ``distinct`` (distinct programs /
        N), and over mutants ``synonymous`` (same program as the parent), ``lethal`` (Death),
        ``viable_changed`` and ``alpha_changed``; ``n_valid_parents``.
    """
    texts = ribo.decode(parents)
    irs = [interpret(t, param_cap=param_cap) for t in texts]
    valid = [not isinstance(ir, Death) for ir in irs]
    chosen = [i for i, ok in enumerate(valid) if ok] or list(range(len(texts)))
    syn = lethal = changed_alpha = total = 0
    for i in chosen:
        mutants = parents[i].unsqueeze(0) ^ torch.eye(parents.shape[1], dtype=torch.uint8)
        for text in ribo.decode(mutants):
            total += 1
            if text == texts[i]:
                syn += 1
                continue
            ir = interpret(text, param_cap=param_cap)
            if isinstance(ir, Death):
                lethal += 1
            elif not isinstance(irs[i], Death) and ir.alpha != irs[i].alpha:
                changed_alpha += 1
    total = max(total, 1)
    return {
        "valid": float(np.mean(valid)),
        "distinct": len(set(texts)) / max(1, len(texts)),
        "n_valid_parents": float(sum(valid)),
        "synonymous": syn / total,
        "lethal": lethal / total,
        "viable_changed": 1.0 - (syn + lethal) / total,
        "alpha_changed": changed_alpha / total,
    }


def pick_ancestor(ribo: Ribosome, bits: torch.Tensor) -> tuple[str | None, str | None]:
    """A genotype whose decoded program is valid, α in [0.3, 0.5], params nearest 10^5.

    Returns ``(None, None)`` when no genotype qualifies (an undertrained RiboAE).
    """
    best: tuple[float, str, str] | None = None
    for row, text in zip(bits, ribo.decode(bits), strict=True):
        ir = interpret(text)
        if isinstance(ir, Death) or not 0.3 <= ir.alpha <= 0.5:
            continue
        score = abs(np.log(ir.total_params / 1e5))
        if best is None or score < best[0]:
            best = (score, to_hex(row)[0], text)
    if best is None:
        return None, None
    return best[1], best[2]


__all__ = ["HELD_OUT", "map_stats", "pick_ancestor", "reconstruction", "train"]
