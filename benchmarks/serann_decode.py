"""Throughput of the SeRANN genotype -> phenotype map on this machine.

Prints genotypes decoded (batched RiboAE) and interpreted per second, split into decode and
interpret, for uniform random genotypes, single-bit mutants of corpus genotypes and corpus
genotypes; then the time to build a torch model from an IR. Best of k repetitions after a
warm-up; the interpreter's result cache is cleared before each repetition so repeated programs
are not free. Goal: >= 2,000 genotypes/s decoded + validated on 2 CPU cores.

    python benchmarks/serann_decode.py [--n 4000] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from neurosoup.particles.serann.genotype import random_genotypes
from neurosoup.particles.serann.ir import ProgramIR
from neurosoup.particles.serann.model import build
from neurosoup.particles.serann.program import _interpret_cached, interpret
from neurosoup.particles.serann.ribo import corpus_genotypes, default_ribosome


def time_map(bits: torch.Tensor, repeats: int) -> tuple[float, float, float]:
    ribo = default_ribosome()
    ribo.decode(bits[:64])  # warm-up
    best_dec = best_int = float("inf")
    valid = 0.0
    for _ in range(repeats):
        _interpret_cached.cache_clear()
        t0 = time.perf_counter()
        texts = ribo.decode(bits)
        t1 = time.perf_counter()
        results = [interpret(t) for t in texts]
        t2 = time.perf_counter()
        best_dec, best_int = min(best_dec, t1 - t0), min(best_int, t2 - t1)
        valid = sum(isinstance(r, ProgramIR) for r in results) / len(results)
    return best_dec, best_int, valid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    corpus = corpus_genotypes()
    picks = corpus[torch.randint(0, corpus.shape[0], (args.n,), generator=gen)]
    flip = torch.nn.functional.one_hot(torch.randint(0, 100, (args.n,), generator=gen), 100)
    sets = {
        "random genotypes": random_genotypes(args.n, gen),
        "corpus genotypes": picks,
        "single-bit mutants of corpus genotypes": picks ^ flip.to(torch.uint8),
    }
    print(f"torch threads: {torch.get_num_threads()}, N = {args.n}, best of {args.repeats}")
    for name, bits in sets.items():
        dec, intr, valid = time_map(bits, args.repeats)
        print(
            f"{name:40s} decode {args.n / dec:9.0f}/s  interpret {args.n / intr:8.0f}/s  "
            f"decode+interpret {args.n / (dec + intr):8.0f}/s  valid {valid:.1%}"
        )
    ribo = default_ribosome()
    irs = [r for r in (interpret(t) for t in ribo.decode(picks[:400])) if isinstance(r, ProgramIR)]
    irs = irs[:50]
    build(irs[0])  # warm-up
    times = []
    for ir in irs:
        t0 = time.perf_counter()
        build(ir, torch.Generator().manual_seed(0))
        times.append(time.perf_counter() - t0)
    times.sort()
    params = sorted(ir.total_params for ir in irs)
    print(
        f"build model from IR ({len(irs)} decoded valid programs, median "
        f"{params[len(params) // 2]} params): median {1e3 * times[len(times) // 2]:.2f} ms, "
        f"max {1e3 * times[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
