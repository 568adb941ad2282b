"""``neurosoup ribo train|stats``: the SeRANN ribosome commands (they write and print files).

The training itself is pure tensor code in ``particles/serann/ribo_train.py``; this module
parses the options, writes ``ribo.npz`` (float16 weights), ``corpus.npz`` (packed corpus
genotypes and a held-out mask) and ``ribo.json`` (seed, command, wall time, accuracies,
ancestor) — plain arrays and JSON only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from neurosoup.particles import ConfigError

from .cli_common import add_output


def cmd_train(args: argparse.Namespace) -> int:
    """Train a RiboAE on a fresh grammar corpus and write its files to ``--out``."""
    from neurosoup.particles.serann.genotype import pack
    from neurosoup.particles.serann.grammar import generate_corpus
    from neurosoup.particles.serann.ribo import Ribosome
    from neurosoup.particles.serann.ribo_train import (
        HELD_OUT,
        pick_ancestor,
        reconstruction,
        train,
    )
    from neurosoup.particles.serann.tokens import SEQ_LEN, VOCAB_SIZE, encode_ids, n_tokens

    if args.corpus_size < 1000:
        raise ConfigError(f"--corpus-size must be >= 1000, got {args.corpus_size}")
    programs = [
        p for p in generate_corpus(args.corpus_size + HELD_OUT, args.seed) if n_tokens(p) <= SEQ_LEN
    ]
    train_progs, held_progs = programs[:-HELD_OUT], programs[-HELD_OUT:]
    model, summary = train(
        train_progs, args.seed, args.steps, args.minutes, args.lr, log_every=args.log_every
    )
    ribo = Ribosome(model.export())
    metrics = {
        "held_out": reconstruction(ribo, encode_ids(held_progs)),
        "train_sample": reconstruction(ribo, encode_ids(train_progs[:HELD_OUT])),
    }
    bits = ribo.encode(programs)
    held_mask = np.zeros(len(programs), dtype=bool)
    held_mask[-HELD_OUT:] = True
    ancestor_hex, ancestor_text = pick_ancestor(ribo, bits[-HELD_OUT:])
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "ribo.npz", **model.export())
    np.savez_compressed(args.out / "corpus.npz", packed=pack(bits), held_out=held_mask)
    command = (
        f"neurosoup ribo train --seed {args.seed} --corpus-size {args.corpus_size} "
        f"--steps {args.steps} --lr {args.lr}"
        + (f" --minutes {args.minutes}" if args.minutes is not None else "")
        + f" --out {args.out}"
    )
    meta = {
        "command": command,
        "seed": args.seed,
        "corpus_size": len(train_progs),
        "held_out_size": HELD_OUT,
        "seq_len": SEQ_LEN,
        "vocab_size": VOCAB_SIZE,
        "lr": args.lr,
        "batch": 256,
        "gumbel_temperature": [1.0, 0.3],
        "kl_weight": 0.0,
        "dtype": "float16",
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        **summary,
        **metrics,
        "ancestor_hex": ancestor_hex,
        "ancestor_program": ancestor_text,
    }
    (args.out / "ribo.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps({k: meta[k] for k in ("seconds", "steps", "held_out")}, indent=2))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the genotype-phenotype map shares of the shipped RiboAE as JSON."""
    from neurosoup.particles.serann.genotype import random_genotypes
    from neurosoup.particles.serann.ribo import corpus_genotypes, default_ribosome
    from neurosoup.particles.serann.ribo_train import map_stats

    if args.n < 1:
        raise ConfigError(f"--n must be an int >= 1 (parents per kind), got {args.n}")
    ribo, gen = default_ribosome(), torch.Generator().manual_seed(args.seed)
    held = corpus_genotypes(held_out=True)
    held = held[torch.randperm(held.shape[0], generator=gen)[: args.n]]
    report = {
        "corpus_held_out": map_stats(ribo, held),
        "random": map_stats(ribo, random_genotypes(args.n, gen)),
    }
    print(json.dumps(report, indent=2))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ribo train`` and ``ribo stats`` on the CLI's sub-parser set."""
    ribo = sub.add_parser("ribo", help="SeRANN ribosome tools").add_subparsers(
        dest="ribo_command", required=True
    )
    p = ribo.add_parser("train", help="train the RiboAE on a fresh grammar corpus")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--corpus-size", type=int, default=60_000)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--minutes", type=float, default=None, help="wall-clock limit")
    p.add_argument("--lr", type=float, default=3e-3)
    add_output(p, "--out", what="folder", noun="ribosome folder", type=Path,
               default=Path("ribo_out"))
    p.add_argument("--log-every", type=int, default=200)
    p.set_defaults(func=cmd_train)
    p = ribo.add_parser("stats", help="genotype-phenotype map shares of the shipped RiboAE")
    p.add_argument("--n", type=int, default=300, help="parents per kind")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_stats)
