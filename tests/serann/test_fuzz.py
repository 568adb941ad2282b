"""Fuzz: decoded genotypes and mangled programs never make an exception escape."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosoup.particles.serann.genotype import random_genotypes
from neurosoup.particles.serann.grammar import generate_corpus
from neurosoup.particles.serann.ir import Death, ProgramIR
from neurosoup.particles.serann.program import interpret
from neurosoup.particles.serann.ribo import corpus_genotypes, default_ribosome
from neurosoup.particles.serann.tokens import VOCAB, tokens_to_text


def _check_all(texts: list[str]) -> None:
    for text in texts:
        result = interpret(text)
        assert isinstance(result, ProgramIR | Death)
        if isinstance(result, Death):
            assert result.kind != "internal", (result, text)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**63 - 1))
def test_random_genotype_batches(seed: int) -> None:
    ribo = default_ribosome()
    _check_all(ribo.decode(random_genotypes(64, torch.Generator().manual_seed(seed))))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), max_size=300))
def test_random_token_strings(tokens: list[str]) -> None:
    _check_all([tokens_to_text(tokens)])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _check_all([text])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 5))
def test_mutated_corpus_genotypes(index: int, n_flips: int) -> None:
    bits = corpus_genotypes()
    g = bits[index % bits.shape[0]].clone()
    rng = np.random.default_rng(index)
    g[rng.choice(100, n_flips, replace=False)] ^= 1
    _check_all(default_ribosome().decode(g[None]))


@pytest.mark.slow
def test_full_scale_fuzz_1e5_genotypes() -> None:
    ribo = default_ribosome()
    gen = torch.Generator().manual_seed(2024)
    for _ in range(50):
        _check_all(ribo.decode(random_genotypes(2000, gen)))
    corpus = corpus_genotypes()
    flips = torch.rand(corpus.shape, generator=gen) < 0.03
    _check_all(ribo.decode(corpus ^ flips.to(torch.uint8)))


@pytest.mark.slow
def test_full_scale_grammar() -> None:
    _check_all(generate_corpus(100_000, seed=77))
