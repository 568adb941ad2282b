r"""Tokeniser and vocabulary of SeRANN programs.

A program is split on the separators ``\\n = ' ( ) [ ] , .`` and ``-``; integers are split into
single digits; words (names, layer constructors, keywords, activation names) are one token each;
whitespace is dropped. The vocabulary has 39 tokens plus ``<PAD>`` (id 0). Rendering tokens back
to text uses one canonical layout (``" = "`` at statement level, ``"="`` inside calls, ``", "``
after commas), so a canonical program round-trips exactly: ``tokens_to_text(text_to_tokens(t))
== t``. The grammar (``grammar.py``) writes its programs in that layout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from neurosoup.particles.errors import ConfigError

PAD = "<PAD>"
SEPARATORS: tuple[str, ...] = ("\n", "=", "'", "(", ")", "[", "]", ",", ".", "-")
DIGITS: tuple[str, ...] = tuple(str(d) for d in range(10))
NAMES: tuple[str, ...] = ("X_layer", "g_layer", "con", "loss_balance")
CONSTRUCTORS: tuple[str, ...] = (
    "Conv2D",
    "MaxPool2D",
    "Dense",
    "BatchNormalization",
    "Conv1D",
    "Reshape",
    "concatenate",
)
KEYWORDS: tuple[str, ...] = (
    "filters",
    "kernel_size",
    "strides",
    "pool_size",
    "units",
    "activation",
)
ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid")

VOCAB: tuple[str, ...] = (PAD, *SEPARATORS, *DIGITS, *NAMES, *CONSTRUCTORS, *KEYWORDS, *ACTIVATIONS)
TOKEN_ID: dict[str, int] = {tok: i for i, tok in enumerate(VOCAB)}
PAD_ID = 0
VOCAB_SIZE = len(VOCAB)
#: The reference's maximum program length in tokens.
MAX_TOKENS = 350
#: Sequence length of the RiboAE at the CPU scale (keeps ~96 % of 8x8 grammar programs).
SEQ_LEN = 256

_SPLIT = re.compile(r"\s+|([\n=\'()\[\],.\-]|\d|[A-Za-z_][A-Za-z0-9_]*)")
_VOCAB_ARRAY = np.array(VOCAB, dtype=object)


def text_to_tokens(text: str) -> list[str]:
    """Split a program into tokens.

    Args:
        text: Program source.

    Returns:
        The tokens, in order; whitespace other than newlines is dropped.

    Raises:
        ConfigError: If the text holds a character or word outside the vocabulary.
    """
    tokens: list[str] = []
    pos = 0
    for match in _SPLIT.finditer(text):
        if match.start() != pos:
            bad = text[pos : match.start()]
            raise ConfigError(f"character(s) {bad!r} are not in the SeRANN vocabulary")
        pos = match.end()
        tok = match.group(1)
        if tok is None:  # whitespace; keep newlines
            tokens.extend("\n" for _ in range(match.group(0).count("\n")))
            continue
        if tok not in TOKEN_ID:
            known = ", ".join(VOCAB[21:])
            raise ConfigError(f"word {tok!r} is not in the SeRANN vocabulary; known words: {known}")
        tokens.append(tok)
    if pos != len(text):
        raise ConfigError(f"character(s) {text[pos:]!r} are not in the SeRANN vocabulary")
    return tokens


def tokens_to_text(tokens: Sequence[str]) -> str:
    """Render tokens in the canonical layout; ``<PAD>`` tokens are skipped.

    Args:
        tokens: Token strings.

    Returns:
        Program text.
    """
    out: list[str] = []
    depth = 0
    for tok in tokens:
        if tok == PAD:
            continue
        if tok in "([":
            depth += 1
            out.append(tok)
        elif tok in ")]":
            depth -= 1
            out.append(tok)
        elif tok == "=":
            out.append(" = " if depth <= 0 else "=")
        elif tok == ",":
            out.append(", ")
        elif tok == "\n":
            depth = 0
            out.append("\n")
        else:
            out.append(tok)
    return "".join(out)


def encode_ids(texts: Sequence[str], seq_len: int = SEQ_LEN) -> np.ndarray:
    """Token ids of programs, padded with ``<PAD>``.

    Args:
        texts: Programs.
        seq_len: Length L of each row.

    Returns:
        ids: [N, L] int64.

    Raises:
        ConfigError: If a program is longer than ``seq_len`` tokens or leaves the vocabulary.
    """
    ids = np.zeros((len(texts), seq_len), dtype=np.int64)
    for i, text in enumerate(texts):
        toks = text_to_tokens(text)
        if len(toks) > seq_len:
            raise ConfigError(
                f"program {i} has {len(toks)} tokens, more than seq_len={seq_len}; "
                "filter the corpus with n_tokens() first"
            )
        ids[i, : len(toks)] = [TOKEN_ID[t] for t in toks]
    return ids


def decode_ids(ids: np.ndarray) -> list[str]:
    """Programs from token ids (``<PAD>`` anywhere is skipped).

    Args:
        ids: [N, L] integer token ids in ``[0, VOCAB_SIZE)``.

    Returns:
        N program texts.
    """
    words = _VOCAB_ARRAY[np.asarray(ids)]
    return [tokens_to_text(row) for row in words]


def n_tokens(text: str) -> int:
    """Number of tokens of a program."""
    return len(text_to_tokens(text))


__all__ = [
    "MAX_TOKENS",
    "PAD",
    "PAD_ID",
    "SEQ_LEN",
    "TOKEN_ID",
    "VOCAB",
    "VOCAB_SIZE",
    "decode_ids",
    "encode_ids",
    "n_tokens",
    "text_to_tokens",
    "tokens_to_text",
]
