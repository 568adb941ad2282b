"""Tokeniser and grammar: vocabulary, round trips, α format, Markov chain, presets."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosoup.particles.errors import ConfigError
from neurosoup.particles.serann.grammar import (
    JOIN_LINE,
    TRANSITIONS,
    GrammarConfig,
    generate_corpus,
    generate_program,
)
from neurosoup.particles.serann.ir import Death, ProgramIR
from neurosoup.particles.serann.program import interpret
from neurosoup.particles.serann.tokens import (
    PAD,
    PAD_ID,
    SEQ_LEN,
    VOCAB,
    VOCAB_SIZE,
    decode_ids,
    encode_ids,
    text_to_tokens,
    tokens_to_text,
)


def test_vocabulary() -> None:
    assert VOCAB[PAD_ID] == PAD
    assert len(set(VOCAB)) == VOCAB_SIZE == 40  # 39 tokens + <PAD>
    for sep in "\n='()[],.":
        assert sep in VOCAB
    assert all(str(d) in VOCAB for d in range(10))


def test_integers_split_into_digits_and_separators_kept() -> None:
    toks = text_to_tokens("X_layer = Dense(units=128, activation='relu')(X_layer)")
    assert toks[:8] == ["X_layer", "=", "Dense", "(", "units", "=", "1", "2"]
    assert toks.count("'") == 2 and "relu" in toks


def test_unknown_word_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="import"):
        text_to_tokens("import os")
    with pytest.raises(ConfigError):
        text_to_tokens("x = 1 + 2")


@pytest.mark.parametrize("size", [8, 28])
def test_grammar_programs_round_trip_and_parse(size: int) -> None:
    import ast

    for text in generate_corpus(300, seed=size, cfg=GrammarConfig.for_image(size)):
        assert tokens_to_text(text_to_tokens(text)) == text
        ast.parse(text)
        lines = text.split("\n")
        assert JOIN_LINE in lines
        assert re.fullmatch(r"loss_balance = [01]\.\d{4}", lines[-1])
        join = lines.index(JOIN_LINE)
        assert all(line.startswith(("X_layer", "g_layer")) for line in lines[:join])
        assert all(line.startswith("con = ") for line in lines[join + 1 : -1])


def test_ids_round_trip_with_padding() -> None:
    progs = generate_corpus(50, seed=1)
    ids = encode_ids(progs)
    assert ids.shape == (50, SEQ_LEN) and (ids[:, -1] == PAD_ID).all()
    assert decode_ids(ids) == progs


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_any_seed_gives_a_well_formed_program(seed: int) -> None:
    text = generate_program(np.random.default_rng(seed))
    result = interpret(text, param_cap=10**9)
    assert isinstance(result, ProgramIR) or result.kind == "shape"
    if isinstance(result, ProgramIR):
        assert 0.0 <= result.alpha <= 1.0


def test_transition_rows_are_distributions() -> None:
    for branch, table in TRANSITIONS.items():
        assert "start" in table, branch
        for state, row in table.items():
            assert sum(p for _, p in row) == pytest.approx(1.0), (branch, state)
            assert all(nxt == "end" or nxt in table for nxt, _ in row)


def test_alpha_is_uniform() -> None:
    progs = generate_corpus(2000, seed=3)
    alphas = np.array([float(p.rsplit("= ", 1)[1]) for p in progs])
    # Kolmogorov-Smirnov distance to U(0, 1); 1.63/sqrt(n) is the 1 % critical value.
    xs = np.sort(alphas)
    ks = np.max(np.abs(xs - np.arange(1, len(xs) + 1) / len(xs)))
    assert ks < 1.63 / np.sqrt(len(xs))


def test_28x28_reference_samplers_are_mostly_valid_and_bigger() -> None:
    small = [interpret(p, param_cap=10**9) for p in generate_corpus(400, seed=2)]
    big = [
        interpret(p, image_shape=(28, 28, 1), param_cap=10**9)
        for p in generate_corpus(400, seed=2, cfg=GrammarConfig.for_image(28))
    ]
    assert np.mean([isinstance(r, Death) for r in big]) < 0.2
    med_small = np.median([r.total_params for r in small if isinstance(r, ProgramIR)])
    med_big = np.median([r.total_params for r in big if isinstance(r, ProgramIR)])
    assert med_big > 3 * med_small


def test_unknown_image_size() -> None:
    with pytest.raises(ConfigError, match="8 or 28"):
        GrammarConfig.for_image(16)
